import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  lookupRoute,
  parseIpRouteGet,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  resolveUplink,
} from '../../../../src/collect/host/routes.js';
import type { NetInterface } from '../../../../src/model/report.js';

const fixture = (p: string) => readFile(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');

describe('routes', () => {
  it('parses /proc/net/route of this machine: default via 192.0.2.1 on eth0', async () => {
    const routes = parseProcNetRoute(await fixture('host-eth0-1400/proc-net-route.txt'));
    expect(routes).toEqual([
      { family: 4, destination: '0.0.0.0', prefixLength: 0, gateway: '192.0.2.1', iface: 'eth0', metric: 0 },
      { family: 4, destination: '192.0.2.0', prefixLength: 24, iface: 'eth0', metric: 0 },
    ]);
    expect(lookupRoute(routes, '104.16.0.1')?.gateway).toBe('192.0.2.1');
    expect(lookupRoute(routes, '192.0.2.77')?.prefixLength).toBe(24);
  });

  it('parses /proc/net/ipv6_route, skipping reject routes and lo', async () => {
    const routes = parseProcNetIpv6Route(await fixture('host-eth0-1400/proc-net-ipv6_route.txt'));
    const def = routes.find((r) => r.prefixLength === 0);
    expect(def).toMatchObject({ family: 6, destination: '::', gateway: 'fd00::1', iface: 'eth0', metric: 1024 });
    expect(routes.every((r) => r.iface !== 'lo')).toBe(true);
    expect(lookupRoute(routes, '2606:4700::1')?.gateway).toBe('fd00::1');
    expect(lookupRoute(routes, 'fd00::42')?.prefixLength).toBe(64);
  });

  it('picks the longest prefix, then the lowest metric', () => {
    const routes = [
      { family: 4 as const, destination: '0.0.0.0', prefixLength: 0, iface: 'eth0', metric: 100 },
      { family: 4 as const, destination: '0.0.0.0', prefixLength: 0, iface: 'wg0', metric: 50 },
      { family: 4 as const, destination: '10.0.0.0', prefixLength: 8, iface: 'flannel.1', metric: 0 },
    ];
    expect(lookupRoute(routes, '8.8.8.8')?.iface).toBe('wg0');
    expect(lookupRoute(routes, '10.1.2.3')?.iface).toBe('flannel.1');
  });

  it('reads route-level and learned MTUs from ip route get', () => {
    expect(
      parseIpRouteGet('1.1.1.1 via 10.0.0.1 dev eth0 src 10.0.0.2 uid 0 \n    cache mtu 1400 expires 598sec'),
    ).toEqual({
      iface: 'eth0',
      gateway: '10.0.0.1',
      cachedPmtu: 1400,
    });
    expect(parseIpRouteGet('1.1.1.1 via 10.0.0.1 dev eth0 src 10.0.0.2 uid 0 \n    cache mtu lock 1380')).toMatchObject(
      { cachedPmtu: 1380 },
    );
    expect(parseIpRouteGet('1.1.1.1 dev wg0 table 51820 src 10.8.0.2 uid 0 mtu 1380 \\    cache')).toMatchObject({
      iface: 'wg0',
      routeMtu: 1380,
    });
  });

  it('resolves the uplink per target, honouring a route mtu and explaining tunnels', () => {
    const ifs: NetInterface[] = [
      { name: 'eth0', mtu: 1500, state: 'up', kind: 'physical' },
      { name: 'flannel.1', mtu: 1450, state: 'unknown', kind: 'vxlan', tunnelOverhead: 50 },
    ];
    const routes = [
      { family: 4 as const, destination: '0.0.0.0', prefixLength: 0, gateway: '10.0.0.1', iface: 'eth0', metric: 0 },
      { family: 4 as const, destination: '10.244.0.0', prefixLength: 16, iface: 'flannel.1', metric: 0 },
    ];
    expect(resolveUplink('npm', '104.16.1.1', routes, ifs)).toMatchObject({
      iface: 'eth0',
      effectiveMtu: 1500,
      gateway: '10.0.0.1',
    });
    const tunnel = resolveUplink('svc', '10.244.3.9', routes, ifs);
    expect(tunnel).toMatchObject({ iface: 'flannel.1', effectiveMtu: 1450, kind: 'vxlan' });
    expect(tunnel?.explanation).toContain('1500 - 50 bytes of VXLAN overhead');
    const clamped = resolveUplink('npm', '104.16.1.1', routes, ifs, { iface: 'eth0', routeMtu: 1400 });
    expect(clamped).toMatchObject({ effectiveMtu: 1400, routeMtu: 1400 });
    expect(clamped?.explanation).toBe('the route to 104.16.1.1 sets mtu 1400');
  });

  it('gives a loopback target the lo interface and no gateway', () => {
    const ifs: NetInterface[] = [
      { name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' },
      { name: 'lo', mtu: 65536, state: 'unknown', kind: 'loopback' },
    ];
    const routes = [
      { family: 4 as const, destination: '0.0.0.0', prefixLength: 0, gateway: '192.0.2.1', iface: 'eth0', metric: 0 },
    ];
    const up = resolveUplink('local', '127.0.0.1', routes, ifs);
    expect(up).toMatchObject({ iface: 'lo', effectiveMtu: 65536 });
    expect(up?.gateway).toBeUndefined();
    expect(
      resolveUplink(
        'local',
        '127.0.0.1',
        routes,
        ifs,
        parseIpRouteGet('local 127.0.0.1 dev lo table local src 127.0.0.1 uid 0'),
      )?.gateway,
    ).toBeUndefined();
  });
});
