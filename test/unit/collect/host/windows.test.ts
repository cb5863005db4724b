/**
 * Windows host collection. Nothing here runs Windows: the command output is captured-format text assembled after
 * public sources (test/fixtures/windows-wifi-vpn-1400/README.md names them), not output of a command run here. A fake
 * exec returns it for netsh and PowerShell's Find-NetRoute.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  parseFindNetRoute,
  parseNetshSubinterfaces,
  subinterfacesToInterfaces,
} from '../../../../src/collect/host/windows.js';
import { addUplinks, collectHost } from '../../../../src/collect/host/host.js';
import type { Exec, ExecResult } from '../../../../src/util/exec.js';
import type { ProbeResult } from '../../../../src/model/report.js';

const dir = 'windows-wifi-vpn-1400';
const fixture = (p: string) => readFile(new URL(`../../../fixtures/${dir}/${p}`, import.meta.url), 'utf8');
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
const probe = (host: string, address: string) => ({ host, address }) as unknown as ProbeResult;

async function fakeWindows(opts: { powershell?: boolean } = {}): Promise<{ exec: Exec; calls: string[][] }> {
  const files = {
    ipv4: await fixture('netsh-ipv4-subinterfaces.txt'),
    ipv6: await fixture('netsh-ipv6-subinterfaces.txt'),
    '104.16.2.35': await fixture('find-netroute-104.16.2.35.json'),
    '10.20.0.15': await fixture('find-netroute-10.20.0.15.json'),
    '2606:4700::1': await fixture('find-netroute-2606-4700--1.json'),
  } as Record<string, string>;
  const calls: string[][] = [];
  const exec: Exec = async (cmd, args) => {
    calls.push([cmd, ...args]);
    if (cmd === 'netsh') return ok(files[args[1]!]!);
    if (cmd === 'powershell.exe' && opts.powershell !== false) {
      const address = /'([^']+)'/.exec(args.at(-1)!)?.[1] ?? '';
      // Find-NetRoute with no route writes an error record and exits 1.
      return files[address] ? ok(files[address]) : { code: 1, stdout: '', stderr: 'Find-NetRoute : ...' };
    }
    return { code: null, stdout: '', stderr: '', error: { code: 'ENOENT', message: `${cmd} not found` } };
  };
  return { exec, calls };
}

describe('Windows: netsh interface ipv4 show subinterfaces', () => {
  it('reads each row, names with spaces and parentheses whole', async () => {
    const rows = parseNetshSubinterfaces(await fixture('netsh-ipv4-subinterfaces.txt'));
    expect(rows).toEqual([
      { name: 'Loopback Pseudo-Interface 1', mtu: 4294967295, mediaSenseState: 1 },
      { name: 'Wi-Fi', mtu: 1500, mediaSenseState: 1 },
      { name: 'Ethernet', mtu: 1500, mediaSenseState: 5 },
      { name: 'vEthernet (WSL (Hyper-V firewall))', mtu: 1500, mediaSenseState: 1 },
      { name: 'Corp VPN', mtu: 1400, mediaSenseState: 1 },
    ]);
    expect(subinterfacesToInterfaces(rows).map((i) => [i.name, i.kind, i.state])).toEqual([
      ['Loopback Pseudo-Interface 1', 'loopback', 'up'],
      ['Wi-Fi', 'physical', 'up'],
      ['Ethernet', 'physical', 'down'],
      ['vEthernet (WSL (Hyper-V firewall))', 'other', 'up'],
      ['Corp VPN', 'tun', 'up'],
    ]);
  });
});

describe('Windows: Find-NetRoute', () => {
  it('takes the route’s interface and next hop; on-link has no gateway', async () => {
    expect(parseFindNetRoute(await fixture('find-netroute-104.16.2.35.json'))).toEqual({
      iface: 'Wi-Fi',
      gateway: '192.168.1.1',
    });
    expect(parseFindNetRoute(await fixture('find-netroute-10.20.0.15.json'))).toEqual({ iface: 'Corp VPN' });
    expect(parseFindNetRoute('not json')).toEqual({});
  });
});

describe('Windows: the host layer', () => {
  it('has the interfaces, each target’s uplink (IPv6 with its own MTU), and says what it could not see', async () => {
    const { exec, calls } = await fakeWindows();
    const deps = { root: '/', exec, platform: 'win32' as const };
    const scan = await collectHost(deps);
    const notes = await addUplinks(
      scan,
      [
        probe('registry.npmjs.org', '104.16.2.35'),
        probe('git.corp', '10.20.0.15'),
        probe('registry.npmjs.org', '2606:4700::1'),
        probe('nowhere', '198.51.100.9'),
      ],
      deps,
    );
    const layer = scan.layer;
    expect(layer.kind === 'host' && layer.platform).toBe('win32');
    expect(layer.uplinks.map((u) => [u.address, u.iface, u.effectiveMtu, u.gateway])).toEqual([
      ['104.16.2.35', 'Wi-Fi', 1500, '192.168.1.1'],
      ['10.20.0.15', 'Corp VPN', 1400, undefined],
      // netsh ipv6 says Wi-Fi is 1480 for IPv6.
      ['2606:4700::1', 'Wi-Fi', 1480, 'fe80::1'],
    ]);
    expect(layer.mtu).toBe(1400);
    expect(layer.notes[0]).toMatch(/^Windows host: interface MTUs from netsh .* PowerShell Find-NetRoute/);
    expect(layer.notes[0]).toMatch(/Not visible from here: the Linux VM/);
    expect(notes).toEqual([
      'PowerShell Find-NetRoute -RemoteIPAddress 198.51.100.9 failed (exit 1): the uplink to 198.51.100.9 is unknown',
    ]);
    // The address reaches PowerShell only as a quoted literal.
    expect(calls.find((c) => c[0] === 'powershell.exe')?.slice(0, 3)).toEqual([
      'powershell.exe',
      '-NoProfile',
      '-NonInteractive',
    ]);
  });

  it('without PowerShell: the MTUs stand, each uplink is named as unknown', async () => {
    const { exec } = await fakeWindows({ powershell: false });
    const deps = { root: '/', exec, platform: 'win32' as const };
    const scan = await collectHost(deps);
    const notes = await addUplinks(scan, [probe('registry.npmjs.org', '104.16.2.35')], deps);
    expect(scan.layer.interfaces.length).toBe(5);
    expect(scan.layer.uplinks).toEqual([]);
    expect(scan.layer.mtu).toBeUndefined();
    expect(notes).toEqual([expect.stringMatching(/Find-NetRoute -RemoteIPAddress 104\.16\.2\.35 failed \(ENOENT\)/)]);
  });

  it('names netsh when it cannot run', async () => {
    const exec: Exec = async () => ({ code: 1, stdout: '', stderr: 'The following command was not found' });
    const scan = await collectHost({ root: '/', exec, platform: 'win32' });
    expect(scan.layer.notes).toContain(
      'netsh interface ipv4 show subinterfaces failed (exit 1): interfaces and uplink MTUs unknown',
    );
  });
});
