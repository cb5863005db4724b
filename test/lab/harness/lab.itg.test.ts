// Self-test of the lab harness only: it must not depend on the product. Clients are curl (or, where curl is
// missing, a small Node https client), run in the runner namespace.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab, type LabOptions } from './lab.js';
import { bodyBytes, DEFAULT_BODY_BYTES } from './registry-server.mjs';

interface FetchResult {
  /** curl's exit code: 0 ok, 6 unresolved host, 7 refused, 28 timeout, 56 receive failure (reset). */
  exit: number;
  status: number;
  bytes: number;
  /** Seconds from start to TCP connected, to TLS done, to the end. curl reports 0 for a phase it did not finish. */
  connectS: number;
  tlsS: number;
  totalS: number;
  error: string;
  /** Raw response head (status line and headers), '' if none arrived. */
  head: string;
}

interface FetchOptions {
  /** Connect over IPv6 only. */
  ipv6?: boolean;
  /** Keep the body in this file instead of discarding it. */
  bodyFile?: string;
}

const useCurl = spawnSync('curl', ['--version']).status === 0 && process.env.LAB_CLIENT !== 'node';
let fetchCounter = 0;

/** Fetch `url` from the runner namespace, `maxS` seconds at most, with curl or else node:https. */
async function fetchInLab(lab: Lab, url: string, maxS: number, o: FetchOptions = {}): Promise<FetchResult> {
  // The runner namespace shares the file system: the client writes the head where the test can read it.
  const headFile = path.join(lab.tmpDir, `head-${fetchCounter++}.txt`);
  const limits = { timeoutMs: (maxS + 5) * 1000 };
  let r: FetchResult;
  if (useCurl) {
    const out = await lab.exec(
      'curl',
      [
        '-sS',
        '--cacert',
        lab.caFile,
        '--max-time',
        String(maxS),
        '-D',
        headFile,
        '-o',
        o.bodyFile ?? '/dev/null',
        ...(o.ipv6 ? ['-6'] : []),
        '-w',
        '%{exitcode}\t%{http_code}\t%{size_download}\t%{time_connect}\t%{time_appconnect}\t%{time_total}\t%{errormsg}',
        url,
      ],
      limits,
    );
    const [exit, status, bytes, connectS, tlsS, totalS, error] = out.stdout.split('\t');
    r = {
      exit: Number(exit),
      status: Number(status),
      bytes: Number(bytes),
      connectS: Number(connectS),
      tlsS: Number(tlsS),
      totalS: Number(totalS),
      error: error ?? '',
      head: '',
    };
  } else {
    const out = await lab.exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        NODE_CLIENT,
        url,
        lab.caFile,
        String(maxS * 1000),
        headFile,
        o.bodyFile ?? '',
        o.ipv6 ? '6' : '0',
      ],
      limits,
    );
    r = JSON.parse(out.stdout) as FetchResult;
  }
  r.head = await readFile(headFile, 'utf8').catch(() => '');
  return r;
}

// What curl reports, from node:https, for machines without curl (LAB_CLIENT=node forces it).
const NODE_CLIENT = `
import http from 'node:http'; import https from 'node:https'; import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
const [url, caFile, maxMs, headFile, bodyFile, v6] = process.argv.slice(1);
const t0 = performance.now(); const s = () => (performance.now() - t0) / 1000;
const out = { exit: 0, status: 0, bytes: 0, connectS: 0, tlsS: 0, totalS: 0, error: '' };
const https_ = url.startsWith('https:');
const done = (exit, error = '') => {
  // Like curl: a connection whose TLS handshake never finished has not "connected".
  if (https_ && !out.tlsS) out.connectS = 0;
  Object.assign(out, { exit, error, totalS: s() });
  process.stdout.write(JSON.stringify(out)); process.exit(0);
};
const sink = bodyFile ? createWriteStream(bodyFile) : null;
const req = (https_ ? https : http).get(url, { ca: readFileSync(caFile), agent: false, family: v6 === '6' ? 6 : 0 }, (res) => {
  out.status = res.statusCode;
  let head = 'HTTP/' + res.httpVersion + ' ' + res.statusCode + ' ' + res.statusMessage + '\\r\\n';
  for (let i = 0; i < res.rawHeaders.length; i += 2) head += res.rawHeaders[i] + ': ' + res.rawHeaders[i + 1] + '\\r\\n';
  writeFileSync(headFile, head + '\\r\\n');
  res.on('data', (d) => { out.bytes += d.length; sink?.write(d); });
  res.on('end', () => sink ? sink.end(() => done(0)) : done(0));
  res.on('error', (e) => done(56, e.code));
  res.on('aborted', () => done(56, 'aborted'));
});
req.on('socket', (sock) => {
  sock.on('connect', () => { out.connectS = s(); });
  sock.on('secureConnect', () => { out.tlsS = s(); });
});
req.on('error', (e) => done({ ENOTFOUND: 6, EAI_AGAIN: 6, ECONNREFUSED: 7, ECONNRESET: 56 }[e.code] ?? 1, e.code));
setTimeout(() => done(28, 'timeout'), Number(maxMs));
`;

/** `ss -tin` in the runner namespace for connections to the registry, while something is in flight. */
async function clientSockets(lab: Lab): Promise<string> {
  return (await lab.exec('ss', ['-tin', 'dst', lab.registryIp])).stdout;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lab's namespaces still present: `<prefix>` + one letter (a plain startsWith would let mtp1x1 match mtp1x10r). */
function namespacesOf(prefix: string): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.length === prefix.length + 1 && n.startsWith(prefix));
}

const labs: Lab[] = [];
async function lab(opts?: LabOptions): Promise<Lab> {
  const l = await createLab(opts);
  labs.push(l);
  return l;
}

beforeAll(() => {
  // Fail, never skip: a green lab run must prove the lab ran.
  expect(labAvailable()).toEqual({ ok: true });
});

afterEach(async () => {
  for (const l of labs.splice(0)) {
    await l.close();
    expect(namespacesOf(l.prefix)).toEqual([]);
    for (const ns of [l.runnerNs, l.routerNs, l.registryNs]) expect(existsSync(`/etc/netns/${ns}`)).toBe(false);
    expect(existsSync(l.tmpDir)).toBe(false);
  }
});

describe('lab harness', () => {
  it('healthy 1500 path: 8 MiB over HTTPS, the exact deterministic body', async () => {
    const l = await lab();
    const r = await fetchInLab(l, `https://${l.registryName}/`, 20);
    expect(r).toMatchObject({ exit: 0, status: 200, bytes: DEFAULT_BODY_BYTES });
    const bodyFile = path.join(l.tmpDir, 'body');
    expect(await fetchInLab(l, `https://${l.registryName}/any/path?bytes=300001`, 10, { bodyFile })).toMatchObject({
      exit: 0,
      bytes: 300_001,
    });
    expect(sha256(await readFile(bodyFile))).toBe(sha256(bodyBytes(0, 300_001)));
    const plain = await fetchInLab(l, `http://${l.registryIp}/`, 20);
    expect(plain).toMatchObject({ exit: 0, status: 200, bytes: DEFAULT_BODY_BYTES });
  });

  it('bottleneck 1450 with ICMP passing: PMTUD repairs the path, 8 MiB arrives', async () => {
    const l = await lab({ bottleneckMtu: 1450 });
    const r = await fetchInLab(l, `https://${l.registryName}/`, 20);
    expect(r).toMatchObject({ exit: 0, status: 200, bytes: DEFAULT_BODY_BYTES });
    // The registry learnt the path MTU from the router's ICMP frag-needed.
    const route = await l.execIn('registry', 'ip', ['route', 'get', '10.213.1.2']);
    expect(route.stdout).toMatch(/\bmtu 1450\b/);
  });

  it('bottleneck 1450 + dropped frag-needed: TLS handshake stalls after a fast TCP connect', async () => {
    const l = await lab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const pending = fetchInLab(l, `https://${l.registryName}/`, 5);
    await sleep(4000);
    const ss = await clientSockets(l);
    const r = await pending;
    expect(r).toMatchObject({ exit: 28, bytes: 0, tlsS: 0 });
    // The ClientHello went out and was ACKed: TCP works, only large segments die.
    expect(ss).toMatch(/bytes_acked:\d+/);
    expect(ss).not.toMatch(/bytes_received:/);
    // The RSA server flight is ~2.3 KB = one full 1448-byte segment + a ~830-byte tail; the tail fits through 1450,
    // so the client holds out-of-order data it cannot use: the signature of a black hole (a silent peer sends none).
    expect(ss).toMatch(/rcv_ooopack:\d+/);
    const nft = await l.execIn('router', 'nft', ['list', 'ruleset']);
    expect(Number(/frag-needed counter packets (\d+)/.exec(nft.stdout)?.[1])).toBeGreaterThan(0);
  });

  it('bottleneck 1450 + dropped frag-needed, P-256 certificate, no ML-KEM: the handshake passes, the body stalls', async () => {
    // ~1.3 KB server flight: one segment under 1450 bytes. (With X25519MLKEM768 it would be ~2.4 KB.)
    const l = await lab({ bottleneckMtu: 1450, dropFragNeeded: true, tlsKey: 'ec-p256', tlsGroups: 'X25519:P-256' });
    const big = await fetchInLab(l, `https://${l.registryName}/`, 4);
    expect(big.tlsS).toBeGreaterThan(0);
    expect(big).toMatchObject({ exit: 28, status: 0, bytes: 0 });
  });

  it('bottleneck 1450 + dropped frag-needed: plain HTTP 8 MiB GET gets no byte', async () => {
    const l = await lab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const pending = fetchInLab(l, `http://${l.registryName}/`, 5);
    await sleep(4000);
    const ss = await clientSockets(l);
    const r = await pending;
    expect(r.connectS).toBeGreaterThan(0);
    expect(r.connectS).toBeLessThan(1);
    expect(r).toMatchObject({ exit: 28, bytes: 0, status: 0 });
    expect(ss).not.toMatch(/bytes_received:/);
    // A response that fits in one segment under 1450 bytes (headers + 1000) passes: small works, big stalls.
    expect(await fetchInLab(l, `http://${l.registryName}/?bytes=1000`, 5)).toMatchObject({
      exit: 0,
      status: 200,
      bytes: 1000,
    });
  });

  it('slowRate 2mbit: low throughput, but progress', async () => {
    const l = await lab({ slowRate: '2mbit' });
    const r = await fetchInLab(l, `https://${l.registryName}/`, 3);
    expect(r.exit).toBe(28);
    // 2 mbit/s = 250 kB/s: ~750 kB in 3 s (plus the 16 kB burst); far from 8 MiB, far from nothing.
    expect(r.bytes).toBeGreaterThan(300_000);
    expect(r.bytes).toBeLessThan(1_200_000);
  });

  it('DNS: lab names resolve, extra names carry a valid certificate, unknown names are NXDOMAIN at once', async () => {
    const l = await lab({ names: ['registry.npmjs.org', 'rubygems.org'] });
    const r = await fetchInLab(l, 'https://registry.npmjs.org/some-package?bytes=1000', 10);
    expect(r).toMatchObject({ exit: 0, status: 200, bytes: 1000 });
    const unknown = await fetchInLab(l, 'https://pecl.php.net/', 10);
    expect(unknown.exit).toBe(6);
    expect(unknown.totalS).toBeLessThan(1);
    // c-ares reports the DNS rcode: ENOTFOUND is NXDOMAIN (not SERVFAIL, REFUSED or a timeout).
    const dns = await l.exec(process.execPath, [
      '--input-type=module',
      '-e',
      `
      import dns from 'node:dns';
      const out = {};
      for (const n of ['rubygems.org', 'pecl.php.net', 'sub.registry.lab.test']) {
        try { out[n] = await dns.promises.resolve4(n); } catch (e) { out[n] = e.code; }
      }
      try { out.aaaa = await dns.promises.resolve6('registry.lab.test'); } catch (e) { out.aaaa = e.code; }
      console.log(JSON.stringify(out));`,
    ]);
    expect(JSON.parse(dns.stdout)).toEqual({
      'rubygems.org': [l.registryIp],
      'pecl.php.net': 'ENOTFOUND',
      'sub.registry.lab.test': 'ENOTFOUND',
      aaaa: 'ENODATA',
    });
    const hosts = await l.exec('getent', ['hosts', 'localhost']);
    expect(hosts.stdout).toMatch(/^(127\.0\.0\.1|::1)\s+localhost/);
  });

  it('special routes and ports behave as documented', async () => {
    const l = await lab();
    const base = `https://${l.registryName}`;
    for (const code of [429, 503]) {
      const r = await fetchInLab(l, `${base}/status/${code}`, 5);
      expect(r.status).toBe(code);
      expect(r.head).toMatch(/^retry-after: 2\r$/im);
    }
    const loop = await fetchInLab(l, `${base}/redirect-loop`, 5);
    expect(loop.status).toBe(302);
    expect(loop.head).toMatch(/^location: \/redirect-loop\r$/im);
    // The stalling routes wait out their timeouts side by side.
    const [headersOnly, drip, endless, reset, tlsReset, silent, silentTcp, refused] = await Promise.all([
      fetchInLab(l, `${base}/headers-only`, 2),
      fetchInLab(l, `${base}/slow-drip`, 2.5),
      fetchInLab(l, `${base}/endless`, 1),
      fetchInLab(l, `http://${l.registryName}/reset-mid-body`, 5),
      fetchInLab(l, `${base}/reset-mid-body`, 5),
      fetchInLab(l, `${base}/silent`, 2),
      fetchInLab(l, `https://${l.registryName}:8443/`, 2),
      fetchInLab(l, `https://${l.registryName}:9443/`, 2),
    ]);
    expect(headersOnly).toMatchObject({ exit: 28, status: 200, bytes: 0 });
    expect(drip).toMatchObject({ exit: 28, status: 200 });
    expect(drip.bytes).toBeGreaterThanOrEqual(1);
    expect(drip.bytes).toBeLessThanOrEqual(3);
    expect(endless.exit).toBe(28);
    expect(endless.bytes).toBeGreaterThan(1024 * 1024);
    // 64 KiB of body, then a TCP RST: curl error 56 (receive failure)
    expect(reset).toMatchObject({ exit: 56, status: 200, bytes: 64 * 1024 });
    expect(tlsReset).toMatchObject({ exit: 56, status: 200, bytes: 64 * 1024 });
    expect(silent).toMatchObject({ exit: 28, status: 0, bytes: 0 });
    expect(silent.tlsS).toBeGreaterThan(0); // TLS completed, the request is never answered
    expect(silentTcp).toMatchObject({ exit: 28, tlsS: 0 });
    expect(refused.exit).toBe(7);
    expect(refused.totalS).toBeLessThan(1);
  });

  it('ipv6: AAAA records, PMTUD over ICMPv6 packet-too-big, and a v6 black hole', async () => {
    const repaired = await lab({ ipv6: true, bottleneckMtu: 1450 });
    expect(repaired.registryIp6).toBe('fd00:213:2::2');
    const ok = await fetchInLab(repaired, `https://${repaired.registryName}/`, 20, { ipv6: true });
    expect(ok).toMatchObject({ exit: 0, status: 200, bytes: DEFAULT_BODY_BYTES });
    const blackHole = await lab({ ipv6: true, bottleneckMtu: 1450, dropFragNeeded: true });
    const stalled = await fetchInLab(blackHole, `https://[${blackHole.registryIp6}]/`, 4);
    expect(stalled).toMatchObject({ exit: 28, bytes: 0 });
  });

  it('labs are isolated: two at once, each with its own MTU', async () => {
    const [a, b] = await Promise.all([lab(), lab({ bottleneckMtu: 1450, dropFragNeeded: true })]);
    expect(a.prefix).not.toBe(b.prefix);
    const [ra, rb] = await Promise.all([
      fetchInLab(a, `https://${a.registryName}/`, 10),
      fetchInLab(b, `https://${b.registryName}/`, 3),
    ]);
    expect(ra).toMatchObject({ exit: 0, bytes: DEFAULT_BODY_BYTES });
    expect(rb).toMatchObject({ exit: 28, bytes: 0 });
  });

  it('close() kills what spawn() started and removes everything', async () => {
    const l = await lab();
    const child = l.spawn('sleep', ['600']);
    const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal)));
    await sleep(100);
    expect(namespacesOf(l.prefix)).toHaveLength(3);
    await l.close();
    expect(await exited).toMatch(/SIG(TERM|KILL)/);
    // afterEach checks that the namespaces, /etc/netns entries and temp dir are gone (close() is idempotent).
  });
});
