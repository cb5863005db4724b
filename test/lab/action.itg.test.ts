/**
 * The Action as the runner runs it: `node dist/action.js` (the bundle of the current source, global-setup.ts) with
 * the inputs as INPUT_<NAME> variables (upper-cased, hyphens kept: INPUT_CA-FILE), GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, GITHUB_ACTIONS=true and RUNNER_TEMP, against a loopback HTTPS server. Then the same
 * through @github/local-action, which runs the TypeScript source with its own stand-in for @actions/core.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportJson as Report } from '../../src/model/report.js';
import { ACTION } from './cli.js';
import { cleanEnv, runCommand, startLoopback, type Loopback, type Run } from './loopback.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

let loopback: Loopback;
let work: string;

beforeAll(async () => {
  loopback = await startLoopback();
  work = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-action-'));
});

afterAll(async () => {
  await loopback?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface ActionRun extends Run {
  outputs: Record<string, string>;
  summary: string;
  workspace: string;
}

/** GITHUB_OUTPUT's file format: `name<<delimiter\nvalue\ndelimiter` per output (what @actions/core writes). */
function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

/** One step: a fresh workspace (the working directory) and runner temp, the inputs as the runner passes them. */
async function runAction(inputs: Record<string, string>, files: Record<string, string> = {}): Promise<ActionRun> {
  const step = mkdtempSync(path.join(work, 'step-'));
  const workspace = path.join(step, 'workspace');
  const temp = path.join(step, 'runner-temp');
  mkdirSync(workspace);
  mkdirSync(temp);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    writeFileSync(path.join(workspace, name), text);
  }
  const outputFile = path.join(temp, 'github_output');
  const summaryFile = path.join(temp, 'step_summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env = cleanEnv({
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: temp,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
  });
  const r = await runCommand(process.execPath, [ACTION], { cwd: workspace, env, timeoutMs: 60_000 });
  return {
    ...r,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    workspace,
  };
}

describe('dist/action.js as the runner runs it', () => {
  it('healthy loopback registry: exit 0, outputs, report file, job summary with the diagram and the probe table', async () => {
    const r = await runAction({
      registries: 'none',
      url: `${loopback.origin}x`,
      'ca-file': loopback.caFile,
      docker: 'off',
      timeout: '15',
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.verdict).toBe('pass');
    expect(r.outputs['uplink-mtu']).toMatch(/^\d+$/);
    expect(r.outputs['recommended-mtu']).toBe('');
    const reportFile = r.outputs['report-json']!;
    expect(reportFile.startsWith(path.join(path.dirname(r.workspace), 'runner-temp'))).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    expect(report).toMatchObject({ schemaVersion: 1, verdict: 'pass', ci: { system: 'github-actions' } });
    expect(report.layers[0]!.probes[0]).toMatchObject({ outcome: 'ok', address: '127.0.0.1' });
    expect(String(report.uplinkMtu)).toBe(r.outputs['uplink-mtu']);

    expect(r.summary).toContain('mtu-preflight: PASS');
    expect(r.summary).toMatch(/```mermaid\nflowchart TD\n[\s\S]*?```/);
    expect(r.summary).toMatch(/\| layer \| target \| outcome \|/);
    expect(r.summary).toContain('127.0.0.1');
    // The log: the report in a collapsed group, then the verdict; no annotations for a clean run.
    expect(r.stdout).toContain('::group::mtu-preflight report: PASS');
    expect(r.stdout).not.toMatch(/^::(error|warning)/m);
  });

  it('a port that accepts TCP and never speaks: the TLS handshake stalls, exit 1, an error annotation, verdict fail', async () => {
    const r = await runAction({
      registries: 'none',
      url: `https://127.0.0.1:${loopback.silentPort}/x`,
      'ca-file': loopback.caFile,
      docker: 'off',
      'stall-timeout': '1',
      timeout: '8',
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.outputs.verdict).toBe('fail');
    // One annotation per finding (the title's colon is escaped as the runner's command syntax requires) ...
    expect(r.stdout).toMatch(/^::error title=mtu-preflight%3A transfer-stall::.*127\.0\.0\.1/m);
    // ... and setFailed's one-line reason, which fails the step.
    expect(r.stdout).toMatch(/^::error::mtu-preflight FAIL: transfer-stall: /m);
    const report = JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8')) as Report;
    expect(report.layers[0]!.probes[0]).toMatchObject({ outcome: 'stall', stall: { phase: 'tls' } });
    expect(r.summary).toContain('mtu-preflight: FAIL');
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a bad input fails the step before probing with one line naming it: exit 2 (usage), like the CLI', async () => {
    const r = await runAction({ registries: 'none', url: `${loopback.origin}x`, timeout: 'abc' });
    expect(r.code).toBe(2);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('::error')),
    ).toEqual(["::error::Input 'timeout' must be a positive number of seconds, got 'abc'."]);
    expect(r.outputs).toEqual({});
  });

  it('lint-only: a finding in .gitlab-ci.yml becomes a warning annotation on its file and line', async () => {
    const r = await runAction(
      { 'lint-only': 'true', 'assume-mtu': '1450' },
      { '.gitlab-ci.yml': 'build:\n  services:\n    - docker:dind\n  script: [docker build .]\n' },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.verdict).toBe('warn');
    expect(r.outputs['recommended-mtu']).toBe('1450');
    expect(r.stdout).toMatch(
      /^::warning title=mtu-preflight%3A ci-config-mtu,file=\.gitlab-ci\.yml,line=3::docker:dind service of job 'build' in \.gitlab-ci\.yml:3 has no --mtu; the uplink MTU is 1450/m,
    );
    expect(r.summary).toContain('At `.gitlab-ci.yml:3`');
  });
});

describe('@github/local-action', () => {
  it('runs the Action from source with its @actions/core stand-in: outputs and the job summary', async () => {
    const dir = mkdtempSync(path.join(work, 'local-action-'));
    const summary = path.join(dir, 'summary.md');
    writeFileSync(summary, '');
    const dotenv = path.join(dir, '.env');
    writeFileSync(
      dotenv,
      [
        'INPUT_REGISTRIES=none',
        `INPUT_URL=${loopback.origin}x`,
        `INPUT_CA-FILE=${loopback.caFile}`,
        'INPUT_DOCKER=off',
        'INPUT_TIMEOUT=15',
        `GITHUB_STEP_SUMMARY=${summary}`,
        `RUNNER_TEMP=${dir}`,
        '',
      ].join('\n'),
    );
    const bin = path.join(ROOT, 'node_modules/.bin/local-action');
    expect(existsSync(bin), 'npm ci installs @github/local-action (devDependency)').toBe(true);
    // local-action starts tsx through `npm exec`: offline, it must find it in node_modules.
    const env = cleanEnv({
      npm_config_offline: 'true',
      PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
    });
    const r = await runCommand(bin, ['run', ROOT, 'test/lab/local-action-entry.ts', dotenv], {
      cwd: ROOT,
      env,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('::set-output name=verdict::pass');
    expect(r.stdout).toMatch(/::set-output name=uplink-mtu::\d+/);
    expect(r.stdout).toContain(`::set-output name=report-json::${path.join(dir, 'mtu-preflight-report.json')}`);
    expect(JSON.parse(readFileSync(path.join(dir, 'mtu-preflight-report.json'), 'utf8'))).toMatchObject({
      verdict: 'pass',
    });
    expect(readFileSync(summary, 'utf8')).toMatch(/## ✅ mtu-preflight: PASS[\s\S]*```mermaid/);
  });
});
