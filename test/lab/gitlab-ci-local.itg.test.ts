/**
 * templates/gitlab-ci.yml (and the component templates/mtu-preflight/template.yml) run for real by gitlab-ci-local
 * (shell executor) in a throwaway project that includes it: the template's variables or inputs, its script line
 * (npx of the package, here the tarball of the current source), its artifact, and the `.pre` stage holding the
 * rest of the pipeline back when the preflight fails.
 *
 * What cannot run here: the docker:dind service. gitlab-ci-local starts services as containers, and this machine
 * has no image registry to pull docker:dind from, so the project redefines the job with `services: []` and
 * passes --docker off. Probes go to a loopback HTTPS server (test/lab/loopback.ts); npm runs offline.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportJson as Report } from '../../src/model/report.js';
import { cleanEnv, runCommand, startLoopback, type Loopback, type Run } from './loopback.js';
import { ROOT, packTarball } from './pack.js';
import { xmllintJunit } from '../unit/render/validators.js';

const GCL = path.join(ROOT, 'node_modules/gitlab-ci-local/dist/index.js');

let loopback: Loopback;
let work: string;
let tarball: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // Fail (never skip) with the reason when the tools are missing.
  expect(existsSync(GCL), 'npm ci installs gitlab-ci-local (devDependency)').toBe(true);
  expect(
    Number(process.versions.node.split('.')[0]),
    'gitlab-ci-local needs Node 22+: run the lab with the Node 24 of node_modules/.bin',
  ).toBeGreaterThanOrEqual(22);
  expect(
    spawnSync('rsync', ['--version']).status,
    'gitlab-ci-local copies the project with rsync: apt-get install rsync (.ci/run)',
  ).toBe(0);
  loopback = await startLoopback();
  work = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-gcl-'));
  env = cleanEnv({ npm_config_cache: path.join(work, 'npm-cache'), npm_config_update_notifier: 'false' });
  tarball = await packTarball(work, env);
});

afterAll(async () => {
  await loopback?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The pipeline a user writes around the include: the ready job (without its service, see above) and a build. */
const PIPELINE = [
  'include:',
  '  - local: mtu-preflight.gitlab-ci.yml',
  '',
  'stages: [build]',
  '',
  '# No image registry here to pull docker:dind from: this run goes without the service.',
  'mtu-preflight:',
  '  services: []',
  '',
  'build:',
  '  stage: build',
  '  script:',
  '    - echo built > built.txt',
  '',
].join('\n');

/** A git project whose .gitlab-ci.yml includes a template as a user's would (from a local copy: no network). */
function makeProject(name: string, template: string, pipeline: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  copyFileSync(path.join(ROOT, template), path.join(dir, 'mtu-preflight.gitlab-ci.yml'));
  writeFileSync(path.join(dir, '.gitlab-ci.yml'), pipeline);
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'lab@mtu-preflight.invalid');
  git('config', 'user.name', 'lab');
  git('remote', 'add', 'origin', 'https://gitlab.invalid/group/project.git');
  git('add', '-A');
  git('commit', '-qm', 'pipeline');
  return dir;
}

/** The template's variables, as a user sets them, pointed at the tarball and the loopback server. */
function templateVariables(url: string): Record<string, string> {
  return {
    // npx gets the tarball of the current source instead of the registry's mtu-preflight@0.
    MTU_PREFLIGHT_VERSION: `file:${tarball}`,
    MTU_PREFLIGHT_REGISTRIES: 'none',
    MTU_PREFLIGHT_TIMEOUT: '10',
    MTU_PREFLIGHT_ARGS: `--url ${url} --ca-file ${loopback.caFile} --docker off --stall-timeout 1`,
  };
}

function gitlabCiLocal(project: string, variables: Record<string, string>): Promise<Run> {
  const all = { ...variables, npm_config_offline: 'true' };
  const args = [
    GCL,
    '--force-shell-executor',
    '--no-color',
    ...Object.entries(all).flatMap(([k, v]) => ['--variable', `${k}=${v}`]),
  ];
  // The template asks for colour (GitLab's log renders it): strip it to read the log.
  return runCommand(process.execPath, args, { cwd: project, env, timeoutMs: 120_000 }).then((r) => ({
    ...r,
    stdout: r.stdout.replace(/\x1b\[[0-9;]*m/g, ''),
  }));
}

const artifactPath = (project: string, file: string, job = 'mtu-preflight'): string =>
  path.join(project, `.gitlab-ci-local/artifacts/${job}/${file}`);

const artifact = (project: string, job = 'mtu-preflight'): Report =>
  JSON.parse(
    readFileSync(path.join(project, `.gitlab-ci-local/artifacts/${job}/mtu-preflight-report.json`), 'utf8'),
  ) as Report;

describe('templates/gitlab-ci.yml under gitlab-ci-local', () => {
  it('the .pre job runs the preflight from the package, passes, keeps its report as an artifact; then the pipeline goes on', async () => {
    const project = makeProject('healthy', 'templates/gitlab-ci.yml', PIPELINE);
    const r = await gitlabCiLocal(project, templateVariables(`${loopback.origin}x`));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mtu-preflight starting shell \(\.pre\)/);
    expect(r.stdout).toMatch(/mtu-preflight > .*mtu-preflight \d+\.\d+\.\d+ {2}PASS/);
    expect(r.stdout).toMatch(/PASS +mtu-preflight/);
    expect(r.stdout).toMatch(/PASS +build/);
    const report = artifact(project);
    expect(report).toMatchObject({ verdict: 'pass', ci: { system: 'gitlab-ci' } });
    expect(report.settings).toMatchObject({ registries: [], timeoutMs: 10_000, strict: false });
    // The JUnit and Code Quality reports are kept beside the JSON (artifacts: paths and reports:), and valid.
    const junit = readFileSync(artifactPath(project, 'mtu-preflight-junit.xml'), 'utf8');
    const v = xmllintJunit(junit);
    expect(v.ok, v.output).toBe(true);
    expect(junit).toMatch(/<testcase classname="mtu-preflight\.probe\.host" [^>]*>\s*<system-out>outcome ok/);
    expect(JSON.parse(readFileSync(artifactPath(project, 'mtu-preflight-codequality.json'), 'utf8'))).toEqual([]);
  });

  it('a stalled registry fails the .pre job (exit 1) and the build stage never starts', async () => {
    const project = makeProject('stalled', 'templates/gitlab-ci.yml', PIPELINE);
    const r = await gitlabCiLocal(project, templateVariables(`https://127.0.0.1:${loopback.silentPort}/x`));
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout).toMatch(/mtu-preflight > .*FAIL/);
    expect(r.stdout).toMatch(/FAIL +mtu-preflight/);
    expect(r.stdout).not.toMatch(/build starting/);
    const report = artifact(project);
    expect(report.verdict).toBe('fail');
    expect(report.findings[0]?.code).toBe('transfer-stall');
    // Kept on failure too (artifacts: when: always): the test widget shows the failing case.
    const junit = readFileSync(artifactPath(project, 'mtu-preflight-junit.xml'), 'utf8');
    expect(xmllintJunit(junit).ok).toBe(true);
    expect(junit).toMatch(/<failure message="transfer-stall: [^"]*" type="transfer-stall">/);
  });

  it('the component form: spec inputs become the job (stage, strict, timeout, registries) and it runs', async () => {
    const comp = [
      'include:',
      '  - local: mtu-preflight.gitlab-ci.yml',
      '    inputs:',
      '      stage: check',
      '      registries: none',
      '      strict: true',
      '      timeout: 12',
      `      version: "file:${tarball}"`,
      `      args: "--url ${loopback.origin}x --ca-file ${loopback.caFile} --docker off"`,
      '',
      'stages: [check]',
      '',
      'mtu-preflight:',
      '  services: []',
      '',
    ].join('\n');
    const project = makeProject('component', 'templates/mtu-preflight/template.yml', comp);
    const r = await gitlabCiLocal(project, {});
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mtu-preflight starting shell \(check\)/);
    expect(artifact(project).settings).toMatchObject({ registries: [], timeoutMs: 12_000, strict: true });
  });
});
