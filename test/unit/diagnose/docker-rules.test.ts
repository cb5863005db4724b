import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../src/diagnose/index.js';
import type { Layer } from '../../../src/model/layers.js';
import type { ProbeResult } from '../../../src/model/report.js';
import { containerLayer, daemonLayer, engine, hostLayer, networkLayer } from './layer-builders.js';

const probe = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'npm',
  url: 'https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz',
  host: 'registry.npmjs.org',
  address: '104.16.0.35',
  family: 4,
  outcome: 'ok',
  phases: { dnsMs: 3, connectMs: 9, tlsMs: 30, ttfbMs: 50, doneMs: 250 },
  bytes: 2 * 1024 * 1024,
  capped: true,
  throughputBps: 10_000_000,
  samples: [],
  ...over,
});
const stalled = () =>
  probe({
    outcome: 'stall',
    phases: { connectMs: 7, doneMs: 3100 },
    bytes: 0,
    capped: false,
    stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
  });

const host = hostLayer({
  mtu: 1400,
  interfaces: [
    { name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' },
    { name: 'docker0', mtu: 1500, state: 'up', kind: 'bridge', ports: ['veth1'] },
  ],
  uplinks: [
    {
      target: 'registry.npmjs.org',
      address: '104.16.0.35',
      iface: 'eth0',
      ifaceMtu: 1400,
      effectiveMtu: 1400,
      kind: 'physical',
    },
  ],
  probes: [probe()],
});
const daemon = (over: Parameters<typeof daemonLayer>[0] = {}) =>
  daemonLayer({
    parent: 'host',
    mtu: 1400,
    interfaces: host.interfaces,
    uplinks: host.uplinks,
    probes: [probe()],
    ...over,
  });
const bridge = networkLayer('docker-net-bridge', {
  parent: 'docker',
  mtu: 1500,
  network: 'bridge',
  bridge: 'docker0',
  isDefault: true,
  mtuOption: 1500,
});
const ci = { system: 'github-actions' as const, kubernetes: false, container: false };
const run = (layers: Layer[]) => diagnose({ layers, ci, stallTimeoutMs: 3000, minThroughput: 65536 });

describe('docker rules across layers', () => {
  it('the docker layer speaks for docker0: no host-level mtu-mismatch on top of the docker one', () => {
    const onBridge = containerLayer('docker-container-bridge', { parent: bridge.id, mtu: 1500, probes: [probe()] });
    const d = run([host, daemon(), bridge, onBridge]);
    expect(d.findings.map((f) => [f.code, f.layer])).toEqual([['mtu-mismatch', 'docker-net-bridge']]);
    // Without the docker layer the host rule still flags docker0.
    expect(run([host]).findings.map((f) => [f.code, f.layer])).toEqual([['mtu-mismatch', 'host']]);
  });

  it("a stall in the daemon namespace too is the daemon layer's finding, not the bridge's", () => {
    const onBridge = containerLayer('docker-container-bridge', { parent: bridge.id, mtu: 1500, probes: [stalled()] });
    const d = run([host, daemon({ probes: [stalled()] }), bridge, onBridge]);
    expect(d.findings.map((f) => [f.code, f.layer])).toEqual([['pmtu-blackhole', 'docker']]);
  });

  it('verification that never works: not verified, recommending the uplink MTU', () => {
    const onBridge = containerLayer('docker-container-bridge', { parent: bridge.id, mtu: 1500, probes: [stalled()] });
    const verify = [1400, 1360, 1280].flatMap((m) => [
      networkLayer(`docker-net-verify-${m}`, { parent: 'docker', mtu: m, purpose: 'verify', network: `verify-${m}` }),
      containerLayer(`docker-container-verify-${m}`, { parent: `docker-net-verify-${m}`, mtu: m, probes: [stalled()] }),
    ]);
    const d = run([host, daemon(), bridge, onBridge, ...verify]);
    expect(d.findings.map((f) => f.code)).toEqual(['pmtu-blackhole']); // verification stalls are evidence only
    expect(d.findings[0]).toMatchObject({ recommendedMtu: 1400, verified: { mtu: 1400, ok: false } });
    expect(d.findings[0]!.verified!.detail).toMatch(/no tried MTU worked \(1400, 1360, 1280\)/);
  });

  it('GitHub container-job networks get the daemon-level fix', () => {
    const gh = networkLayer('docker-net-github_network_abc', {
      parent: 'docker',
      mtu: 1500,
      network: 'github_network_abc',
      origin: 'github-actions',
    });
    const b = { ...bridge, mtu: 1400, mtuOption: 1400 };
    // Unprobed daemon (no image): the default bridge's --mtu is the reference. The host's docker0 follows --mtu.
    const h = { ...host, interfaces: host.interfaces.map((i) => (i.name === 'docker0' ? { ...i, mtu: 1400 } : i)) };
    const unprobed = daemon({ probes: [], interfaces: [], uplinks: [] });
    delete unprobed.mtu;
    delete unprobed.view;
    const d = run([h, unprobed, b, gh]);
    expect(d.findings.map((f) => [f.code, f.layer, f.recommendedMtu])).toEqual([
      ['mtu-mismatch', 'docker-net-github_network_abc', 1400],
    ]);
    expect(d.findings[0]!.summary).toMatch(
      /dockerd --mtu=1400 applies to the default bridge only; this network kept 1500/,
    );
    expect(d.findings[0]!.fix!.summary).toMatch(/created by the Actions runner/);
    expect(d.findings[0]!.fix!.steps.map((s) => s.snippet).join('\n')).toMatch(/"default-network-opts"/);
  });

  it('networks at or below the uplink MTU are fine', () => {
    const ok = { ...bridge, mtu: 1400, mtuOption: 1400 };
    expect(run([host, daemon(), ok]).findings).toEqual([]);
  });
});

describe('fixes follow the daemon version', () => {
  const onBridge = containerLayer('docker-container-bridge', { parent: bridge.id, mtu: 1500, probes: [probe()] });
  const snippets = (version: string) =>
    run([host, daemon({ version: engine(version) }), bridge, onBridge])
      .findings[0]!.fix!.steps.map((s) => s.snippet)
      .join('\n');

  it('Docker 24+: --mtu plus default-network-opts for user-defined networks', () => {
    expect(snippets('25.0.3')).toMatch(/"default-network-opts"/);
    expect(snippets('25.0.3')).toMatch(/--default-network-opt=bridge=com.docker.network.driver.mtu=1400/);
  });

  it('Docker 20: no default-network-opts anywhere (dockerd before 24.0 refuses to start with it)', () => {
    expect(snippets('20.10.24+dfsg1')).not.toMatch(/default-network-opt/);
    expect(snippets('20.10.24+dfsg1')).toMatch(/"mtu": 1400/);
  });
});
