/**
 * What a user reads first: which hop the diagram marks (decided by diagnosis, Finding.hops), the report's
 * recommendedMtu (the verdict's), the headline's MTU (its top finding's), and a failure said once for every target.
 */
import { describe, expect, it } from 'vitest';
import { blamedHops } from '../../../src/diagnose/hops.js';
import { diagnose, verdictMtu } from '../../../src/diagnose/index.js';
import type { Finding, ProbeResult, Report } from '../../../src/model/report.js';
import { describeDiagnosis } from '../../../src/render/phrases.js';
import { daemonLayer, hostLayer, networkLayer } from './layer-builders.js';

const finding = (over: Partial<Finding>): Finding => ({
  code: 'mtu-mismatch',
  severity: 'warning',
  layer: 'host',
  summary: '',
  evidence: [],
  ...over,
});
const uplink = {
  target: 'registry.npmjs.org',
  address: '104.16.0.35',
  iface: 'eth0',
  ifaceMtu: 1400,
  effectiveMtu: 1400,
  kind: 'physical' as const,
};

describe('blamedHops', () => {
  const host = hostLayer({
    mtu: 1400,
    interfaces: [
      { name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' },
      { name: 'docker0', mtu: 1500, state: 'up', kind: 'bridge' },
      { name: 'br-small', mtu: 1400, state: 'up', kind: 'bridge' },
    ],
    uplinks: [uplink],
  });
  const daemon = daemonLayer({ parent: 'host', mtu: 1400 });
  const bridge = networkLayer('docker-net-bridge', { parent: 'docker', mtu: 1500, bridge: 'docker0', isDefault: true });
  const overlay = networkLayer('docker-net-ov', { parent: 'docker', mtu: 1400, driver: 'overlay' });

  it.each<[string, Finding, unknown]>([
    [
      'a mismatch on the host: each bridge larger than the way out',
      finding({}),
      [{ from: { kind: 'layer', layer: 'host' }, to: { kind: 'interface', layer: 'host', iface: 'docker0' } }],
    ],
    [
      'a black hole at a docker network: the way into it',
      finding({ code: 'pmtu-blackhole', severity: 'error', layer: 'docker-net-bridge' }),
      [{ from: { kind: 'layer', layer: 'docker' }, to: { kind: 'layer', layer: 'docker-net-bridge' } }],
    ],
    [
      'a stall on the host: beyond this machine, in by the uplink',
      finding({ code: 'pmtu-blackhole', severity: 'error' }),
      [{ from: { kind: 'internet' }, to: { kind: 'interface', layer: 'host', iface: 'eth0' } }],
    ],
    [
      'an overlay too large for what it is, though not for its parent: the way into it',
      finding({ layer: 'docker-net-ov' }),
      [{ from: { kind: 'layer', layer: 'docker' }, to: { kind: 'layer', layer: 'docker-net-ov' } }],
    ],
    ['not about a hop (DNS)', finding({ code: 'dns-failure', severity: 'error' }), []],
    ['an info finding', finding({ severity: 'info', layer: 'docker-net-ov' }), []],
  ])('%s', (_, f, hops) => {
    // With the docker layers present, docker0 is the bridge network's, not the host's to judge.
    const layers = f.layer === 'host' && f.code === 'mtu-mismatch' ? [host] : [host, daemon, bridge, overlay];
    expect(blamedHops(f, layers)).toEqual(hops);
  });
});

const probe = (over: Partial<ProbeResult>): ProbeResult => ({
  target: 'rubygems',
  url: 'https://rubygems.org/downloads/nokogiri-1.16.0.gem',
  host: 'rubygems.org',
  outcome: 'dns-failure',
  phases: { dnsMs: 11, doneMs: 11 },
  bytes: 0,
  capped: false,
  samples: [],
  error: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND rubygems.org' },
  ...over,
});

describe('a machine where rubygems and pecl do not resolve, with a lint warning about a 1500 job network', () => {
  const pecl = probe({ target: 'pecl', url: 'https://pecl.php.net/get/grpc-1.60.0.tgz', host: 'pecl.php.net' });
  const host = hostLayer({
    mtu: 1400,
    interfaces: [{ name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' }],
    uplinks: [uplink],
    probes: [probe({}), pecl],
  });
  const lintWarning = finding({
    code: 'ci-config-mtu',
    summary: 'container: job network at 1500 over a 1400 uplink',
    recommendedMtu: 1400,
    file: '.github/workflows/ci.yml',
    line: 12,
  });
  const d = diagnose({
    layers: [host],
    ci: { system: 'local', kubernetes: false, container: false },
    stallTimeoutMs: 3000,
    minThroughput: 65536,
    lint: { findings: [lintWarning] },
  });

  it('one dns-failure for both hosts, then the lint warning', () => {
    expect(d.findings.map((f) => [f.code, f.targets])).toEqual([
      ['dns-failure', ['rubygems', 'pecl']],
      ['ci-config-mtu', undefined],
    ]);
    expect(d.findings[0]!.summary).toBe(
      'rubygems.org, pecl.php.net: DNS lookup failed (ENOTFOUND): the name does not resolve from here. Not an MTU problem.',
    );
    expect(d.findings[0]!.evidence).toHaveLength(4);
  });

  it('fails with no recommended MTU: the failure is not about the MTU, and the lint warning is not the verdict', () => {
    expect(d.verdict).toBe('fail');
    expect(d.recommendedMtu).toBeUndefined();
  });

  it('the headline names both hosts and no MTU', () => {
    const report = { verdict: d.verdict, findings: d.findings, layers: [host], uplinkMtu: 1400 } as unknown as Report;
    expect(describeDiagnosis(report)).toBe('dns-failure for rubygems.org, pecl.php.net in host (+1 more finding).');
    // A report written by 0.1.0 carried the lint's 1400 as its recommendedMtu: the headline still does not borrow it.
    expect(describeDiagnosis({ ...report, recommendedMtu: 1400 })).not.toMatch(/set the MTU/);
  });
});

describe('verdictMtu', () => {
  it.each<[string, Finding[], 'pass' | 'warn' | 'fail', number | undefined]>([
    [
      'the black hole, not the smaller MTU of a warning beside it',
      [finding({ severity: 'error', recommendedMtu: 1450 }), finding({ recommendedMtu: 1400 })],
      'fail',
      1450,
    ],
    [
      'the first error that recommends one',
      [finding({ code: 'dns-failure', severity: 'error' }), finding({ severity: 'error', recommendedMtu: 1420 })],
      'fail',
      1420,
    ],
    [
      'a warning run: the first warning with one',
      [finding({ recommendedMtu: 1400 }), finding({ recommendedMtu: 1280 })],
      'warn',
      1400,
    ],
    ['a pass: none', [finding({ severity: 'info', recommendedMtu: 1400 })], 'pass', undefined],
  ])('%s', (_, findings, verdict, mtu) => {
    expect(verdictMtu(findings, verdict)).toBe(mtu);
  });
});
