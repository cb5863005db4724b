import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectDockerLayers, type DockerLayerDeps } from '../../../../src/collect/docker/collect.js';
import { LABEL, LABEL_EXPIRES, LABEL_RUN } from '../../../../src/collect/docker/lifecycle.js';
import { decodeProbeConfig } from '../../../../src/collect/docker/protocol.js';
import { diagnose } from '../../../../src/diagnose/index.js';
import { DEFAULTS, type Options } from '../../../../src/config/options.js';
import type { LayerContext } from '../../../../src/collect/context.js';
import { verificationMtu } from '../../../../src/diagnose/rules/docker-blackhole.js';
import type { HostLayer, Layer } from '../../../../src/model/layers.js';
import { FakeDaemon, type FakeScenario } from './fake-daemon.js';

const options = (over: Partial<Options> = {}): Options => ({
  ...DEFAULTS,
  registries: [],
  urls: ['https://registry.lab.test/blob?bytes=2097152'],
  probeImage: 'mtp-probe:lab',
  pull: 'never',
  ...over,
});

const MISSING_SOCKET = path.join(os.tmpdir(), `mtp-no-daemon-${process.pid}.sock`);

const hostLayer = (): HostLayer => ({
  id: 'host',
  kind: 'host',
  name: 'runner',
  mtu: 1450,
  interfaces: [],
  uplinks: [],
  probes: [],
  notes: [],
});

async function collect(
  scenario: FakeScenario | 'unreachable',
  over: Partial<Options> = {},
  extra: Partial<DockerLayerDeps> = {},
) {
  const fake = scenario === 'unreachable' ? undefined : new FakeDaemon(scenario);
  const cleanups: Array<() => Promise<void>> = [];
  const host = hostLayer();
  const ctx: LayerContext = {
    options: options(over),
    deadline: performance.now() + 20_000,
    extraCa: ['-----BEGIN CERTIFICATE-----\nLAB\n'],
    hostId: host.id,
    planVerification: verificationMtu,
  };
  const { layers, notes } = await collectDockerLayers(ctx, {
    // No fake: the real client against a socket that does not exist.
    env: { DOCKER_HOST: `unix://${fake ? '/fake.sock' : MISSING_SOCKET}`, HTTPS_PROXY: 'http://proxy.lab:3128' },
    now: () => performance.now(),
    loadScript: async () => '// probe',
    ...(fake ? { createClient: () => fake } : {}),
    onCleanup: (fn) => {
      cleanups.push(fn);
      return () => cleanups.splice(cleanups.indexOf(fn), 1);
    },
    ...extra,
  });
  const report = diagnose({
    layers: [host, ...layers],
    ci: { system: 'gitlab-ci', kubernetes: true, container: true },
    stallTimeoutMs: 3000,
    minThroughput: 65536,
  });
  return { fake, layers, notes, cleanups, report };
}

const isVerification = (l: Layer) => l.kind === 'docker-network' && l.purpose === 'verify';

const dind = { pathMtu: 1450, bridgeMtu: 1500, blackhole: true } satisfies FakeScenario;

describe('collectDockerLayers (fake daemon)', () => {
  it('DinD on flannel: bridge stalls, host network works, MTU 1450 verified; pmtu-blackhole at the bridge', async () => {
    const { fake, layers, report, cleanups } = await collect(dind);
    expect(layers.map((l) => [l.id, l.kind, l.parent, l.mtu])).toEqual([
      ['docker', 'docker-daemon', 'host', 1450],
      ['docker-net-bridge', 'docker-network', 'docker', 1500],
      ['docker-container-bridge', 'container', 'docker-net-bridge', 1500],
      ['docker-build', 'build-step', 'docker-net-bridge', 1500],
      ['docker-net-verify-1450', 'docker-network', 'docker', 1450],
      ['docker-container-verify-1450', 'container', 'docker-net-verify-1450', 1450],
    ]);
    expect(report.verdict).toBe('fail');
    expect(report.findings.map((f) => [f.code, f.layer])).toEqual([['pmtu-blackhole', 'docker-net-bridge']]);
    const f = report.findings[0]!;
    expect(f).toMatchObject({ recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect(f.summary).toMatch(
      /^docker network bridge \(docker0\) MTU 1500 exceeds the daemon's uplink eth0 MTU 1450: /,
    );
    expect(f.summary).toMatch(/verified: a network with MTU 1450 fetched 2\.0 MB/);
    expect(f.fix?.steps[0]?.snippet).toMatch(/--mtu=1450/); // GitLab dind service first
    // Everything made was labelled, and is gone.
    expect(fake!.createdLabels.length).toBeGreaterThanOrEqual(4);
    for (const l of fake!.createdLabels)
      expect(Object.keys(l).sort()).toEqual([LABEL, LABEL_EXPIRES, LABEL_RUN].sort());
    expect([...fake!.containers.keys()]).toEqual([]);
    expect([...fake!.networks.values()].map((n) => n.name)).toEqual(['bridge']);
    expect([...fake!.images.keys()]).toEqual([]);
    expect(cleanups).toHaveLength(0);
  });

  it('passes the proxy and the CA in, and never mounts anything', async () => {
    const { fake } = await collect({ ...dind, blackhole: false });
    expect(fake!.calls.filter((c) => c.endsWith('/archive')).length).toBeGreaterThan(0);
    const build = fake!.builds[0]!;
    // The CA's path goes in the probe's config (no ENV step: one commit less), and the probe adds it to the defaults.
    expect(build).not.toMatch(/^ENV /m);
    const word = /RUN \["node", "\/probe\/probe.mjs", "([A-Za-z0-9_-]+)"\]/.exec(build)?.[1];
    expect(word && decodeProbeConfig(word).caFile).toBe('/probe/ca.pem');
    expect(build).toMatch(/LABEL io.mtu-preflight="1"/);
    expect(build).toMatch(/-----BEGIN CERTIFICATE-----\nLAB/);
  });

  it('the build step: its answer is the result although the step exits non-zero (no commit); a step with no answer is reported', async () => {
    const ok = await collect({ ...dind, blackhole: false });
    const word = /RUN \["node", "\/probe\/probe.mjs", "([A-Za-z0-9_-]+)"\]/.exec(ok.fake!.builds[0]!)?.[1];
    expect(decodeProbeConfig(word!).exitCode).toBe(3);
    const step = ok.layers.find((l) => l.id === 'docker-build')!;
    expect(step.probes).toHaveLength(1);
    expect(step.notes.join('\n')).not.toMatch(/no probe result|build failed/);
    expect([...ok.fake!.images.keys()]).toEqual([]); // the COPY step's image, left by the failed step, is removed
    const dead = await collect({ ...dind, blackhole: false, buildNoAnswer: true });
    const failed = dead.layers.find((l) => l.id === 'docker-build')!;
    expect(failed.probes).toHaveLength(0);
    expect(failed.notes.join('\n')).toMatch(
      /no probe result: the build failed: The command 'node \/probe\/probe.mjs …' returned a non-zero code: 1/,
    );
    expect([...dead.fake!.images.keys()]).toEqual([]);
  });

  it('steps down when the recommended MTU still stalls, and reports the largest that works', async () => {
    const { report, layers } = await collect({ ...dind, innerLimit: 1360 });
    expect(layers.filter(isVerification).map((l) => l.mtu)).toEqual([1450, 1400, 1360, 1280]);
    const f = report.findings.find((x) => x.code === 'pmtu-blackhole')!;
    expect(f.recommendedMtu).toBe(1360);
    expect(f.verified).toMatchObject({ mtu: 1360, ok: true });
    expect(f.verified!.detail).toMatch(/MTU 1450 still stalled.*MTU 1400 still stalled.*MTU 1360 fetched/);
    expect(report.recommendedMtu).toBe(1360);
  });

  it('PMTUD working: mtu-mismatch warning with the same numbers, no verification networks', async () => {
    const { report, layers } = await collect({ ...dind, blackhole: false });
    expect(layers.some(isVerification)).toBe(false);
    expect(report.verdict).toBe('warn');
    expect(report.findings.map((f) => [f.code, f.severity, f.layer, f.recommendedMtu])).toEqual([
      ['mtu-mismatch', 'warning', 'docker-net-bridge', 1450],
    ]);
    expect(report.findings[0]!.summary).toMatch(
      /MTU 1500 exceeds the daemon's uplink eth0 MTU 1450: downloads from a container on it worked/,
    );
  });

  it('the verification started ahead (the uplink below the bridge) counts only when the bridge stalls; else it is removed unreported', async () => {
    // Broken path: the attempt made on the daemon namespace's answer is the one reported (no second network).
    const broken = await collect(dind);
    expect(broken.fake!.calls.filter((c) => c === 'POST /networks/create')).toHaveLength(1);
    expect(broken.layers.filter(isVerification).map((l) => l.mtu)).toEqual([1450]);
    // PMTUD repairs the path: the attempt ran, nothing of it is in the report, and it is gone.
    const { fake, layers } = await collect({ ...dind, blackhole: false });
    expect(fake!.calls.filter((c) => c === 'POST /networks/create')).toHaveLength(1);
    expect(layers.some(isVerification)).toBe(false);
    expect(layers.some((l) => l.id.includes('verify'))).toBe(false);
    expect([...fake!.containers.keys()]).toEqual([]);
    expect([...fake!.networks.values()].map((n) => n.name)).toEqual(['bridge']);
    // A probe's answer is returned before its container has exited; its exit code still reaches the report.
    const bridge = layers.find((l) => l.id === 'docker-container-bridge');
    expect(bridge && 'exitCode' in bridge ? bridge.exitCode : undefined).toBe(0);
  });

  it('dockerd --mtu 1450 with a compose network left at 1500: flagged with the compose fix', async () => {
    const compose = {
      Name: 'app_default',
      Id: 'c0ffee0123456789',
      Driver: 'bridge',
      Options: {},
      Labels: { 'com.docker.compose.network': 'default', 'com.docker.compose.project': 'app' },
    };
    const { report, layers } = await collect({ pathMtu: 1450, bridgeMtu: 1450, blackhole: true, networks: [compose] });
    expect(layers.find((l) => l.id === 'docker-net-app_default')).toMatchObject({
      mtu: 1500,
      bridge: 'br-c0ffee012345',
      origin: 'compose',
    });
    expect(report.verdict).toBe('warn');
    expect(report.findings.map((f) => [f.code, f.layer, f.recommendedMtu])).toEqual([
      ['mtu-mismatch', 'docker-net-app_default', 1450],
    ]);
    expect(report.findings[0]!.fix?.steps[0]?.snippet).toMatch(/driver_opts:\n\s+com.docker.network.driver.mtu: 1450/);
  });

  it('no daemon: a note for the host layer in auto mode; docker-unreachable with --docker required', async () => {
    const auto = await collect('unreachable');
    expect(auto.layers).toEqual([]);
    expect(auto.notes).toEqual([`docker: no daemon at unix://${MISSING_SOCKET} (the socket does not exist)`]);
    expect(auto.report.verdict).toBe('pass');
    const req = await collect('unreachable', { docker: 'required' });
    expect(req.report.verdict).toBe('fail');
    expect(req.report.findings.map((f) => f.code)).toEqual(['docker-unreachable']);
    expect(req.report.findings[0]!.summary).toContain(`no daemon at unix://${MISSING_SOCKET}`);
  });

  it('probe image missing with --pull never: inspected, not probed, probe-image-missing', async () => {
    const { report, layers, fake } = await collect({ ...dind, imagePresent: false });
    expect(layers.map((l) => l.kind)).toEqual(['docker-daemon', 'docker-network']);
    expect(report.findings.map((f) => [f.code, f.severity])).toEqual([['probe-image-missing', 'warning']]);
    expect(fake!.calls.some((c) => c.startsWith('POST /images/create'))).toBe(false);
  });

  it('sweeps expired leftovers of killed runs, and leaves a live run alone', async () => {
    const old = { [LABEL]: '1', [LABEL_RUN]: 'dead', [LABEL_EXPIRES]: String(Date.now() - 1000) };
    const live = { [LABEL]: '1', [LABEL_RUN]: 'live', [LABEL_EXPIRES]: String(Date.now() + 60_000) };
    const { fake, layers } = await collect({
      ...dind,
      blackhole: false,
      leftovers: [
        { kind: 'container', id: 'old-c', labels: old },
        { kind: 'network', id: 'old-n', labels: old },
        { kind: 'container', id: 'live-c', labels: live },
      ],
    });
    expect([...fake!.containers.keys()]).toEqual(['live-c']);
    expect(fake!.networks.has('old-n')).toBe(false);
    expect(layers[0]!.notes).toContain(
      'removed 2 leftover(s) of an earlier, interrupted run (label io.mtu-preflight=1)',
    );
  });
});

describe('probe image and proxies', () => {
  it('--pull missing pulls an absent image (with an explicit tag) and probes', async () => {
    const { fake, layers } = await collect({ ...dind, imagePresent: false }, { pull: 'missing', probeImage: 'node' });
    expect(fake!.calls).toContain('POST /images/create');
    expect(layers[0]!.notes).toContain('pulled node');
    expect(layers.some((l) => l.id === 'docker-container-bridge')).toBe(true);
  });

  it('says when the proxy it passes in is on loopback', async () => {
    const { layers } = await collect(
      { ...dind, blackhole: false },
      {},
      { env: { DOCKER_HOST: 'unix:///fake.sock', HTTPS_PROXY: 'http://user:secret@127.0.0.1:3128' } },
    );
    expect(layers[0]!.notes).toContain(
      'HTTPS_PROXY points at loopback (http://***@127.0.0.1:3128): containers on a bridge have their own loopback, so their probes cannot use that proxy',
    );
  });
});
