/** Findings name the address family when it is part of the story: IPv6, or a dual-stack target probed per family. */
import { describe, expect, it } from 'vitest';
import { diagnose, type DiagnosisInput } from '../../../src/diagnose/index.js';
import { probeHost } from '../../../src/diagnose/rule.js';
import type { Layer, ProbeResult } from '../../../src/model/report.js';

const URL4 = 'https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz';
const ok = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'npm',
  url: URL4,
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
const v6stall = (over: Partial<ProbeResult> = {}): ProbeResult =>
  ok({
    address: '2606:4700::6810:123',
    family: 6,
    outcome: 'stall',
    phases: { dnsMs: 3, connectMs: 7, doneMs: 3100 },
    bytes: 0,
    capped: false,
    throughputBps: undefined,
    samples: [],
    stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
    tcpInfo: { raw: '', bytesAcked: 517, rcvOooPack: 1, rcvMss: 536 },
    ...over,
  });

const layer = (probes: ProbeResult[]): Layer => ({
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
    {
      target: 'registry.npmjs.org',
      address: '2606:4700::6810:123',
      iface: 'eth0',
      ifaceMtu: 1500,
      effectiveMtu: 1500,
      kind: 'physical',
      gateway: 'fe80::1',
    },
  ],
  probes,
  notes: [],
});
const facts = (probes: ProbeResult[]): DiagnosisInput => ({
  layers: [layer(probes)],
  ci: { system: 'local', kubernetes: false, container: false },
  stallTimeoutMs: 3000,
  minThroughput: 64 * 1024,
});

describe('address families in findings', () => {
  it('probeHost: plain for IPv4 alone, "over IPv6" for IPv6, both named when one URL was probed per family', () => {
    const v4 = ok();
    const v6 = v6stall();
    expect(probeHost(v4, [v4])).toBe('registry.npmjs.org');
    expect(probeHost(v6, [v6])).toBe('registry.npmjs.org over IPv6');
    expect(probeHost(v4, [v4, v6])).toBe('registry.npmjs.org over IPv4');
    expect(probeHost(ok({ family: undefined }), [])).toBe('registry.npmjs.org');
  });

  it('IPv6 black-holed, IPv4 fine: pmtu-blackhole over IPv6, the IPv4 success as evidence, the IPv6 MSS in the fix', () => {
    const d = diagnose(facts([ok(), v6stall()]));
    expect(d.verdict).toBe('fail');
    expect(d.findings.map((f) => f.code)).toEqual(['pmtu-blackhole']);
    const f = d.findings[0]!;
    expect(f.summary).toMatch(/^registry\.npmjs\.org over IPv6: TCP connected, then the TLS handshake stalled/);
    expect(f.evidence).toContain(
      'registry.npmjs.org over IPv4 (104.16.0.35) downloaded fine while IPv6 (2606:4700::6810:123) stalled: only the IPv6 path drops full-size packets',
    );
    expect(f.evidence.join('\n')).not.toMatch(/other target\(s\) downloaded fine/);
    expect(f.fix?.summary).toMatch(/1400-byte path \(IPv6\).*advertise MSS 1340/);
    expect(f.fix?.steps[1]?.snippet).toBe('ip -6 route change default via fe80::1 dev eth0 advmss 1340');
  });

  it('an IPv6-only failure names the family; an IPv4-only one reads as before', () => {
    const refused = {
      outcome: 'connect-refused' as const,
      phases: { dnsMs: 2, doneMs: 5 },
      bytes: 0,
      capped: false,
      throughputBps: undefined,
      samples: [],
    };
    expect(
      diagnose(facts([ok({ ...refused, family: 6, address: '2606:4700::6810:123' })])).findings[0]!.summary,
    ).toMatch(/^registry\.npmjs\.org over IPv6: TCP connection to 2606:4700::6810:123 refused/);
    expect(diagnose(facts([ok(refused)])).findings[0]!.summary).toMatch(
      /^registry\.npmjs\.org: TCP connection to 104\.16\.0\.35 refused/,
    );
  });
});
