import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  classifyInterface,
  explainMtu,
  parseSysClassNet,
  type SysNetSnapshot,
} from '../../../../src/collect/host/interfaces.js';

const fixture = (p: string) => readFile(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');

describe('parseSysClassNet', () => {
  it('reads this machine: eth0 1400 on a virtio device, loopback, idle ifb devices', async () => {
    const snap = JSON.parse(await fixture('host-eth0-1400/sysfs.json')) as SysNetSnapshot;
    const ifs = parseSysClassNet(snap);
    expect(ifs.find((i) => i.name === 'eth0')).toEqual({ name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' });
    expect(ifs.find((i) => i.name === 'lo')?.kind).toBe('loopback');
    expect(ifs.map((i) => i.name)).toEqual(['eth0', 'ifb0', 'ifb1', 'lo']);
  });

  it.each([
    ['flannel.1', { type: '1', uevent: 'DEVTYPE=vxlan', mtu: '1450' }, 'vxlan'],
    ['genev_sys_6081', { type: '1', uevent: 'DEVTYPE=geneve', mtu: '1442' }, 'geneve'],
    ['wg0', { type: '65534', uevent: 'DEVTYPE=wireguard', mtu: '1420' }, 'wireguard'],
    ['tunl0', { type: '768', mtu: '1480' }, 'ipip'],
    ['tailscale0', { type: '65534', tunFlags: '0x1001', mtu: '1280' }, 'tun'],
    ['tap0', { type: '1', tunFlags: '0x1002', mtu: '1500' }, 'tap'],
    ['docker0', { type: '1', uevent: 'DEVTYPE=bridge', brif: ['veth1'], mtu: '1500' }, 'bridge'],
    ['eth0', { type: '1', ifindex: '5', iflink: '6', mtu: '1450' }, 'veth'],
    ['ppp0', { type: '512', mtu: '1492' }, 'ppp'],
  ] as const)('classifies %s as %s', (name, entry, kind) => {
    expect(classifyInterface(name, { ...entry } as never)).toBe(kind);
  });

  it('records bridge ports and masters', () => {
    const ifs = parseSysClassNet({
      docker0: { mtu: '1500', operstate: 'up', type: '1', uevent: 'DEVTYPE=bridge', brif: ['veth9'] },
      veth9: { mtu: '1500', operstate: 'up', type: '1', ifindex: '9', iflink: '8', master: 'docker0' },
    });
    expect(ifs[0]).toMatchObject({ name: 'docker0', kind: 'bridge', ports: ['veth9'] });
    expect(ifs[1]).toMatchObject({ name: 'veth9', kind: 'veth', master: 'docker0' });
  });
});

describe('explainMtu', () => {
  it('names the overhead arithmetic of common tunnels', () => {
    expect(explainMtu({ name: 'flannel.1', mtu: 1450, kind: 'vxlan' })).toBe(
      'flannel.1 is a VXLAN tunnel: 1450 = 1500 - 50 bytes of VXLAN overhead',
    );
    expect(explainMtu({ name: 'tunl0', mtu: 1480, kind: 'ipip' })).toContain(
      '1480 = 1500 - 20 bytes of IP-in-IP overhead',
    );
    expect(explainMtu({ name: 'wg0', mtu: 1420, kind: 'wireguard' })).toContain('WireGuard adds 60 bytes');
    expect(explainMtu({ name: 'tailscale0', mtu: 1280, kind: 'tun' })).toContain('Tailscale uses MTU 1280');
    expect(explainMtu({ name: 'eth0', mtu: 1500, kind: 'physical' })).toBeUndefined();
  });
});
