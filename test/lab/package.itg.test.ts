/**
 * `npx mtu-preflight` as a user gets it: the npm tarball, installed with nothing else. Everything the CLI needs
 * is bundled into dist/, so the package has no dependencies and installs offline from an empty cache; then its
 * bin prints --help and runs a real probe against a loopback HTTPS server.
 *
 * The tarball is packed from a staged copy whose dist/ is the bundle of the current source (test/lab/pack.ts).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportJson as Report } from '../../src/model/report.js';
import { cleanEnv, runCommand, startLoopback, type Loopback } from './loopback.js';
import { ROOT, packTarball } from './pack.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;

let work: string;
let tarball: string;
let loopback: Loopback;
/** An empty npm cache: with --offline, any dependency the package still had would fail to install. */
let cache: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-pkg-'));
  cache = path.join(work, 'cache');
  env = cleanEnv({
    npm_config_cache: cache,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });
  tarball = await packTarball(work, env);
  loopback = await startLoopback();
});

afterAll(async () => {
  await loopback?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('package.json has what a registry and npx need', () => {
    expect(pkg).toMatchObject({
      name: 'mtu-preflight',
      type: 'module',
      license: 'MIT',
      bin: { 'mtu-preflight': 'dist/cli.js' },
    });
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/', 'action.yml', 'templates/', 'README.md', 'LICENSE']));
    expect(pkg.engines.node).toMatch(/^>=\d+/);
    expect(pkg.exports['./package.json']).toBe('./package.json');
    expect(pkg.repository.url).toContain('github.com/mtu-preflight/mtu-preflight');
    expect(pkg.keywords).toEqual(expect.arrayContaining(['mtu', 'ci', 'docker']));
    // dist/ bundles everything: a runtime dependency would only make `npx` slower and need the network.
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(existsSync(path.join(ROOT, 'LICENSE'))).toBe(true);
  });

  it('npm pack ships dist/, action.yml, templates/, README.md, LICENSE and package.json, and nothing else', async () => {
    const r = await runCommand('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, env });
    expect(r.code, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    const top = new Set(files.map((f) => (f.includes('/') ? `${f.split('/')[0]}/` : f)));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'action.yml', 'dist/', 'package.json', 'templates/']);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/cli.js',
        'dist/action.js',
        'templates/gitlab-ci.yml',
        'templates/mtu-preflight/template.yml',
        'templates/drone.yml',
      ]),
    );
  });

  it('installs offline from an empty cache, and its bin prints --help', async () => {
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const install = await runCommand('npm', ['install', '--offline', '--no-package-lock', tarball], { cwd: app, env });
    expect(install.code, install.stderr).toBe(0);
    expect(readdirSync(path.join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['mtu-preflight']);

    const help = await runCommand(path.join(app, 'node_modules/.bin/mtu-preflight'), ['--help'], { cwd: app, env });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain(`mtu-preflight ${pkg.version}: find MTU mismatches`);
    expect(help.stdout).toContain('--registries');
  });

  it('npx ./mtu-preflight-*.tgz runs the tarball itself (offline, nothing else installed)', async () => {
    const dir = mkdtempSync(path.join(work, 'npx-'));
    const name = path.basename(tarball);
    cpSync(tarball, path.join(dir, name));
    // A path spec must look like one (./x.tgz): npx runs an absolute path as a command.
    const r = await runCommand('npx', ['--yes', '--offline', `./${name}`, '--version'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('a real run from the installed package: probe a loopback HTTPS server, verdict pass', async () => {
    const app = path.join(work, 'app');
    const r = await runCommand(
      path.join(app, 'node_modules/.bin/mtu-preflight'),
      [
        '--registries',
        'none',
        '--url',
        `${loopback.origin}x`,
        '--ca-file',
        loopback.caFile,
        '--docker',
        'off',
        '--json',
        '--timeout',
        '15',
      ],
      { cwd: app, env },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.verdict).toBe('pass');
    expect(report.tool).toEqual({ name: 'mtu-preflight', version: pkg.version });
    const probe = report.layers[0]!.probes[0]!;
    expect(probe).toMatchObject({ outcome: 'ok', capped: true, address: '127.0.0.1' });
    expect(probe.phases.tlsMs).toBeGreaterThan(0);
  });
});
