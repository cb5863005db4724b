/**
 * CI files the lint cannot judge are named, with why, and never hang or exhaust the run: a FIFO (a blocking read
 * would wait for a writer forever), links to /dev/zero and /dev/urandom (endless), an oversized file, an alias bomb.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseUplink, lintCheckout, lintCiConfigs, lintGitlab } from '../../../src/lint/index.js';
import { MAX_CI_FILE_BYTES } from '../../../src/lint/read.js';

/** Nine anchors, each nine aliases of the one before: 9^9 (387 million) nodes once expanded, 600 bytes as written. */
function aliasBomb(under: string): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
        .fill(`*${'abcdefghi'[i - 1]}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n${under}\n`;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lint-unchecked-'));
  await symlink('/dev/zero', path.join(dir, '.gitlab-ci.yml'));
  execFileSync('mkfifo', [path.join(dir, '.drone.yml')]);
  await mkdir(path.join(dir, '.github/workflows'), { recursive: true });
  await symlink('/dev/urandom', path.join(dir, '.github/workflows/ci.yml'));
  await writeFile(path.join(dir, '.github/workflows/bomb.yml'), aliasBomb('jobs: { build: { container: *i } }'));
  await writeFile(path.join(dir, 'compose.yaml'), 'x: &x [*x]\nservices: { app: { image: nginx } }\n');
  await writeFile(path.join(dir, 'docker-compose.yml'), '');
  await truncate(path.join(dir, 'docker-compose.yml'), MAX_CI_FILE_BYTES + 1);
  // A link to a regular file is a CI file like any other: linted, not reported as unchecked.
  await mkdir(path.join(dir, 'ci'));
  await writeFile(path.join(dir, 'ci/woodpecker.yml'), 'services:\n  docker:\n    image: docker:dind\n');
  await symlink('ci/woodpecker.yml', path.join(dir, '.woodpecker.yml'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('CI files the lint could not judge', () => {
  it('each gets an info finding that names it and says why, and the lint finishes at once', async () => {
    const t0 = performance.now();
    const fs = await lintCiConfigs(dir, { uplinkMtu: 1450 });
    expect(performance.now() - t0).toBeLessThan(3000);
    const unchecked = fs.filter((f) => f.code === 'ci-config-unchecked');
    expect(unchecked.every((f) => f.severity === 'info' && f.layer === 'config')).toBe(true);
    expect(Object.fromEntries(unchecked.map((f) => [f.file, f.summary]))).toEqual({
      '.drone.yml': '.drone.yml was not checked (not a regular file: a FIFO): its MTU settings are unknown.',
      '.github/workflows/bomb.yml':
        '.github/workflows/bomb.yml was not checked (YAML alias expansion limit: its aliases expand to more than 1000000 nodes): its MTU settings are unknown.',
      '.github/workflows/ci.yml':
        '.github/workflows/ci.yml was not checked (not a regular file: a link to /dev/urandom, a character device): its MTU settings are unknown.',
      '.gitlab-ci.yml':
        '.gitlab-ci.yml was not checked (not a regular file: a link to /dev/zero, a character device): its MTU settings are unknown.',
      'compose.yaml':
        'compose.yaml was not checked (YAML alias expansion limit: an alias refers to the node that contains it): its MTU settings are unknown.',
      'docker-compose.yml': `docker-compose.yml was not checked (too large: ${MAX_CI_FILE_BYTES + 1} bytes, a CI config is at most ${MAX_CI_FILE_BYTES}): its MTU settings are unknown.`,
    });
    // The linked Woodpecker file was read and judged.
    expect(fs.filter((f) => f.code === 'ci-config-mtu').map((f) => `${f.file}:${f.line}`)).toEqual([
      '.woodpecker.yml:3',
    ]);
  });

  it('the pure linter says the same of an alias bomb handed to it directly', () => {
    const [f] = lintGitlab(aliasBomb('build: { services: *i }'), '.gitlab-ci.yml', 1450);
    expect(f).toMatchObject({ code: 'ci-config-unchecked', severity: 'info', file: '.gitlab-ci.yml' });
    expect(f!.summary).toContain('YAML alias expansion limit');
  });

  it('a file with ordinary anchors and merge keys is still judged', () => {
    const text = '.dind: &dind\n  - name: docker:dind\nbuild:\n  services: *dind\ntest:\n  services: *dind\n';
    expect(lintGitlab(text, '.gitlab-ci.yml', 1450).map((f) => [f.code, f.line])).toEqual([['ci-config-mtu', 2]]);
  });

  it('lintCheckout lists the unchecked files in its result, beside the findings', async () => {
    const r = await lintCheckout(dir, { lintOnly: false, probedMtu: 1450 });
    expect(r).toMatchObject({ uplinkMtu: 1450, uplinkSource: 'probes', notes: [] });
    expect(r.unchecked.map((u) => u.file).sort()).toEqual([
      '.drone.yml',
      '.github/workflows/bomb.yml',
      '.github/workflows/ci.yml',
      '.gitlab-ci.yml',
      'compose.yaml',
      'docker-compose.yml',
    ]);
    expect(r.unchecked.find((u) => u.file === '.drone.yml')?.why).toBe('not a regular file: a FIFO');
  });
});

describe('the uplink the lint judges against', () => {
  it('--assume-mtu first, then the probes, then (lint only) the default route; else skipped, and each is said', () => {
    expect(chooseUplink({ assumeMtu: 1400, probedMtu: 1450, lintOnly: false })).toEqual({
      uplinkMtu: 1400,
      uplinkSource: 'assume-mtu',
      notes: ['the CI config lint assumed an uplink MTU of 1400 (assume-mtu)'],
    });
    expect(chooseUplink({ probedMtu: 1450, lintOnly: false })).toEqual({
      uplinkMtu: 1450,
      uplinkSource: 'probes',
      notes: [],
    });
    expect(chooseUplink({ lintOnly: true, defaultRoute: { name: 'eth0', mtu: 1450 } })).toEqual({
      uplinkMtu: 1450,
      uplinkSource: 'default-route',
      notes: ['lint only: the uplink is taken from the default route: eth0 (MTU 1450)'],
    });
    // Not lint-only: the default route is the probes' business (their fallback), not the lint's.
    expect(chooseUplink({ lintOnly: false, defaultRoute: { name: 'eth0', mtu: 1450 } })).toEqual({
      notes: ['CI config lint skipped: the uplink MTU is unknown; give it with assume-mtu'],
    });
  });
});
