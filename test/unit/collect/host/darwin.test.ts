/**
 * macOS host collection. Nothing here runs macOS: the command output is captured-format text assembled after public
 * sources (test/fixtures/macos-wifi-vpn-utun-1380/README.md names them), not output of a command run here. A fake exec
 * returns it for `ifconfig -a` and `route -n get`.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseIfconfig, parseRouteGetDarwin } from '../../../../src/collect/host/darwin.js';
import { addUplinks, collectHost } from '../../../../src/collect/host/host.js';
import type { Exec, ExecResult } from '../../../../src/util/exec.js';
import type { ProbeResult } from '../../../../src/model/report.js';

const dir = 'macos-wifi-vpn-utun-1380';
const fixture = (p: string) => readFile(new URL(`../../../fixtures/${dir}/${p}`, import.meta.url), 'utf8');

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });

/** What the Mac of the fixture answers; every call is recorded. */
async function fakeMac(): Promise<{ exec: Exec; calls: string[] }> {
  const [ifconfig, viaEn0, viaVpn, notInTable] = await Promise.all([
    fixture('ifconfig-a.txt'),
    fixture('route-get-104.16.2.35.txt'),
    fixture('route-get-10.20.0.15.txt'),
    fixture('route-get-not-in-table.stderr.txt'),
  ]);
  const calls: string[] = [];
  const exec: Exec = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    if (cmd === 'ifconfig') return ok(ifconfig);
    if (cmd === 'route' && args.at(-1) === '104.16.2.35') return ok(viaEn0);
    if (cmd === 'route' && args.at(-1) === '10.20.0.15') return ok(viaVpn);
    if (cmd === 'route') return { code: 1, stdout: '', stderr: notInTable };
    return { code: null, stdout: '', stderr: '', error: { code: 'ENOENT', message: `${cmd} not found` } };
  };
  return { exec, calls };
}

const probe = (host: string, address: string) => ({ host, address }) as unknown as ProbeResult;

describe('macOS: ifconfig -a', () => {
  it('reads each interface, its MTU, its link state and a bridge’s members', async () => {
    const ifs = parseIfconfig(await fixture('ifconfig-a.txt'));
    const by = Object.fromEntries(ifs.map((i) => [i.name, i]));
    expect(ifs.map((i) => i.name)).toEqual([
      'lo0',
      'gif0',
      'stf0',
      'en0',
      'en1',
      'p2p0',
      'bridge100',
      'vmenet0',
      'utun0',
      'utun4',
    ]);
    expect(by.lo0).toMatchObject({ mtu: 16384, kind: 'loopback', state: 'up' });
    expect(by.en0).toMatchObject({ mtu: 1500, kind: 'physical', state: 'up' });
    // UP in the flags but `status: inactive`: no link.
    expect(by.en1).toMatchObject({ kind: 'physical', state: 'down' });
    expect(by.gif0).toMatchObject({ mtu: 1280, state: 'down' });
    expect(by.bridge100).toMatchObject({ mtu: 1500, kind: 'bridge', ports: ['vmenet0'] });
    expect(by.utun4).toMatchObject({ mtu: 1380, kind: 'tun', state: 'up' });
  });
});

describe('macOS: route -n get', () => {
  it('takes the interface, the gateway and the mtu column', async () => {
    expect(parseRouteGetDarwin(await fixture('route-get-10.20.0.15.txt'))).toEqual({
      iface: 'utun4',
      gateway: '10.8.0.6',
      routeMtu: 1380,
    });
    expect(parseRouteGetDarwin('route: writing to routing socket: not in table\n')).toEqual({});
  });

  it('reads a locked mtu (route.c prints "%8u%c": 1400L) and a route without a gateway', () => {
    const text = [
      '   route to: 192.168.1.40',
      'destination: 192.168.1.0',
      '       mask: 255.255.255.0',
      '  interface: en0',
      '      flags: <UP,DONE,CLONING,STATIC>',
      ' recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire',
      '       0         0         0         0         0         0      1400L        0 ',
    ].join('\n');
    expect(parseRouteGetDarwin(text)).toEqual({ iface: 'en0', routeMtu: 1400 });
  });
});

describe('macOS: ifconfig with a metric', () => {
  it('reads the mtu after ` metric N` (printed when the metric is not 0)', () => {
    const ifs = parseIfconfig('en5: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> metric 10 mtu 1492\n');
    expect(ifs).toEqual([{ name: 'en5', mtu: 1492, state: 'up', kind: 'physical' }]);
  });
});

describe('macOS: the host layer', () => {
  it('has the interfaces, each target’s uplink and MTU, and says what it could not see', async () => {
    const { exec, calls } = await fakeMac();
    const deps = { root: '/', exec, platform: 'darwin' as const };
    const scan = await collectHost(deps);
    const notes = await addUplinks(
      scan,
      [probe('registry.npmjs.org', '104.16.2.35'), probe('git.corp', '10.20.0.15'), probe('gone', '198.51.100.9')],
      deps,
    );
    const layer = scan.layer;
    expect(layer.kind === 'host' && layer.platform).toBe('darwin');
    expect(layer.interfaces).toHaveLength(10);
    expect(layer.uplinks).toEqual([
      {
        target: 'registry.npmjs.org',
        address: '104.16.2.35',
        iface: 'en0',
        ifaceMtu: 1500,
        effectiveMtu: 1500,
        kind: 'physical',
        gateway: '192.168.1.1',
      },
      expect.objectContaining({ target: 'git.corp', iface: 'utun4', effectiveMtu: 1380, kind: 'tun' }),
    ]);
    // The narrowest uplink is the layer's MTU.
    expect(layer.mtu).toBe(1380);
    expect(layer.notes[0]).toMatch(/^macOS host: interfaces and MTUs from ifconfig -a/);
    expect(layer.notes[0]).toMatch(/Not visible from here: the Linux VM .*Docker Desktop, colima, podman machine/);
    expect(notes).toEqual([
      expect.stringMatching(/route -n get 198\.51\.100\.9 failed .*uplink to 198\.51\.100\.9 is unknown/),
    ]);
    expect(calls).toContain('ifconfig -a');
    // Nothing Linux-only was run.
    expect(calls.some((c) => c.startsWith('ip '))).toBe(false);
  });

  it('asks route for an IPv6 address with -inet6', async () => {
    const { exec, calls } = await fakeMac();
    const deps = { root: '/', exec, platform: 'darwin' as const };
    await addUplinks(await collectHost(deps), [probe('v6', '2606:4700::1')], deps);
    expect(calls).toContain('route -n get -inet6 2606:4700::1');
  });

  it('names ifconfig when it cannot run, and keeps going', async () => {
    const exec: Exec = async (cmd) => ({ code: null, stdout: '', stderr: '', error: { code: 'ENOENT', message: cmd } });
    const scan = await collectHost({ root: '/', exec, platform: 'darwin' });
    expect(scan.layer.interfaces).toEqual([]);
    expect(scan.layer.notes).toContain('ifconfig -a failed (ENOENT): interfaces and uplink MTUs unknown');
  });
});
