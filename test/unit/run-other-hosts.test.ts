/**
 * run() on macOS and Windows. Nothing here runs either: a fake exec answers `ifconfig`/`route` and
 * `netsh`/PowerShell with text in their output format, assembled after public sources
 * (test/fixtures/macos-wifi-vpn-utun-1380/README.md, test/fixtures/windows-wifi-vpn-1400/README.md), not captured
 * from a command run here. The probe is real, against a loopback server.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exec, ExecResult } from '../../src/util/exec.js';
import { parseOptions } from '../../src/config/options.js';
import { renderJson } from '../../src/render/json.js';
import { renderText } from '../../src/render/text.js';
import { run, type RunDeps } from '../../src/run.js';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
const missing = (cmd: string): ExecResult => ({
  code: null,
  stdout: '',
  stderr: '',
  error: { code: 'ENOENT', message: cmd },
});

// route -n get 127.0.0.1 on a Mac: the loopback route, in route.c's format (lo0's MTU 16384 in the table).
const ROUTE_LO0 = [
  '   route to: 127.0.0.1',
  'destination: 127.0.0.1',
  '  interface: lo0',
  '      flags: <UP,HOST,DONE,LOCAL>',
  ' recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire',
  '   49152     49152         0         0         0         0     16384         0 ',
].join('\n');

const EXEC: Record<'darwin' | 'win32', Exec> = {
  darwin: async (cmd, args) => {
    if (cmd === 'ifconfig') return ok(fixture('macos-wifi-vpn-utun-1380/ifconfig-a.txt'));
    if (cmd === 'route' && args.at(-1) === '127.0.0.1') return ok(ROUTE_LO0);
    return missing(cmd);
  },
  win32: async (cmd, args) => {
    if (cmd === 'netsh') return ok(fixture(`windows-wifi-vpn-1400/netsh-${args[1]}-subinterfaces.txt`));
    if (cmd === 'powershell.exe' && args.at(-1)!.includes("'127.0.0.1'"))
      return ok(
        '[{"InterfaceAlias":"Loopback Pseudo-Interface 1","NextHop":null,"DestinationPrefix":null},{"InterfaceAlias":"Loopback Pseudo-Interface 1","NextHop":"0.0.0.0","DestinationPrefix":"127.0.0.0/8"}]',
      );
    return missing(cmd);
  },
};

let server: http.Server;
let port = 0;
beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': 64 * 1024 });
    res.end(Buffer.alloc(64 * 1024, 0x62));
  });
  port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function deps(platform: 'darwin' | 'win32'): { d: RunDeps; commands: string[] } {
  const commands: string[] = [];
  const exec: Exec = (cmd, args, o) => {
    commands.push([cmd, ...args].join(' '));
    return EXEC[platform](cmd, args, o);
  };
  return {
    commands,
    d: {
      root: '/',
      exec,
      env: {},
      now: () => performance.now(),
      platform,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    },
  };
}
const options = () =>
  parseOptions([
    {
      source: 'flag',
      values: {
        registries: 'none',
        url: [`http://preflight.test:${port}/big`],
        timeout: '5',
        'stall-timeout': '1',
        'max-bytes': '16K',
        docker: 'off',
        lint: 'false',
      },
    },
  ]);

describe('run() on a macOS host', () => {
  it('probes, reads interfaces and the route to the target, says what it cannot see, runs no Linux command', async () => {
    const { d, commands } = deps('darwin');
    const report = await run(options(), d);
    expect(report.verdict).toBe('pass');
    const host = report.layers[0]!;
    expect(host.interfaces.map((i) => `${i.name}:${i.mtu}`)).toContain('utun4:1380');
    expect(host.uplinks).toEqual([
      expect.objectContaining({ address: '127.0.0.1', iface: 'lo0', ifaceMtu: 16384, effectiveMtu: 16384 }),
    ]);
    expect(report.uplinkMtu).toBe(16384);
    expect(host.notes[0]).toMatch(/^macOS host: .*Not visible from here: the Linux VM/);
    // Its bridge100 (colima's vmnet) is above en0 but is no container bridge: no finding.
    expect(report.findings).toEqual([]);
    expect(commands).toEqual(['ifconfig -a', 'route -n get 127.0.0.1']);
    expect(renderText(report, { color: false })).toContain('Not visible from here: the Linux VM');
    const json = JSON.parse(renderJson(report)) as { layers: Array<{ facts?: Record<string, unknown> }> };
    expect(json.layers[0]!.facts).toEqual({ platform: 'darwin' });
  });
});

describe('run() on a Windows host', () => {
  it('probes, reads netsh and Find-NetRoute, says what it cannot see', async () => {
    const { d, commands } = deps('win32');
    const report = await run(options(), d);
    expect(report.verdict).toBe('pass');
    const host = report.layers[0]!;
    expect(host.interfaces.map((i) => i.name)).toEqual([
      'Loopback Pseudo-Interface 1',
      'Wi-Fi',
      'Ethernet',
      'vEthernet (WSL (Hyper-V firewall))',
      'Corp VPN',
    ]);
    expect(host.uplinks).toEqual([
      expect.objectContaining({ address: '127.0.0.1', iface: 'Loopback Pseudo-Interface 1', kind: 'loopback' }),
    ]);
    expect(host.notes[0]).toMatch(/^Windows host: .*Not visible from here: the Linux VM/);
    expect(commands.slice(0, 2)).toEqual([
      'netsh interface ipv4 show subinterfaces',
      'netsh interface ipv6 show subinterfaces',
    ]);
    expect(commands.some((c) => c.startsWith('ip ') || c.startsWith('ss '))).toBe(false);
  });
});
