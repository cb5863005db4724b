/**
 * Issue 14: the report files and the Pushgateway push. Files are written by a rename over the old one (a reader
 * sees the old file or the new one, never a part); the push goes to a real HTTP server on loopback that records
 * what it got, and to a dead port and a server that never answers: the push gives up by its deadline with one line
 * and never throws, so a gateway that is down never fails the run.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, type Options } from '../../../src/config/options.js';
import { UsageError } from '../../../src/model/errors.js';
import {
  checkOutputFiles,
  pushMetrics,
  pushUrl,
  runnerName,
  writeAtomic,
  writeOutputFiles,
} from '../../../src/output/files.js';
import { loadReport } from '../render/fixtures.js';
import { promtoolCheck } from '../render/validators.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (o: Partial<Options>): Options => ({ ...DEFAULTS, registries: [], urls: [], ...o });

describe('writeAtomic', () => {
  it('replaces the file whole and leaves no temporary file beside it', async () => {
    const file = path.join(dir, 'mtu.prom');
    writeFileSync(file, 'old\n');
    await writeAtomic(file, 'new\n'.repeat(10_000));
    expect(readFileSync(file, 'utf8')).toBe('new\n'.repeat(10_000));
    expect(readdirSync(dir).filter((n) => n.includes('mtu.prom'))).toEqual(['mtu.prom']);
  });

  it('a write into a missing directory rejects (the caller names the option)', async () => {
    const file = path.join(dir, 'missing-dir', 'x.prom');
    await expect(writeAtomic(file, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('the report files', () => {
  it('are checked before probing: a missing directory is a usage error naming the option', async () => {
    const o = options({ junitFile: path.join(dir, 'no/such/junit.xml') });
    await expect(checkOutputFiles(o, (n) => `--${n}`)).rejects.toThrow(UsageError);
    await expect(checkOutputFiles(o, (n) => `--${n}`)).rejects.toThrow(
      /^--junit '.*no\/such\/junit\.xml' cannot be written \(ENOENT\); expected a file path in a writable directory\.$/,
    );
    // The Action creates directories: there the nearest existing one must be writable.
    await expect(checkOutputFiles(o, (n) => `Input '${n}'`, true)).resolves.toBeUndefined();
  });

  it('each named file is written in its format', async () => {
    const o = options({
      junitFile: path.join(dir, 'junit.xml'),
      codeQualityFile: path.join(dir, 'gl-code-quality.json'),
      sarifFile: path.join(dir, 'mtu.sarif'),
      metricsFile: path.join(dir, 'mtu-preflight.prom'),
    });
    const written = await writeOutputFiles(
      loadReport('nested-docker-blackhole'),
      o,
      { RUNNER_NAME: 'arc-7' },
      (n) => n,
    );
    expect(written).toHaveLength(4);
    expect(readFileSync(o.junitFile!, 'utf8')).toMatch(/^<\?xml/);
    expect(JSON.parse(readFileSync(o.codeQualityFile!, 'utf8'))).toEqual([]);
    expect(JSON.parse(readFileSync(o.sarifFile!, 'utf8'))).toMatchObject({ version: '2.1.0' });
    expect(readFileSync(o.metricsFile!, 'utf8')).toContain(
      'mtu_preflight_verdict{runner="arc-7",ci_system="gitlab-ci"} 2',
    );
  });

  it('name the runner as its CI system does, else the host name', () => {
    expect(runnerName({ CI_RUNNER_DESCRIPTION: 'k8s-runner', RUNNER_NAME: 'x' }, () => 'h')).toBe('k8s-runner');
    expect(runnerName({ RUNNER_NAME: 'arc-runner-abc' }, () => 'h')).toBe('arc-runner-abc');
    expect(runnerName({ MTU_PREFLIGHT_RUNNER: 'mine', CI_RUNNER_DESCRIPTION: 'k' }, () => 'h')).toBe('mine');
    expect(runnerName({}, () => 'build-host-3')).toBe('build-host-3');
  });
});

interface Received {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A Pushgateway stand-in on loopback: answers `status` (or never, with status 0) and records each request. */
function recorder(status: number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (status > 0) res.writeHead(status).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got }),
    ),
  );
}

describe('pushMetrics', () => {
  it('PUTs the metrics under job mtu_preflight and this runner, with the URL credentials as basic auth', async () => {
    const gw = await recorder(200);
    try {
      const withCreds = gw.url.replace('http://', 'http://ops:pa%20ss@') + '/prefix/';
      const env = { CI_RUNNER_DESCRIPTION: 'k8s/runner 1' };
      const said = await pushMetrics(withCreds, loadReport('host-pmtu-blackhole'), env);
      expect(said).toBeUndefined();
      expect(gw.got).toHaveLength(1);
      const r = gw.got[0]!;
      expect(r.method).toBe('PUT');
      // A '/' in a grouping label value is base64url-encoded, as the Pushgateway's API says.
      expect(r.url).toBe(
        `/prefix/metrics/job/mtu_preflight/instance@base64/${Buffer.from('k8s/runner 1').toString('base64url')}`,
      );
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from('ops:pa ss').toString('base64')}`);
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(r.body).toContain('mtu_preflight_verdict{runner="k8s/runner 1",ci_system="gitlab-ci"} 2');
      expect(promtoolCheck(r.body).ok).toBe(true);
    } finally {
      gw.server.close();
    }
  });

  it('a plain runner name is its own path segment', () => {
    expect(pushUrl('http://pg:9091', 'runner-3').pathname).toBe('/metrics/job/mtu_preflight/instance/runner-3');
  });

  it('a gateway that answers an error status: one line, no throw', async () => {
    const gw = await recorder(500);
    try {
      expect(await pushMetrics(gw.url, loadReport('healthy-pass'), {})).toMatch(
        /^the Pushgateway at http:\/\/127\.0\.0\.1:\d+\/ answered HTTP 500; the metrics were not pushed\.$/,
      );
    } finally {
      gw.server.close();
    }
  });

  it('a dead port: one line naming the error, credentials masked, no throw', async () => {
    const gw = await recorder(200);
    const url = gw.url;
    await new Promise((r) => gw.server.close(r));
    const said = await pushMetrics(url.replace('http://', 'http://ops:s3cret@'), loadReport('healthy-pass'), {});
    expect(said).toMatch(/could not be reached \(ECONNREFUSED\); the metrics were not pushed\.$/);
    expect(said).not.toContain('s3cret');
  });

  it('a gateway that never answers: given up at the deadline', async () => {
    const gw = await recorder(0);
    try {
      const said = await pushMetrics(gw.url, loadReport('healthy-pass'), {}, 300);
      expect(said).toMatch(/could not be reached \(no answer within 0\.3 s\)/);
    } finally {
      gw.server.closeAllConnections();
      gw.server.close();
    }
  });
});
