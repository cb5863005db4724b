/**
 * Issue 5: run() where it cannot see the machine: not Linux (no /sys/class/net, no ss), and a Linux root without
 * sys/ or proc/. The probe still runs (against a loopback server here) and decides the verdict; the report says what
 * was not seen, in every format.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exec } from '../../src/util/exec.js';
import { parseOptions } from '../../src/config/options.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { renderText } from '../../src/render/text.js';
import { run, type RunDeps } from '../../src/run.js';

let server: http.Server;
let port = 0;
let emptyRoot: string;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': 64 * 1024 });
    res.end(Buffer.alloc(64 * 1024, 0x62));
  });
  port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  emptyRoot = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-no-sys-'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(emptyRoot, { recursive: true, force: true });
});

function deps(platform: NodeJS.Platform, root: string) {
  const commands: string[] = [];
  const exec: Exec = async (cmd, args) => {
    commands.push([cmd, ...args].join(' '));
    return { code: null, stdout: '', stderr: '', error: { code: 'ENOENT', message: `${cmd}: not installed` } };
  };
  const d: RunDeps = {
    root,
    exec,
    env: {},
    now: () => performance.now(),
    platform,
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
  };
  return { d, commands };
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
      },
    },
  ]);

describe('run() degraded but correct', () => {
  // macOS and Windows have their own collectors now (test/unit/run-other-hosts.test.ts): an OS with none stands here.
  it('not Linux (freebsd): probes and passes; says the interface audit was skipped; runs no Linux command', async () => {
    const { d, commands } = deps('freebsd', '/');
    const report = await run(options(), d);
    expect(report.verdict).toBe('pass');
    expect(report.findings).toEqual([]);
    const host = report.layers[0]!;
    expect(host.probes[0]).toMatchObject({ outcome: 'ok', capped: true, address: '127.0.0.1' });
    expect(host.interfaces).toEqual([]);
    expect(report.uplinkMtu).toBeUndefined();
    expect(host.notes).toEqual([
      'interface audit skipped: freebsd is not Linux (no /sys/class/net); the probes still ran',
    ]);
    // The lint's notes are its own (report.lint), no longer the host layer's; the text still says them with the host.
    expect(report.lint).toEqual({
      notes: ['CI config lint skipped: the uplink MTU is unknown; give it with assume-mtu'],
    });
    expect(renderText(report, { color: false })).toContain('CI config lint skipped: the uplink MTU is unknown');
    expect(commands).toEqual([]);
    expect(renderText(report, { color: false })).toContain('interface audit skipped: freebsd is not Linux');
    expect(renderMarkdown(report)).toContain('interface audit skipped: freebsd is not Linux');
  });

  it('Linux with no sys/ and no proc/ under its root: probes and passes; notes for each thing not seen', async () => {
    const { d } = deps('linux', emptyRoot);
    const report = await run(options(), d);
    expect(report.verdict).toBe('pass');
    const host = report.layers[0]!;
    expect(host.probes[0]).toMatchObject({ outcome: 'ok' });
    expect(host.notes).toEqual([
      'could not read /sys/class/net (ENOENT): interfaces and uplink MTUs unknown',
      'could not read /proc/net/route: IPv4 uplinks unknown',
    ]);
    expect(report.lint?.notes).toEqual(['CI config lint skipped: the uplink MTU is unknown; give it with assume-mtu']);
  });

  it('not Linux, and the probe stalls: transfer-stall (no ss to corroborate a black hole), by the deadline', async () => {
    const silent = http.createServer(() => undefined);
    const silentPort = await new Promise<number>((resolve) =>
      silent.listen(0, '127.0.0.1', () => resolve((silent.address() as net.AddressInfo).port)),
    );
    try {
      const { d, commands } = deps('freebsd', '/');
      const o = parseOptions([
        {
          source: 'flag',
          values: {
            registries: 'none',
            url: [`http://preflight.test:${silentPort}/big`],
            timeout: '3',
            'stall-timeout': '0.5',
            docker: 'off',
            lint: 'false',
          },
        },
      ]);
      const t0 = performance.now();
      const report = await run(o, d);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(report.findings.map((f) => f.code)).toEqual(['transfer-stall']);
      expect(report.layers[0]!.probes[0]!.tcpInfo).toBeUndefined();
      expect(commands).toEqual([]);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
