/**
 * The live progress as a user sees it on a terminal: the bundled CLI runs inside a 100x30 tmux pane (a real
 * pseudo-terminal with a real terminal emulator), probing three loopback HTTPS servers (127.0.0.1-3) that drip
 * their bodies for a few seconds, and the pane is read back with `tmux capture-pane` while it runs and after.
 * Before the fix the three targets were one line longer than the pane and each redraw left a stale line in the
 * scrollback; under `script`, where no width is known, the line was cut to three characters.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './cli.js';

const COLUMNS = 100;
const ROWS = 30;
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
/** A progress line: the host padded to 24 columns, then the phase or outcome (src/render/progress.ts). */
const PROGRESS_LINE = /^127\.0\.0\.[123] {16}\S/;
const IN_FLIGHT = /connecting|TLS handshake|waiting for response|downloading/;
/** The report's first line: tool, version, verdict. */
const REPORT_HEADER = /^mtu-preflight \S+ +(PASS|WARN|FAIL) /m;

let work: string;
let caFile: string;
let targets: string[];
const servers: https.Server[] = [];
const sockets = new Set<net.Socket>();
/** A tmux server of our own, its socket in the test's folder: no other tmux session is touched, nothing is left. */
const tmux = (...args: string[]) =>
  spawnSync('tmux', ['-S', path.join(work, 'tmux.sock'), ...args], { encoding: 'utf8' });

/** 64 KiB in 4 KiB drops every 150 ms (about 2.4 s), after `headerDelayMs`: the progress stays on screen a while. */
function dripServer(key: Buffer, cert: Buffer, headerDelayMs: number): https.Server {
  return https.createServer({ key, cert }, (_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 64 * 1024 });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(Buffer.alloc(4096, 0x5a));
        sent += 4096;
        if (sent >= 64 * 1024) {
          clearInterval(timer);
          res.end();
        }
      }, 150);
      res.on('close', () => clearInterval(timer));
    }, headerDelayMs);
  });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-progress-'));
  const keyFile = path.join(work, 'key.pem');
  caFile = path.join(work, 'cert.pem');
  const san = `subjectAltName=${HOSTS.map((h) => `IP:${h}`).join(',')}`;
  const gen = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      san,
    ],
    {
      encoding: 'utf8',
    },
  );
  if (gen.status !== 0) throw new Error(`openssl could not make a test certificate: ${gen.stderr}`);
  const key = readFileSync(keyFile);
  const cert = readFileSync(caFile);
  targets = [];
  for (const [i, host] of HOSTS.entries()) {
    // The second waits before answering, so its line says "waiting for response" while the others download.
    const server = dripServer(key, cert, i === 1 ? 600 : 0);
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    servers.push(server);
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    targets.push(`https://${host}:${port}/blob-${i + 1}`);
  }
});

afterAll(async () => {
  tmux('kill-server');
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  tmux('kill-server');
});

/** A script that runs the CLI as a user would (no proxies, no extra CAs), then says how it ended and waits. */
function writeRunner(name: string): string {
  const file = path.join(work, name);
  const args = [
    '--registries',
    'none',
    ...targets.flatMap((t) => ['--url', t]),
    '--ca-file',
    caFile,
    '--docker',
    'off',
    '--no-lint',
    '--timeout',
    '30',
  ];
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      `cd ${quote(work)}`,
      'unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy NODE_EXTRA_CA_CERTS',
      'export NO_COLOR=1',
      `${quote(process.execPath)} ${quote(CLI)} ${args.map(quote).join(' ')}`,
      'echo "__EXIT $?"',
    ].join('\n') + '\n',
    { mode: 0o755 },
  );
  return file;
}

/** The pane, wrapped lines joined back (-J): a line drawn wider than the pane comes back wider than the pane. */
function capture(scrollback: boolean): string[] {
  const r = tmux('capture-pane', '-p', '-J', '-t', 'progress', ...(scrollback ? ['-S', '-'] : []));
  if (r.status !== 0) throw new Error(`tmux capture-pane failed: ${r.stderr}`);
  return r.stdout.replace(/\n+$/, '').split('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live progress in a 100x30 tmux pane', () => {
  it('one line per target, none wider than the pane, redrawn in place; afterwards only the report', async () => {
    const runner = writeRunner('run-tmux.sh');
    // `exec sleep` keeps the pane (and what it shows) after the CLI has ended.
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      'progress',
      '-x',
      String(COLUMNS),
      '-y',
      String(ROWS),
      `sh ${runner}; exec sleep 600`,
    );
    expect(started.status, started.stderr).toBe(0);

    const whileRunning: string[][] = [];
    const deadline = Date.now() + 40_000;
    let after: string[] = [];
    while (Date.now() < deadline) {
      const screen = capture(false);
      if (screen.some((l) => l.startsWith('__EXIT '))) {
        after = screen;
        break;
      }
      whileRunning.push(screen);
      await sleep(100);
    }
    expect(after.length, 'the CLI did not end within 40 s').toBeGreaterThan(0);

    for (const screen of whileRunning) {
      for (const line of screen) expect(line.length, line).toBeLessThanOrEqual(COLUMNS);
      const progress = screen.filter((l) => PROGRESS_LINE.test(l));
      // At most one line per target, never one line per update.
      expect(progress.length).toBeLessThanOrEqual(HOSTS.length);
      expect(new Set(progress.map((l) => l.split(' ')[0])).size).toBe(progress.length);
    }
    // Seen for a while: frames with all three targets on their own line, in flight.
    const full = whileRunning.filter(
      (s) => s.filter((l) => PROGRESS_LINE.test(l) && IN_FLIGHT.test(l)).length === HOSTS.length,
    );
    expect(full.length, whileRunning.map((s) => s.join('\n')).join('\n----\n')).toBeGreaterThan(3);
    expect(
      full.some((s) => s.some((l) => l.includes('waiting for response')) && s.some((l) => l.includes('downloading'))),
    ).toBe(true);

    const everything = capture(true);
    expect(
      everything.filter((l) => PROGRESS_LINE.test(l)),
      everything.join('\n'),
    ).toEqual([]);
    for (const line of everything) expect(line.length, line).toBeLessThanOrEqual(COLUMNS);
    expect(everything.join('\n')).toMatch(REPORT_HEADER);
    expect(everything.join('\n')).toMatch(/^__EXIT [01]$/m);
    // The report starts where the progress was: nothing above it but blank lines.
    const header = everything.findIndex((l) => REPORT_HEADER.test(l));
    expect(everything.slice(0, header).filter((l) => l.trim() !== '')).toEqual([]);
  });
});

describe('live progress on a terminal of unknown width', () => {
  it('under script (0 columns) the lines are cut to 80 columns, not to 3 characters', async () => {
    const runner = writeRunner('run-script.sh');
    // script's own input is no terminal, so the pseudo-terminal it makes has no size: process.stderr.columns is 0.
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', `sh ${runner}`, '/dev/null'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: work,
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    expect(r.code, r.out).toBe(0);
    // What was drawn between the cursor movements, CR and LF: each a progress line as the terminal got it.
    const drawn = r.out.split(/\x1b\[[0-9;]*[A-Za-z]|\r|\n/).filter((s) => s.startsWith('127.0.0.'));
    expect(drawn.length).toBeGreaterThan(HOSTS.length);
    for (const line of drawn) expect(line.length, line).toBeLessThanOrEqual(80);
    const inFlight = drawn.filter((l) => PROGRESS_LINE.test(l) && IN_FLIGHT.test(l));
    expect(inFlight.length).toBeGreaterThan(0);
    // The whole line fits in 80 columns: host, phase, bytes and time all shown.
    for (const line of inFlight)
      expect(line).toMatch(/^127\.0\.0\.[123] +\S.* \d+(\.\d+)? (B|KB|MB)\s+\d+(\.\d+)? m?s$/);
    expect(r.out).toMatch(/mtu-preflight \S+ +(PASS|WARN|FAIL) /);
    expect(r.out).toMatch(/__EXIT [01]/);
  });
});
