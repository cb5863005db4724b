import { describe, expect, it } from 'vitest';
import { diagnose, type DiagnosisInput } from '../../../src/diagnose/index.js';
import type { HostLayer, Layer } from '../../../src/model/layers.js';
import type { ProbeResult } from '../../../src/model/report.js';

const probe = (over: Partial<ProbeResult>): ProbeResult => ({
  target: 'npm',
  url: 'https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz',
  host: 'registry.npmjs.org',
  address: '104.16.0.35',
  family: 4,
  outcome: 'ok',
  phases: { dnsMs: 4, connectMs: 12, tlsMs: 40, ttfbMs: 60, doneMs: 300 },
  bytes: 2 * 1024 * 1024,
  capped: true,
  throughputBps: 8_000_000,
  samples: [[300, 2 * 1024 * 1024]],
  ...over,
});

const hostLayer = (over: Partial<HostLayer>): HostLayer => ({
  id: 'host',
  kind: 'host',
  name: 'runner',
  mtu: 1500,
  interfaces: [{ name: 'eth0', mtu: 1500, state: 'up', kind: 'physical' }],
  uplinks: [
    {
      target: 'registry.npmjs.org',
      address: '104.16.0.35',
      iface: 'eth0',
      ifaceMtu: 1500,
      effectiveMtu: 1500,
      kind: 'physical',
      gateway: '10.0.0.1',
    },
  ],
  probes: [probe({})],
  notes: [],
  ...over,
});

const facts = (layers: Layer[]): DiagnosisInput => ({
  layers,
  ci: { system: 'gitlab-ci', kubernetes: true, container: true },
  stallTimeoutMs: 3000,
  minThroughput: 64 * 1024,
});

const stalled = (over: Partial<ProbeResult> = {}) =>
  probe({
    outcome: 'stall',
    phases: { dnsMs: 3, connectMs: 7, doneMs: 3100 },
    bytes: 0,
    capped: false,
    throughputBps: undefined,
    samples: [],
    stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
    ...over,
  });

describe('diagnose', () => {
  it('passes a healthy run with no findings', () => {
    expect(diagnose(facts([hostLayer({})]))).toEqual({ findings: [], verdict: 'pass' });
  });

  it('calls a TLS stall with out-of-order tail segments a pmtu-blackhole (fail)', () => {
    const d = diagnose(
      facts([hostLayer({ probes: [stalled({ tcpInfo: { raw: '', bytesAcked: 378, rcvOooPack: 2, rcvMss: 536 } })] })]),
    );
    expect(d.verdict).toBe('fail');
    expect(d.findings.map((f) => f.code)).toEqual(['pmtu-blackhole']);
    expect(d.findings[0]!.summary).toMatch(/TCP connected, then the TLS handshake stalled/);
    expect(d.findings[0]!.evidence.join('\n')).toMatch(/rcv_ooopack 2/);
    expect(d.findings[0]!.fix?.steps.map((s) => s.snippet).join('\n')).toMatch(/clamp-mss-to-pmtu/);
  });

  it('calls a TLS stall whose request head the server never ACKed, its tail SACKed, a pmtu-blackhole (outbound)', () => {
    // The upstream 1400 hop of test/fixtures/lab-upstream-1400-outbound-ss-series: Node's 1.6 KB ClientHello.
    const tcpInfo = { raw: '', bytesAcked: 1, sacked: 1, bytesSent: 3188, bytesRetrans: 1594, sndMss: 1448 };
    const d = diagnose(facts([hostLayer({ probes: [stalled({ tcpInfo })] })]));
    expect(d.findings.map((f) => f.code)).toEqual(['pmtu-blackhole']);
    expect(d.findings[0]!.evidence.join('\n')).toMatch(
      /sacked 1 with bytes_acked 1 \(the server got the tail of our request, never its first, full-size segment/,
    );
    // The same socket with the head ACKed is a server that never answers: no such claim.
    const silent = diagnose(facts([hostLayer({ probes: [stalled({ tcpInfo: { ...tcpInfo, bytesAcked: 1595 } })] })]));
    expect(silent.findings.map((f) => f.code)).toEqual(['transfer-stall']);
  });

  it('calls a stall behind a 1450 uplink a pmtu-blackhole recommending 1450', () => {
    const layer = hostLayer({
      mtu: 1450,
      uplinks: [
        { target: 'x', address: '104.16.0.35', iface: 'eth0', ifaceMtu: 1450, effectiveMtu: 1450, kind: 'veth' },
      ],
      probes: [stalled()],
    });
    const d = diagnose(facts([layer]));
    expect(d.findings[0]).toMatchObject({ code: 'pmtu-blackhole', recommendedMtu: 1450 });
    expect(d.recommendedMtu).toBe(1450);
  });

  it('does not claim a black hole it cannot show: an uncorroborated stall is transfer-stall', () => {
    const d = diagnose(facts([hostLayer({ probes: [stalled({ tcpInfo: { raw: '', bytesAcked: 378 } })] })]));
    expect(d.verdict).toBe('fail');
    expect(d.findings.map((f) => f.code)).toEqual(['transfer-stall']);
  });

  it('warns on docker0 1500 over a 1400 uplink where downloads work (latent risk)', () => {
    const layer = hostLayer({
      mtu: 1400,
      interfaces: [
        { name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' },
        { name: 'docker0', mtu: 1500, state: 'up', kind: 'bridge', ports: ['veth1'] },
      ],
      uplinks: [
        { target: 'x', address: '104.16.0.35', iface: 'eth0', ifaceMtu: 1400, effectiveMtu: 1400, kind: 'physical' },
      ],
    });
    const d = diagnose(facts([layer]));
    expect(d.verdict).toBe('warn');
    expect(d.findings[0]).toMatchObject({ code: 'mtu-mismatch', severity: 'warning', recommendedMtu: 1400 });
    expect(d.findings[0]!.summary).toMatch(/^docker0 MTU 1500 exceeds uplink eth0 MTU 1400/);
    // GitLab in Kubernetes: the dind service command comes first
    expect(d.findings[0]!.fix?.steps[0]!.snippet).toContain('command: ["--mtu=1400"');
  });

  it.each([
    [
      'dns-failure',
      { outcome: 'dns-failure', error: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND rubygems.org' } },
      /DNS lookup failed \(ENOTFOUND\).*Not an MTU problem/,
    ],
    [
      'dns-timeout',
      { outcome: 'dns-timeout', error: { code: 'DNS_TIMEOUT', message: 'no answer in 3.0 s' } },
      /DNS lookup timed out/,
    ],
    ['connect-refused', { outcome: 'connect-refused', error: { code: 'ECONNREFUSED', message: '' } }, /refused/],
    [
      'connect-timeout',
      { outcome: 'connect-timeout', error: { code: 'CONNECT_TIMEOUT', message: 'no answer' } },
      /SYN packets are small/,
    ],
    [
      'tls-error',
      { outcome: 'tls-error', error: { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: '' } },
      /intercepting proxy/,
    ],
    ['http-error', { outcome: 'http-error', status: 429, retryAfter: '120' }, /HTTP 429 \(Retry-After: 120\)/],
    [
      'proxy-error',
      {
        outcome: 'proxy-error',
        viaProxy: 'http://***:***@proxy.test:3128/',
        error: { code: 'ECONNREFUSED', message: '' },
      },
      /the proxy http:\/\/\*\*\*:\*\*\*@proxy.test:3128\/ failed/,
    ],
    [
      'redirect-error',
      { outcome: 'redirect-error', error: { code: 'REDIRECT_LOOP', message: 'redirect loop back to https://x/' } },
      /redirect loop/,
    ],
    [
      'deadline-exceeded',
      { outcome: 'deadline', bytes: 0, error: { code: 'DEADLINE', message: '' } },
      /deadline ended the probe/,
    ],
  ] as const)('names %s precisely and fails', (code, over, summary) => {
    const d = diagnose(facts([hostLayer({ probes: [probe({ ...(over as Partial<ProbeResult>), capped: false })] })]));
    expect(d.verdict).toBe('fail');
    expect(d.findings.map((f) => f.code)).toEqual([code]);
    expect(d.findings[0]!.summary).toMatch(summary);
  });

  it('never calls a slow but steady link a black hole', () => {
    const slow = probe({
      outcome: 'deadline',
      bytes: 300_000,
      capped: false,
      throughputBps: 30_000,
      phases: { connectMs: 5, tlsMs: 20, ttfbMs: 30, doneMs: 10_000 },
    });
    const d = diagnose(facts([hostLayer({ probes: [slow] })]));
    expect(d.findings.map((f) => f.code)).toEqual(['slow-transfer']);
    expect(d.verdict).toBe('warn');
  });
});
