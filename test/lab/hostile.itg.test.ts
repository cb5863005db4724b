/**
 * Issue 5: hostile and broken servers, and a resolver that never answers. Each case runs the bundled CLI in the
 * runner namespace against the lab registry (or a second registry-server instance with a bad certificate), and
 * asserts the finding code a user would act on, that nothing is blamed on the MTU without corroboration (the lab
 * path is 1500 everywhere, so every stall here is a server's doing), and that the run ends by its deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab } from './harness/lab.js';
import { codes, runCli, type CliRun } from './cli.js';
import type { Finding, ProbeResult } from '../../src/model/report.js';

const SERVER_SCRIPT = path.resolve(import.meta.dirname, 'harness/registry-server.mjs');
/** Node start-up plus rendering: what a run may take beyond its --timeout. */
const STARTUP_SLACK_MS = 1500;
const MIRROR = 'mirror.lab.test';

let lab: Lab;
const extraServers: ChildProcess[] = [];

beforeAll(async () => {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
  lab = await createLab({ names: [MIRROR], tlsKey: 'ec-p256' });
  await Promise.all([
    startCertVariant('expired', 10443),
    startCertVariant('self-signed', 10444),
    startCertVariant('wrong-name', 10445),
  ]);
});

afterAll(async () => {
  for (const c of extraServers) c.kill('SIGKILL');
  await lab?.close();
});

/** openssl in the lab's temp dir; throws with its stderr. */
function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: lab.tmpDir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/**
 * A second registry-server instance in the registry namespace, HTTPS only on `port`, with a certificate that is
 * wrong in one way: expired (lab CA, notAfter a day before notBefore), self-signed (no CA), or for another name.
 */
async function startCertVariant(kind: 'expired' | 'self-signed' | 'wrong-name', port: number): Promise<void> {
  const f = (n: string) => path.join(lab.tmpDir, `${kind}-${n}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const name = kind === 'wrong-name' ? 'wrong.example' : lab.registryName;
  writeFileSync(
    f('ext.cnf'),
    `basicConstraints = critical,CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:${name}\n`,
  );
  if (kind === 'self-signed') {
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('key.pem'),
      '-out',
      f('cert.pem'),
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ]);
  } else {
    openssl(['req', '-new', ...ec, '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', `/CN=${name}`]);
    openssl([
      'x509',
      '-req',
      '-in',
      f('csr.pem'),
      '-CA',
      path.join(lab.tmpDir, 'ca.pem'),
      '-CAkey',
      path.join(lab.tmpDir, 'ca.key'),
      '-set_serial',
      String(port),
      '-days',
      kind === 'expired' ? '-1' : '2',
      '-extfile',
      f('ext.cnf'),
      '-out',
      f('cert.pem'),
    ]);
  }
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.registryNs,
      process.execPath,
      SERVER_SCRIPT,
      '--cert',
      f('cert.pem'),
      '--key',
      f('key.pem'),
      '--log',
      f('server.log'),
      '--https-only',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  extraServers.push(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${kind} server not ready: ${err}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited ${code}: ${err}`));
    });
  });
}

interface Case {
  name: string;
  /** Path (or full URL) on the lab registry. */
  url: (l: Lab) => string;
  timeout: number;
  stall?: number;
  extra?: string[];
  /** The only findings expected, in order. */
  codes: string[];
  exit: number;
  check?: (p: ProbeResult, findings: Finding[], r: CliRun) => void;
}

const reg = (p: string) => (l: Lab) => `https://${l.registryName}${p}`;

const CASES: Case[] = [
  {
    name: 'a port that accepts TCP and never speaks (8443): transfer-stall in the TLS handshake, not pmtu-blackhole',
    url: (l) => `https://${l.registryName}:8443/x`,
    timeout: 6,
    stall: 2,
    codes: ['transfer-stall'],
    exit: 1,
    check: (p, f) => {
      expect(p).toMatchObject({ outcome: 'stall', stall: { phase: 'tls', afterBytes: 0 } });
      expect(p.phases.connectMs).toBeDefined();
      expect(f[0]!.summary).toMatch(/nothing here confirms it/);
    },
  },
  {
    name: 'a server that reads the request and never answers (/silent): transfer-stall waiting for the response',
    url: reg('/silent'),
    timeout: 6,
    stall: 2,
    codes: ['transfer-stall'],
    exit: 1,
    check: (p) => {
      expect(p).toMatchObject({ outcome: 'stall', stall: { phase: 'headers' } });
      expect(p.phases.tlsMs).toBeDefined();
    },
  },
  {
    name: 'headers, then no body (/headers-only): transfer-stall in the body after 0 bytes',
    url: reg('/headers-only'),
    timeout: 6,
    stall: 2,
    codes: ['transfer-stall'],
    exit: 1,
    check: (p) => expect(p).toMatchObject({ outcome: 'stall', status: 200, stall: { phase: 'body', afterBytes: 0 } }),
  },
  {
    name: '1 byte per second (/slow-drip): slow-transfer cut off by the deadline, never a stall',
    url: reg('/slow-drip'),
    timeout: 5,
    stall: 2,
    codes: ['slow-transfer'],
    exit: 0,
    check: (p, f) => {
      expect(p.outcome).toBe('deadline');
      expect(p.bytes).toBeGreaterThanOrEqual(2);
      expect(f[0]!.summary).toMatch(/cut off by the deadline/);
    },
  },
  {
    name: 'an endless body (/endless): success at --max-bytes, capped',
    url: reg('/endless'),
    timeout: 6,
    extra: ['--max-bytes', '1M'],
    codes: [],
    exit: 0,
    check: (p) => {
      expect(p).toMatchObject({ outcome: 'ok', capped: true });
      expect(p.bytes).toBeGreaterThanOrEqual(1024 * 1024);
      expect(p.bytes).toBeLessThan(1024 * 1024 + 256 * 1024);
    },
  },
  {
    name: 'a redirect loop: redirect-error',
    url: reg('/redirect-loop'),
    timeout: 6,
    codes: ['redirect-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('REDIRECT_LOOP');
      expect(f[0]!.summary).toMatch(/redirect loop/);
    },
  },
  {
    name: 'a redirect from https to plain http: refused as a downgrade, redirect-error',
    url: (l) => `https://${l.registryName}/redirect?to=${encodeURIComponent(`http://${l.registryName}/big.tgz`)}`,
    timeout: 6,
    codes: ['redirect-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('REDIRECT_DOWNGRADE');
      expect(f[0]!.summary).toMatch(/from https to http:\/\/registry\.lab\.test/);
    },
  },
  {
    name: 'a redirect to another host: followed, and the report lists it',
    url: (l) => `https://${l.registryName}/redirect?to=${encodeURIComponent(`https://${MIRROR}/big.tgz`)}`,
    timeout: 6,
    codes: [],
    exit: 0,
    check: (p) => {
      expect(p).toMatchObject({ outcome: 'ok', capped: true, redirects: [`https://${MIRROR}/big.tgz`] });
    },
  },
  {
    name: 'huge response headers (64 KiB): http-error, malformed HTTP',
    url: reg('/huge-headers'),
    timeout: 6,
    codes: ['http-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('UND_ERR_HEADERS_OVERFLOW');
      expect(f[0]!.summary).toMatch(/malformed HTTP response \(UND_ERR_HEADERS_OVERFLOW\)/);
    },
  },
  {
    name: 'TLS to a plain-HTTP port: tls-error',
    url: (l) => `https://${l.registryName}:80/x`,
    timeout: 6,
    codes: ['tls-error'],
    exit: 1,
    check: (p) => expect(p.error?.code).toMatch(/^(ERR_SSL_|EPROTO)/),
  },
  {
    name: 'an expired certificate: tls-error naming CERT_HAS_EXPIRED',
    url: (l) => `https://${l.registryName}:10443/x`,
    timeout: 6,
    codes: ['tls-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('CERT_HAS_EXPIRED');
      expect(f[0]!.summary).toMatch(/CERT_HAS_EXPIRED/);
      expect(f[0]!.summary).toMatch(/expired/);
    },
  },
  {
    name: 'a self-signed certificate: tls-error naming DEPTH_ZERO_SELF_SIGNED_CERT',
    url: (l) => `https://${l.registryName}:10444/x`,
    timeout: 6,
    codes: ['tls-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(f[0]!.summary).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT/);
      expect(f[0]!.summary).toMatch(/self-signed/);
    },
  },
  {
    name: 'a certificate for another name: tls-error naming ERR_TLS_CERT_ALTNAME_INVALID',
    url: (l) => `https://${l.registryName}:10445/x`,
    timeout: 6,
    codes: ['tls-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(f[0]!.summary).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(f[0]!.summary).toMatch(/wrong\.example|name/);
    },
  },
  {
    name: 'a reset mid-body: probe-error ECONNRESET after the bytes that arrived',
    url: reg('/reset-mid-body'),
    timeout: 6,
    codes: ['probe-error'],
    exit: 1,
    check: (p, f) => {
      expect(p.error?.code).toBe('ECONNRESET');
      expect(p.bytes).toBeGreaterThan(0);
      expect(f[0]!.summary).toMatch(/connection reset after \d+ bytes/);
    },
  },
  {
    name: '429 with Retry-After: http-error with the Retry-After in the summary',
    url: reg('/status/429?retry-after=120'),
    timeout: 6,
    codes: ['http-error'],
    exit: 1,
    check: (p, f) => {
      expect(p).toMatchObject({ status: 429, retryAfter: '120' });
      expect(f[0]!.summary).toMatch(/HTTP 429 \(Retry-After: 120\)/);
    },
  },
  {
    name: '503 with Retry-After: http-error with the Retry-After in the summary',
    url: reg('/status/503'),
    timeout: 6,
    codes: ['http-error'],
    exit: 1,
    check: (p, f) => {
      expect(p).toMatchObject({ status: 503, retryAfter: '2' });
      expect(f[0]!.summary).toMatch(/HTTP 503 \(Retry-After: 2\)/);
    },
  },
];

describe('hostile and broken servers', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const args = [
      '--url',
      c.url(lab),
      '--registries',
      'none',
      '--ca-file',
      lab.caFile,
      '--docker',
      'off',
      '--json',
      '--timeout',
      String(c.timeout),
      ...(c.stall ? ['--stall-timeout', String(c.stall)] : []),
      ...(c.extra ?? []),
    ];
    const r = await runCli(lab, args);
    expect(r.report, r.stderr).toBeDefined();
    expect(codes(r)).toEqual(c.codes);
    expect(codes(r)).not.toContain('pmtu-blackhole');
    expect(r.code).toBe(c.exit);
    expect(r.ms).toBeLessThanOrEqual(c.timeout * 1000 + STARTUP_SLACK_MS);
    const p = r.report!.layers[0]!.probes[0]!;
    c.check?.(p, r.report!.findings, r);
  });
});

describe('a resolver that never answers', () => {
  it('drops every DNS query: dns-timeout saying the lookup timed out, by the deadline', async () => {
    // Drop (not reject) port 53 in the registry namespace, where the lab's only resolver listens: the stub resolver
    // retries for 10 s or more, getaddrinfo cannot be cancelled, and the run must not wait for it.
    const nft = (...a: string[]) => lab.execIn('registry', 'nft', a);
    await nft('add', 'table', 'inet', 'mtp_dns_drop');
    await nft(
      'add',
      'chain',
      'inet',
      'mtp_dns_drop',
      'input',
      '{ type filter hook input priority 0 ; policy accept ; }',
    );
    await nft('add', 'rule', 'inet', 'mtp_dns_drop', 'input', 'udp', 'dport', '53', 'counter', 'drop');
    await nft('add', 'rule', 'inet', 'mtp_dns_drop', 'input', 'tcp', 'dport', '53', 'counter', 'drop');
    try {
      for (const [timeout, stall] of [
        [6, 2],
        [4, 3.9],
      ] as const) {
        // Second round: the stall timeout never fires before the deadline, the deadline itself ends the lookup.
        const r = await runCli(lab, [
          '--url',
          `https://${lab.registryName}/big.tgz`,
          '--registries',
          'none',
          '--ca-file',
          lab.caFile,
          '--docker',
          'off',
          '--json',
          '--timeout',
          String(timeout),
          '--stall-timeout',
          String(stall),
        ]);
        expect(codes(r)).toEqual(['dns-timeout']);
        expect(r.code).toBe(1);
        expect(r.ms).toBeLessThanOrEqual(timeout * 1000 + STARTUP_SLACK_MS);
        const p = r.report!.layers[0]!.probes[0]!;
        expect(p).toMatchObject({ outcome: 'dns-timeout', error: { code: 'DNS_TIMEOUT' } });
        expect(p.address).toBeUndefined();
        expect(r.report!.findings[0]!.summary).toMatch(
          /^registry\.lab\.test: DNS lookup timed out \(DNS lookup of registry\.lab\.test gave no answer in \d/,
        );
      }
      const counters = await nft('list', 'table', 'inet', 'mtp_dns_drop');
      expect(counters.stdout).toMatch(/udp dport 53 counter packets [1-9]/);
    } finally {
      await nft('delete', 'table', 'inet', 'mtp_dns_drop');
    }
  });
});
