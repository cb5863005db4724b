/**
 * Issue 14 in the lab: the bundled CLI in the runner namespace writes all four CI report files, on the healthy path
 * and on the black hole, and each passes its real checker (xmllint + the JUnit XSD, the SARIF 2.1.0 schema, the
 * fields GitLab documents for Code Quality, promtool). The metrics file is never half-written: a run killed by
 * SIGTERM while a probe stalls leaves the previous file as it was, and runs killed at any moment leave either the old
 * file or a complete new one. The push goes to a real Prometheus Pushgateway (Debian's prometheus-pushgateway) on
 * the runner namespace's loopback, and to a dead port there, which only warns.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { promtoolCheck, validateSarif, xmllintJunit } from '../unit/render/validators.js';
import { CLI, labEnv, runCli } from './cli.js';
import { createLab, labAvailable, type Lab, type LabOptions } from './harness/lab.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function withLab(opts: LabOptions): Promise<Lab> {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
  lab = await createLab(opts);
  return lab;
}

/** A checkout with a .gitlab-ci.yml whose docker:dind services lack --mtu, for the lint's side of the files. */
function checkout(l: Lab): string {
  const dir = path.join(l.tmpDir, 'checkout');
  mkdirSync(dir, { recursive: true });
  copyFileSync(
    path.join(ROOT, 'test/fixtures/ci-configs/gitlab/positive/.gitlab-ci.yml'),
    path.join(dir, '.gitlab-ci.yml'),
  );
  return dir;
}

const files = (dir: string) => ({
  junit: path.join(dir, 'mtu-preflight-junit.xml'),
  codequality: path.join(dir, 'mtu-preflight-codequality.json'),
  sarif: path.join(dir, 'mtu-preflight.sarif'),
  metrics: path.join(dir, 'mtu-preflight.prom'),
});

function args(l: Lab, out: ReturnType<typeof files>, extra: string[] = []): string[] {
  return [
    '--url',
    `https://${l.registryName}/big.tgz`,
    '--registries',
    'none',
    '--ca-file',
    l.caFile,
    '--docker',
    'off',
    // The runner's own uplink is 1500 here; the lint judges the checkout against the 1450 hop.
    '--assume-mtu',
    '1450',
    '--junit',
    out.junit,
    '--codequality',
    out.codequality,
    '--sarif',
    out.sarif,
    '--metrics-file',
    out.metrics,
    ...extra,
  ];
}

/** All four files, each through its checker; returns their text. */
function expectValidFiles(out: ReturnType<typeof files>) {
  const text = {
    junit: readFileSync(out.junit, 'utf8'),
    codequality: readFileSync(out.codequality, 'utf8'),
    sarif: readFileSync(out.sarif, 'utf8'),
    metrics: readFileSync(out.metrics, 'utf8'),
  };
  const j = xmllintJunit(text.junit);
  expect(j.ok, j.output).toBe(true);
  const s = validateSarif(JSON.parse(text.sarif));
  expect(s.ok, s.output).toBe(true);
  const p = promtoolCheck(text.metrics);
  expect(p.ok, p.output).toBe(true);
  const issues = JSON.parse(text.codequality) as Array<Record<string, unknown>>;
  expect(issues.length).toBeGreaterThan(0);
  for (const i of issues)
    expect(i).toMatchObject({
      check_name: 'ci-config-mtu',
      fingerprint: expect.any(String),
      severity: 'major',
      location: { path: '.gitlab-ci.yml', lines: { begin: expect.any(Number) } },
    });
  return text;
}

describe('CI report files in the lab', () => {
  it('healthy path: all four files written and valid; the probe case passes, the lint cases are on their lines', async () => {
    const l = await withLab({});
    const out = files(l.tmpDir);
    const r = await runCli(l, args(l, out), { cwd: checkout(l), env: { CI_RUNNER_DESCRIPTION: 'lab-runner' } });
    expect(r.code, r.stderr).toBe(0);
    const t = expectValidFiles(out);
    expect(t.junit).toMatch(
      /<testcase classname="mtu-preflight\.probe\.host" name="[^"]*url \(registry\.lab\.test\)" time="[\d.]+">\s*<system-out>outcome ok/,
    );
    expect(t.junit).not.toContain('<failure');
    expect(t.junit).toMatch(/name="\.gitlab-ci\.yml:\d+ ci-config-mtu" file="\.gitlab-ci\.yml" line="\d+"/);
    expect(t.metrics).toContain('mtu_preflight_verdict{runner="lab-runner",ci_system="local"} 1\n'); // the lint warns
    expect(t.metrics).toContain(
      'mtu_preflight_probe_success{runner="lab-runner",ci_system="local",layer="host",target="url:registry.lab.test"} 1\n',
    );
    expect(JSON.parse(t.sarif).runs[0].results[0]).toMatchObject({ ruleId: 'ci-config-mtu' });
  });

  it('black hole: the probe case fails with pmtu-blackhole and its fix; the metrics say fail and which target', async () => {
    const l = await withLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const out = files(l.tmpDir);
    const r = await runCli(l, args(l, out), { cwd: checkout(l), env: { CI_RUNNER_DESCRIPTION: 'lab-runner' } });
    expect(r.code, r.stderr).toBe(1);
    const t = expectValidFiles(out);
    expect(t.junit).toMatch(/<failure message="pmtu-blackhole: [^"]*" type="pmtu-blackhole">/);
    expect(t.junit).toMatch(/Fix: /);
    expect(t.junit).toMatch(/clamp-mss-to-pmtu/);
    expect(t.metrics).toContain('mtu_preflight_verdict{runner="lab-runner",ci_system="local"} 2\n');
    expect(t.metrics).toContain(
      'mtu_preflight_probe_success{runner="lab-runner",ci_system="local",layer="host",target="url:registry.lab.test"} 0\n',
    );
    expect(t.metrics).toMatch(/mtu_preflight_findings\{[^}]*code="pmtu-blackhole",severity="error"\} 1\n/);
  });

  it('SIGTERM during a stall leaves the previous metrics file whole, and no temporary file beside it', async () => {
    const l = await withLab({});
    const out = files(l.tmpDir);
    const old =
      '# HELP mtu_preflight_verdict old\n# TYPE mtu_preflight_verdict gauge\nmtu_preflight_verdict{runner="x",ci_system="local"} 0\n';
    writeFileSync(out.metrics, old);
    // A server that reads the request and never answers (/silent): no kernel evidence ends that stall early (a black
    // hole's would, in about a second), so the probe waits out the 20 s stall timeout and the signal comes mid-stall.
    const silent = args(l, out).map((a) => (a.endsWith('/big.tgz') ? `https://${l.registryName}/silent` : a));
    const child = spawnCli(l, [...silent, '--stall-timeout', '20', '--timeout', '30']);
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGTERM');
    const code = await exited(child);
    expect(code).toBe(143);
    expect(readFileSync(out.metrics, 'utf8')).toBe(old);
    expect(readdirSync(l.tmpDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('runs killed at any moment leave the old metrics file or a complete new one, never a part', async () => {
    const l = await withLab({});
    const out = files(l.tmpDir);
    const old =
      '# HELP mtu_preflight_verdict old\n# TYPE mtu_preflight_verdict gauge\nmtu_preflight_verdict{runner="x",ci_system="local"} 0\n';
    const seen = { old: 0, whole: 0 };
    for (const ms of [300, 600, 900, 1200, 1500, 1800, 2400]) {
      writeFileSync(out.metrics, old);
      const child = spawnCli(l, args(l, out));
      await new Promise((r) => setTimeout(r, ms));
      child.kill('SIGKILL'); // not even a cleanup: the rename is what keeps the file whole
      await exited(child);
      const now = readFileSync(out.metrics, 'utf8');
      if (now === old) seen.old++;
      else {
        expect(promtoolCheck(now).ok, now).toBe(true);
        expect(now).toMatch(/^mtu_preflight_probe_received_bytes\{.*\n$/m);
        seen.whole++;
      }
    }
    console.log(`[ci-reports] kill at 300..2400 ms: ${seen.old} old file, ${seen.whole} complete new file`);
    expect(seen.old + seen.whole).toBe(7);
  });

  it('pushes to a real Pushgateway on loopback, and a dead gateway only warns', async () => {
    const gateway = '/usr/bin/prometheus-pushgateway';
    expect(existsSync(gateway), 'apt-get install prometheus-pushgateway (scripts/lab-deps.sh)').toBe(true);
    const l = await withLab({});
    const out = files(l.tmpDir);
    const pg = l.spawn(gateway, ['--web.listen-address=127.0.0.1:19091', '--persistence.file=']);
    let up = false;
    for (let i = 0; i < 50 && !up; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const probe =
        'require("net").connect(19091,"127.0.0.1").on("connect",()=>process.exit(0)).on("error",()=>process.exit(1))';
      up = (await l.exec(process.execPath, ['-e', probe], { timeoutMs: 2000 })).code === 0;
    }
    expect(up, 'the Pushgateway listens').toBe(true);
    const r = await runCli(l, [...args(l, out), '--pushgateway', 'http://127.0.0.1:19091'], {
      cwd: checkout(l),
      env: { CI_RUNNER_DESCRIPTION: 'lab-runner' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // What the gateway now serves to Prometheus: our gauges, grouped under job and instance.
    const scraped = await l.exec(process.execPath, [
      '-e',
      'fetch("http://127.0.0.1:19091/metrics").then(r=>r.text()).then(t=>process.stdout.write(t))',
    ]);
    expect(scraped.stdout).toMatch(
      /mtu_preflight_verdict\{ci_system="local",instance="lab-runner",job="mtu_preflight",runner="lab-runner"\} 1/,
    );
    pg.kill('SIGTERM');
    const dead = await runCli(l, [...args(l, out), '--pushgateway', 'http://127.0.0.1:19092'], { cwd: checkout(l) });
    expect(dead.code).toBe(0);
    expect(dead.stderr).toMatch(
      /^mtu-preflight: warning: the Pushgateway at http:\/\/127\.0\.0\.1:19092\/ could not be reached \(ECONNREFUSED\); the metrics were not pushed\.\n$/,
    );
  });
});

/** The CLI started in the checkout (sh execs node: a signal to the child reaches the CLI itself). */
function spawnCli(l: Lab, cliArgs: string[]): ChildProcess {
  return l.spawn('sh', ['-c', 'cd "$0" && exec "$@"', checkout(l), process.execPath, CLI, ...cliArgs], {
    env: labEnv(),
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
}
