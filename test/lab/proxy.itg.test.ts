/**
 * Issue 5: proxies, with a real one. Debian's tinyproxy runs inside the lab's runner namespace on its loopback
 * (127.0.0.1:8888 open, :8889 with Basic auth), allowing CONNECT to 443 only, and reaches the lab registry through
 * the lab DNS like any proxy. Each case runs the bundled CLI (or the Action) with HTTPS_PROXY / NO_PROXY.
 * The secrecy cases grep every output for the password and for the Proxy-Authorization value.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab } from './harness/lab.js';
import { ACTION, codes, labEnv, runCli } from './cli.js';
import type { ReportJson as Report } from '../../src/model/report.js';

const STARTUP_SLACK_MS = 1500;
const OPEN = 'http://127.0.0.1:8888';
const PASSWORD = 's3cr3t-Pr0xy';
const AUTH = `http://bot:${PASSWORD}@127.0.0.1:8889`;
/** What undici sends as Proxy-Authorization: Basic base64(user:password). */
const AUTH_HEADER = Buffer.from(`bot:${PASSWORD}`).toString('base64');

let lab: Lab;
/** Config and logs: readable by tinyproxy after it drops to nobody (the lab's own temp dir is 0700). */
let dir: string;

beforeAll(async () => {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
  lab = await createLab({ tlsKey: 'ec-p256' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-proxy-'));
  chmodSync(dir, 0o755);
  for (const [name, port, extra] of [
    ['open', 8888, ''],
    ['auth', 8889, `BasicAuth bot ${PASSWORD}\n`],
  ] as const) {
    const conf = path.join(dir, `${name}.conf`);
    writeFileSync(
      conf,
      `User nobody\nGroup nogroup\nPort ${port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\nConnectPort 443\nLogLevel Connect\n${extra}`,
    );
    const child = lab.spawn('tinyproxy', ['-d', '-c', conf]);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => {
      log += d;
    });
    child.stderr!.on('data', (d: Buffer) => {
      log += d;
    });
    proxyLogs[name] = () => log;
  }
  // tinyproxy has no readiness signal in the foreground: wait for both listening sockets.
  for (let i = 0; ; i++) {
    const ss = await lab.exec('ss', ['-Hltn']);
    if (ss.stdout.includes('127.0.0.1:8888') && ss.stdout.includes('127.0.0.1:8889')) break;
    if (i > 100) throw new Error(`tinyproxy not listening: ${ss.stdout} ${proxyLogs.open?.()} ${proxyLogs.auth?.()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

const proxyLogs: Record<string, () => string> = {};

afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const target = (l: Lab, p = '/big.tgz') => `https://${l.registryName}${p}`;
const base = (l: Lab) => [
  '--registries',
  'none',
  '--ca-file',
  l.caFile,
  '--docker',
  'off',
  '--timeout',
  '6',
  '--stall-timeout',
  '2',
];

describe('a real proxy (tinyproxy in the runner namespace)', () => {
  it('HTTPS_PROXY is honoured: the probe goes through it (viaProxy) and succeeds', async () => {
    const before = proxyLogs.open!().length;
    const r = await runCli(lab, ['--url', target(lab), ...base(lab), '--json'], { env: { HTTPS_PROXY: OPEN } });
    expect(r.code, r.stderr).toBe(0);
    const p = r.report!.layers[0]!.probes[0]!;
    expect(p).toMatchObject({ outcome: 'ok', capped: true, viaProxy: `${OPEN}/` });
    expect(p.address).toBeUndefined(); // the proxy connected to the registry, not us
    expect(p.phases.tlsMs).toBeGreaterThan(0); // the handshake through the tunnel is timed
    expect(proxyLogs.open!().slice(before)).toMatch(/CONNECT registry\.lab\.test:443/);
    expect(r.report!.settings.proxy).toBe(`${OPEN}/`);
  });

  it('lower-case https_proxy is honoured too', async () => {
    const r = await runCli(lab, ['--url', target(lab), ...base(lab), '--json'], { env: { https_proxy: OPEN } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.layers[0]!.probes[0]).toMatchObject({ outcome: 'ok', viaProxy: `${OPEN}/` });
  });

  it('NO_PROXY is honoured: the registry is reached directly, the proxy sees nothing', async () => {
    const before = proxyLogs.open!().length;
    const r = await runCli(lab, ['--url', target(lab), ...base(lab), '--json'], {
      env: { HTTPS_PROXY: OPEN, NO_PROXY: `localhost,.lab.test` },
    });
    expect(r.code, r.stderr).toBe(0);
    const p = r.report!.layers[0]!.probes[0]!;
    expect(p).toMatchObject({ outcome: 'ok', address: lab.registryIp });
    expect(p.viaProxy).toBeUndefined();
    expect(proxyLogs.open!().slice(before)).not.toMatch(/CONNECT registry\.lab\.test/);
  });

  it.each([
    ['a dead proxy (nothing listens)', 'http://127.0.0.1:9', /ECONNREFUSED/],
    ['a proxy whose name does not resolve', 'http://proxy.nowhere.test:3128', /ENOTFOUND/],
    ['a proxy that accepts and never answers', 'http://10.213.2.2:8443', /did not answer the CONNECT request in \d/],
  ])('%s: proxy-error, never an MTU finding, by the deadline', async (_name, proxy, detail) => {
    const r = await runCli(lab, ['--url', target(lab), ...base(lab), '--json'], { env: { HTTPS_PROXY: proxy } });
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['proxy-error']);
    expect(r.report!.findings[0]!.summary).toMatch(detail);
    expect(r.ms).toBeLessThanOrEqual(6000 + STARTUP_SLACK_MS);
  });

  it('a proxy that refuses the CONNECT (port not allowed): proxy-error naming its answer', async () => {
    const r = await runCli(
      lab,
      ['--url', target(lab, '').replace(lab.registryName, `${lab.registryName}:8443`) + '/x', ...base(lab), '--json'],
      { env: { HTTPS_PROXY: OPEN } },
    );
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['proxy-error']);
    expect(r.report!.findings[0]!.summary).toMatch(/Proxy response \(403\)/);
  });
});

describe('proxy credentials are never printed', () => {
  /** Every place the secret must not appear, with the places it must. */
  const leaks = (text: string) => [PASSWORD, AUTH_HEADER, 'urlT0ken'].filter((s) => text.includes(s));

  it('CLI: text, JSON, markdown and the report file, on success and on a 401', async () => {
    const reportFile = path.join(dir, 'report.json');
    const url = `https://deploy:urlT0ken@${lab.registryName}/big.tgz`;
    const outputs: string[] = [];
    for (const proxy of [AUTH, AUTH.replace(PASSWORD, `${PASSWORD}-wrong`)]) {
      for (const format of [
        ['--json'],
        ['--format', 'markdown'],
        ['--format', 'text', '--color', 'always'],
        ['--report-file', reportFile],
      ]) {
        const r = await runCli(lab, ['--url', url, ...base(lab), ...format], { env: { HTTPS_PROXY: proxy } });
        outputs.push(r.stdout, r.stderr);
        if (format[0] === '--report-file') outputs.push(readFileSync(reportFile, 'utf8'));
        const ok = proxy === AUTH;
        expect(r.code, r.stdout + r.stderr).toBe(ok ? 0 : 1);
        if (format[0] === '--json') {
          const report = JSON.parse(r.stdout) as Report;
          expect(report.layers[0]!.probes[0]!.viaProxy).toBe('http://***:***@127.0.0.1:8889/');
          expect(report.settings.proxy).toBe('http://***:***@127.0.0.1:8889/');
          expect(report.layers[0]!.probes[0]!.url).toBe(`https://***:***@${lab.registryName}/big.tgz`);
          if (!ok) expect(report.findings.map((f) => f.code)).toEqual(['proxy-error']);
        }
      }
    }
    expect(outputs.join('\n').length).toBeGreaterThan(1000);
    expect(leaks(outputs.join('\n'))).toEqual([]);
    // A usage error that quotes a URL masks its credentials too.
    const bad = await runCli(lab, ['--url', `ftp://deploy:urlT0ken@${lab.registryName}/x`, '--registries', 'none'], {
      env: { HTTPS_PROXY: AUTH },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/got 'ftp:\/\/\*\*\*:\*\*\*@registry\.lab\.test\/x'/);
    expect(leaks(bad.stdout + bad.stderr)).toEqual([]);
  });

  it('Action: ::add-mask:: for the password before anything else; log (with debug on), summary, outputs and report file clean', async () => {
    const step = mkdtempSync(path.join(dir, 'step-'));
    const workspace = path.join(step, 'workspace');
    const temp = path.join(step, 'temp');
    mkdirSync(workspace);
    mkdirSync(temp);
    const outputFile = path.join(temp, 'output');
    const summaryFile = path.join(temp, 'summary.md');
    writeFileSync(outputFile, '');
    writeFileSync(summaryFile, '');
    const outputs: string[] = [];
    for (const proxy of [AUTH, AUTH.replace(PASSWORD, `${PASSWORD}-wrong`)]) {
      const env = labEnv({
        GITHUB_ACTIONS: 'true',
        CI: 'true',
        RUNNER_DEBUG: '1', // core.debug lines are printed
        GITHUB_WORKSPACE: workspace,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        RUNNER_TEMP: temp,
        HTTPS_PROXY: proxy,
        INPUT_REGISTRIES: 'none',
        INPUT_URL: `https://deploy:urlT0ken@${lab.registryName}/big.tgz`,
        'INPUT_CA-FILE': lab.caFile,
        INPUT_DOCKER: 'off',
        INPUT_TIMEOUT: '6',
        'INPUT_STALL-TIMEOUT': '2',
      });
      // env -C, not sh -c 'cd': a POSIX shell drops variables whose names are no identifiers (INPUT_CA-FILE).
      const r = await lab.exec('env', ['-C', workspace, process.execPath, ACTION], { env, timeoutMs: 30_000 });
      const ok = proxy === AUTH;
      expect(r.code, r.stdout + r.stderr).toBe(ok ? 0 : 1);
      const lines = r.stdout.split('\n');
      // The runner replaces registered secrets with *** in everything after ::add-mask::; it must come first.
      const masks = lines.filter((l) => l.startsWith('::add-mask::'));
      expect(masks).toEqual(
        expect.arrayContaining([`::add-mask::${ok ? PASSWORD : `${PASSWORD}-wrong`}`, '::add-mask::urlT0ken']),
      );
      expect(lines.findIndex((l) => !l.startsWith('::add-mask::'))).toBeGreaterThanOrEqual(masks.length);
      outputs.push(lines.filter((l) => !l.startsWith('::add-mask::')).join('\n'), r.stderr);
      if (!ok) expect(r.stdout).toMatch(/^::error title=mtu-preflight%3A proxy-error::/m);
    }
    outputs.push(
      readFileSync(summaryFile, 'utf8'),
      readFileSync(outputFile, 'utf8'),
      readFileSync(path.join(temp, 'mtu-preflight-report.json'), 'utf8'),
    );
    expect(outputs.join('\n')).toContain('http://***:***@127.0.0.1:8889');
    expect(leaks(outputs.join('\n'))).toEqual([]);
  });
});
