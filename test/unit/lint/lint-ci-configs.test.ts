import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCiConfigs, lintCiConfigs, lintDrone, linterFor, lintGitlab } from '../../../src/lint/index.js';
import { dockerdMtu, isDindImage, supportsDefaultNetworkOpt } from '../../../src/lint/docker-args.js';
import { FIXTURES, at } from './helpers.js';

describe('lintCiConfigs', () => {
  it('finds each system in a checkout, lints it, and reports paths relative to the directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lint-'));
    try {
      for (const sys of ['gitlab', 'drone', 'woodpecker', 'github', 'compose'])
        await cp(path.join(FIXTURES, sys, 'positive'), dir, { recursive: true });
      await writeFile(path.join(dir, 'notes.yml'), 'services: [docker:dind]\n');
      await mkdir(path.join(dir, 'docker-compose.d.yml'));
      expect(await findCiConfigs(dir)).toEqual([
        '.drone.yml',
        '.github/workflows/ci.yml',
        '.github/workflows/release.yaml',
        '.gitlab-ci.yml',
        '.woodpecker.yml',
        '.woodpecker/release.yaml',
        'compose.yaml',
        'docker-compose.d.yml',
        'docker-compose.yml',
      ]);
      const fs = await lintCiConfigs(dir, { uplinkMtu: 1450 });
      expect(at(fs)).toEqual([
        '.drone.yml:8',
        '.drone.yml:22',
        '.drone.yml:29',
        '.github/workflows/ci.yml:6',
        '.github/workflows/ci.yml:16',
        '.github/workflows/ci.yml:29',
        '.github/workflows/release.yaml:7',
        '.gitlab-ci.yml:9',
        '.gitlab-ci.yml:14',
        '.gitlab-ci.yml:19',
        '.gitlab-ci.yml:31',
        '.woodpecker.yml:3',
        '.woodpecker.yml:10',
        '.woodpecker/release.yaml:6',
        'compose.yaml:1',
        'docker-compose.yml:12',
        'docker-compose.yml:14',
        'docker-compose.yml:1',
      ]);
      expect(fs.every((f) => f.severity === 'warning')).toBe(true);
      expect(await lintCiConfigs(dir, { uplinkMtu: 1500 })).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('negative checkouts give nothing; malformed files give info findings, never an exception', async () => {
    for (const sys of ['gitlab', 'drone', 'woodpecker', 'github', 'compose', 'malformed']) {
      expect(await lintCiConfigs(path.join(FIXTURES, sys, 'negative'), { uplinkMtu: 1450 }), sys).toEqual([]);
    }
    const bad = await lintCiConfigs(path.join(FIXTURES, 'malformed/positive'), { uplinkMtu: 1450 });
    expect(bad.map((f) => [f.severity, `${f.file}:${f.line}`])).toEqual([
      ['info', '.drone.yml:5'],
      ['info', '.gitlab-ci.yml:5'],
    ]);
  });

  it('a directory without CI files, or that does not exist, gives nothing', async () => {
    expect(await lintCiConfigs(path.join(FIXTURES, 'does-not-exist'), { uplinkMtu: 1400 })).toEqual([]);
  });

  it('routes each path to its linter', () => {
    for (const p of [
      '.gitlab-ci.yml',
      '.drone.yml',
      '.woodpecker.yaml',
      '.woodpecker/a.yml',
      '.github/workflows/x.yaml',
      'docker-compose.prod.yml',
      'compose.yaml',
    ]) {
      expect(linterFor(p), p).toBeDefined();
    }
    for (const p of ['gitlab-ci.yml', '.github/workflows/sub/x.yml', 'my-compose.yml', '.drone.star', 'compose.json'])
      expect(linterFor(p), p).toBeUndefined();
  });
});

describe('lint yaml helpers', () => {
  it('reads --mtu from dockerd arguments', () => {
    expect(dockerdMtu(['--mtu=1450'])).toBe(1450);
    expect(dockerdMtu(['--tls=false', '--mtu', '1400'])).toBe(1400);
    expect(dockerdMtu(['dockerd-entrypoint.sh --mtu 1380 --tls=false'])).toBe(1380);
    expect(dockerdMtu(['--mtu=$MTU'])).toBe('variable');
    expect(dockerdMtu(['--tls=false'])).toBeUndefined();
  });

  it('recognises dind images, and which take --default-network-opt (dockerd 24+)', () => {
    for (const i of [
      'docker:dind',
      'docker:27-dind',
      'docker:dind-rootless',
      'registry.example.com/library/docker:24.0.7-dind',
      'docker:${V}-dind@sha256:ab',
    ])
      expect(isDindImage(i), i).toBe(true);
    for (const i of ['docker:27', 'docker:cli', 'node:24', 'plugins/docker']) expect(isDindImage(i), i).toBe(false);
    expect(supportsDefaultNetworkOpt('docker:dind')).toBe(true);
    expect(supportsDefaultNetworkOpt('docker:24-dind')).toBe(true);
    expect(supportsDefaultNetworkOpt('docker:27.3.1-dind')).toBe(true);
    expect(supportsDefaultNetworkOpt('docker:20.10.24-dind')).toBe(false);
    expect(supportsDefaultNetworkOpt('docker:19-dind')).toBe(false);
  });
});

describe("the preflight's own templates, pasted into a repository", () => {
  const tmpl = (p: string) => readFileSync(path.join(FIXTURES, '../../../templates', p), 'utf8');

  it('are not reported: their dind is the stand-in for the build, at the default MTU on purpose', () => {
    expect(lintGitlab(tmpl('gitlab-ci.yml'), '.gitlab-ci.yml', 1450)).toEqual([]);
    expect(lintDrone(tmpl('drone.yml'), '.drone.yml', 1450)).toEqual([]);
    expect(lintDrone(tmpl('woodpecker.yml'), '.woodpecker/mtu-preflight.yaml', 1450)).toEqual([]);
    // A job that extends the hidden job is the preflight too; its neighbours are still linted.
    const gitlab = `${tmpl('gitlab-ci.yml')}\ncheck:\n  extends: .mtu-preflight\n\nbuild:\n  services: [docker:dind]\n  script: [docker build .]\n`;
    expect(at(lintGitlab(gitlab, '.gitlab-ci.yml', 1450))).toEqual([
      `.gitlab-ci.yml:${gitlab.split('\n').indexOf('  services: [docker:dind]') + 1}`,
    ]);
    const drone = `${tmpl('drone.yml')}---\n${readFileSync(path.join(FIXTURES, 'drone/positive/.drone.yml'), 'utf8')}`;
    expect(lintDrone(drone, '.drone.yml', 1450)).toHaveLength(3);
  });
});
