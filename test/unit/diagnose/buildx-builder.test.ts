/**
 * The buildx-builder rule through diagnose(): a builder judged by contrast with the daemon's namespace, buildkitd's
 * bridge by contrast with the builder's own way out, and the fixes in the form the builder was made.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../src/diagnose/index.js';
import { builderVerificationMtu } from '../../../src/diagnose/rules/buildx-builder.js';
import type { BuildkitBridgeLayer, BuildxBuilderLayer, Layer } from '../../../src/model/layers.js';
import type { CiFact, ProbeResult, Uplink } from '../../../src/model/report.js';
import { containerLayer, daemonLayer, hostLayer, networkLayer } from './layer-builders.js';

const probe = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'url',
  url: 'https://registry.lab.test/blob',
  host: 'registry.lab.test',
  address: '10.213.2.2',
  family: 4,
  outcome: 'ok',
  phases: { connectMs: 9, tlsMs: 30, ttfbMs: 50, doneMs: 250 },
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
const uplink = (mtu: number): Uplink => ({
  target: 'registry.lab.test',
  address: '10.213.2.2',
  iface: 'eth0',
  ifaceMtu: mtu,
  effectiveMtu: mtu,
  kind: 'veth',
});

const host = hostLayer({ mtu: 1450, uplinks: [uplink(1450)], probes: [probe()] });
const daemon = daemonLayer({ parent: 'host', mtu: 1450, uplinks: [uplink(1450)], probes: [probe()] });
const docker0 = networkLayer('docker-net-bridge', { parent: 'docker', mtu: 1450, network: 'bridge', isDefault: true });
const buildnet = networkLayer('docker-net-buildnet', { parent: 'docker', mtu: 1500, network: 'buildnet' });
const builder = (over: Partial<BuildxBuilderLayer> = {}): BuildxBuilderLayer => ({
  id: 'buildx-ci0',
  kind: 'buildx-builder',
  name: 'buildx builder ci (buildx_buildkit_ci0)',
  parent: buildnet.id,
  mtu: 1500,
  interfaces: [],
  uplinks: [uplink(1500)],
  probes: [stalled()],
  notes: [],
  builder: 'ci',
  container: 'buildx_buildkit_ci0',
  network: 'buildnet',
  source: 'buildx-state',
  image: 'probe',
  ms: 900,
  ...over,
});
const bridge = (over: Partial<BuildkitBridgeLayer> = {}): BuildkitBridgeLayer => ({
  id: 'buildx-ci0-bridge',
  kind: 'buildkit-bridge',
  name: 'buildkitd bridge buildkit0 (RUN steps of ci)',
  parent: 'buildx-ci0',
  mtu: 1500,
  interfaces: [],
  uplinks: [],
  probes: [stalled()],
  notes: [],
  bridge: 'buildkit0',
  builder: 'ci',
  replica: { mtu: 1500, ms: 3300 },
  ...over,
});
const verify1450 = [
  networkLayer('docker-net-verify-1450', { parent: 'docker', mtu: 1450, purpose: 'verify', network: 'verify-1450' }),
  containerLayer('docker-container-verify-1450', { parent: 'docker-net-verify-1450', mtu: 1450, probes: [probe()] }),
];
const gh: CiFact = { system: 'github-actions', kubernetes: false, container: false };
const run = (layers: Layer[], ci: CiFact = gh) => diagnose({ layers, ci, stallTimeoutMs: 3000, minThroughput: 65536 });
const snippets = (f: { fix?: { steps: Array<{ snippet: string }> } } | undefined) =>
  (f?.fix?.steps ?? []).map((s) => s.snippet).join('\n');

describe('buildx builders', () => {
  it('a builder that stalls where the daemon namespace fetched: pmtu-blackhole on the builder, verified at 1450', () => {
    const before = [host, daemon, docker0, buildnet, builder()];
    expect(builderVerificationMtu(before)).toBe(1450);
    const d = run([...before, ...verify1450]);
    const f = d.findings.find((x) => x.layer === 'buildx-ci0');
    expect(d.verdict).toBe('fail');
    expect(f).toMatchObject({ code: 'pmtu-blackhole', recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect(f!.summary).toMatch(/buildx builder ci \(container buildx_buildkit_ci0 on buildnet\), MTU 1500/);
    // The hop that shrinks: from the daemon into buildnet.
    expect(f!.hops).toEqual([
      { from: { kind: 'layer', layer: 'docker' }, to: { kind: 'layer', layer: 'docker-net-buildnet' } },
    ]);
    // Fixes as the builder was made: setup-buildx-action's inputs, then docker buildx create.
    expect(snippets(f)).toContain(
      '- uses: docker/setup-buildx-action@v3\n  with:\n    driver: docker-container\n    driver-opts: |\n      network=host',
    );
    expect(snippets(f)).toContain('docker network create --opt com.docker.network.driver.mtu=1450 buildx-mtu');
    expect(snippets(f)).toContain(
      'docker buildx create --name ci --driver docker-container --driver-opt network=buildx-mtu --use --bootstrap',
    );
  });

  it('GitLab: the same docker buildx create line in the job script', () => {
    const f = run([host, daemon, buildnet, builder(), ...verify1450], { ...gh, system: 'gitlab-ci' }).findings.find(
      (x) => x.layer === 'buildx-ci0',
    );
    expect(snippets(f)).toContain(
      'script:\n  - docker buildx create --name ci --driver docker-container --driver-opt network=host --use --bootstrap',
    );
    expect(snippets(f)).not.toContain('setup-buildx-action');
  });

  it("the daemon's namespace stalls too: no builder finding (the hole is further out)", () => {
    const d = run([host, daemonLayer({ ...daemon, probes: [stalled()] }), buildnet, builder()]);
    expect(d.findings.filter((x) => x.layer === 'buildx-ci0')).toEqual([]);
    expect(
      builderVerificationMtu([host, daemonLayer({ ...daemon, probes: [stalled()] }), buildnet, builder()]),
    ).toBeUndefined();
  });

  it('a builder above the path whose downloads work: mtu-mismatch warning', () => {
    const f = run([host, daemon, buildnet, builder({ probes: [probe()] })]).findings.find(
      (x) => x.layer === 'buildx-ci0',
    );
    expect(f).toMatchObject({ code: 'mtu-mismatch', severity: 'warning', recommendedMtu: 1450 });
  });

  it('a builder on a network that fits passes', () => {
    const fits = { ...buildnet, mtu: 1450 };
    const d = run([host, daemon, fits, builder({ mtu: 1450, uplinks: [uplink(1450)], probes: [probe()] })]);
    expect(d.verdict).toBe('pass');
  });
});

describe("buildkitd's bridge (bridge mode)", () => {
  const onDocker0 = builder({
    parent: docker0.id,
    network: 'bridge',
    mtu: 1450,
    uplinks: [uplink(1450)],
    probes: [probe()],
    workerNet: 'bridge',
  });

  it("the bridge above the builder's way out, stalling at its MTU: pmtu-blackhole naming buildkit0, host mode verified", () => {
    const d = run([host, daemon, docker0, onDocker0, bridge()]);
    expect(d.findings.map((f) => [f.code, f.layer])).toEqual([['pmtu-blackhole', 'buildx-ci0-bridge']]);
    const f = d.findings[0]!;
    expect(f.summary).toMatch(
      /buildkitd's bridge buildkit0 in builder ci has MTU 1500, above the builder's way out \(MTU 1450\)/,
    );
    expect(f.verified).toMatchObject({ mtu: 1450, ok: true });
    // No MTU setting reaches buildkit0: nothing (finding, report, headline) says to set one.
    expect(f.recommendedMtu).toBeUndefined();
    expect(d.recommendedMtu).toBeUndefined();
    expect(f.hops).toEqual([
      { from: { kind: 'layer', layer: 'buildx-ci0' }, to: { kind: 'layer', layer: 'buildx-ci0-bridge' } },
    ]);
    expect(snippets(f)).toContain('[worker.oci]\n  networkMode = "host"');
    expect(snippets(f)).toContain('buildkitd-flags: --oci-worker-net=host');
  });

  it('not measured at its MTU (or the path repaired it): a warning, not a failure', () => {
    for (const br of [bridge({ probes: [] }), bridge({ probes: [probe()] })]) {
      const d = run([host, daemon, docker0, onDocker0, br]);
      expect(d.findings.map((f) => [f.code, f.severity, f.layer])).toEqual([
        ['mtu-mismatch', 'warning', 'buildx-ci0-bridge'],
      ]);
    }
  });

  it("a bridge that fits the builder's way out is fine", () => {
    expect(run([host, daemon, docker0, onDocker0, bridge({ mtu: 1450, probes: [] })]).verdict).toBe('pass');
  });
});
