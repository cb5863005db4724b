/**
 * Issue 6, the network shapes, over `docker network inspect` output captured from a nested dockerd 20.10 in the lab
 * (test/fixtures/nested-dockerd-*): the pure parser per driver, then the collector against an in-memory daemon
 * (fake-daemon.ts) answering with those captures and the /sys/class/net each container saw there, then the rules.
 * The lab runs the same shapes for real (test/lab/shapes.itg.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectDockerLayers } from '../../../../src/collect/docker/collect.js';
import { parseNetworkInspect, parseNetworkList, parseSwarmInfo } from '../../../../src/collect/docker/inspect.js';
import { diagnose } from '../../../../src/diagnose/index.js';
import { DEFAULTS } from '../../../../src/config/options.js';
import { describeDiagnosis } from '../../../../src/render/phrases.js';
import { buildTopology } from '../../../../src/render/topology.js';
import type { LayerContext } from '../../../../src/collect/context.js';
import { verificationMtu } from '../../../../src/diagnose/rules/docker-blackhole.js';
import { layerFacts } from '../../../../src/model/layer-json.js';
import type { HostLayer } from '../../../../src/model/layers.js';
import { SCHEMA_VERSION, type Finding, type Report } from '../../../../src/model/report.js';
import { FakeDaemon, type FakeScenario } from './fake-daemon.js';

const FIX = path.resolve(import.meta.dirname, '../../../fixtures');
const read = (dir: string, file: string): unknown => JSON.parse(readFileSync(path.join(FIX, dir, file), 'utf8'));
const inspect = (dir: string, file: string) => parseNetworkInspect((read(dir, file) as unknown[])[0]);
/** The fixture's networks minus the ones the fake daemon lists itself (its default bridge, host). */
const extraNetworks = (dir: string, file = 'networks.json') =>
  (read(dir, file) as Array<{ Name: string }>).filter((n) => !['bridge', 'host', 'none'].includes(n.Name));

describe('parseNetworkInspect per driver (captured on dockerd 20.10)', () => {
  it('swarm overlay: the option is the underlay MTU, containers get 50 bytes less; attachable, ingress and service-only told apart', () => {
    const dir = 'nested-dockerd-swarm-overlay-1450';
    expect(inspect(dir, 'network-inspect-ov1500.json')).toMatchObject({
      name: 'ov1500',
      driver: 'overlay',
      scope: 'swarm',
      mtuOption: 1500,
      mtu: 1450,
      attachable: true,
      ingress: false,
    });
    expect(inspect(dir, 'network-inspect-ovdefault.json')).toMatchObject({
      driver: 'overlay',
      mtu: 1450,
      attachable: true,
    });
    expect(inspect(dir, 'network-inspect-ovdefault.json')?.mtuOption).toBeUndefined();
    expect(inspect(dir, 'network-inspect-ingress.json')).toMatchObject({
      name: 'ingress',
      ingress: true,
      attachable: false,
      mtu: 1450,
    });
    expect(inspect(dir, 'network-inspect-svcnet.json')).toMatchObject({ attachable: false, ingress: false });
    expect(inspect('nested-dockerd-swarm-overlay-1450-fixed', 'network-inspect-ov1450.json')).toMatchObject({
      mtuOption: 1450,
      mtu: 1400,
    });
  });

  it("docker_gwbridge: a bridge, marked as the overlays' way out, 1500 unless created with the option", () => {
    expect(inspect('nested-dockerd-swarm-overlay-1450', 'network-inspect-docker_gwbridge.json')).toMatchObject({
      driver: 'bridge',
      bridge: 'docker_gwbridge',
      gwbridge: true,
      mtu: 1500,
      isDefault: false,
    });
    expect(inspect('nested-dockerd-swarm-overlay-1450-fixed', 'network-inspect-docker_gwbridge.json')).toMatchObject({
      gwbridge: true,
      mtuOption: 1450,
      mtu: 1450,
    });
  });

  it('macvlan and ipvlan: the parent and mode; no MTU from the options (the parent decides)', () => {
    const dir = 'nested-dockerd-macvlan-1450';
    const mv = inspect(dir, 'network-inspect-mv1500.json');
    expect(mv).toMatchObject({ driver: 'macvlan', parent: 'eth0', mtuOption: 1500 });
    expect(mv?.mtu).toBeUndefined();
    expect(inspect(dir, 'network-inspect-mvvx.json')).toMatchObject({ driver: 'macvlan', parent: 'vx0' });
    expect(inspect(dir, 'network-inspect-iv.json')).toMatchObject({ driver: 'ipvlan', parent: 'eth0', mode: 'l2' });
  });

  it('dockerd --bridge=br0: the default network is the host bridge br0', () => {
    expect(inspect('nested-dockerd-host-bridge-br0', 'network-inspect-bridge.json')).toMatchObject({
      isDefault: true,
      bridge: 'br0',
      mtu: 1500,
    });
    const routable = parseNetworkList(read('nested-dockerd-host-bridge-br0-routable', 'networks.json'));
    expect(routable.map((n) => [n.name, n.bridge, n.isDefault])).toEqual([['bridge', 'br0', true]]);
  });

  it('GET /info: the swarm state of the node', () => {
    expect(parseSwarmInfo(read('nested-dockerd-swarm-overlay-1450', 'info-swarm.json'))).toEqual({
      state: 'active',
      nodeAddr: '10.213.1.2',
      nodes: 1,
    });
    expect(parseSwarmInfo({ Swarm: { LocalNodeState: 'inactive', NodeAddr: '' } })).toEqual({ state: 'inactive' });
    expect(parseSwarmInfo({})).toBeUndefined();
  });
});

const hostLayer = (mtu = 1450): HostLayer => ({
  id: 'host',
  kind: 'host',
  name: 'runner',
  mtu,
  interfaces: [],
  uplinks: [],
  probes: [],
  notes: [],
});

async function collect(s: FakeScenario) {
  const fake = new FakeDaemon(s);
  const ctx: LayerContext = {
    options: {
      ...DEFAULTS,
      registries: [],
      urls: ['https://registry.lab.test/blob?bytes=2097152'],
      probeImage: 'mtp-probe:lab',
      pull: 'never',
    },
    deadline: performance.now() + 20_000,
    extraCa: [],
    hostId: 'host',
    planVerification: verificationMtu,
  };
  const host = hostLayer(s.pathMtu);
  const { layers } = await collectDockerLayers(ctx, {
    env: { DOCKER_HOST: 'unix:///fake.sock' },
    now: () => performance.now(),
    loadScript: async () => '// probe',
    createClient: () => fake,
    onCleanup: () => () => undefined,
  });
  const report = diagnose({
    layers: [host, ...layers],
    ci: { system: 'local', kubernetes: false, container: false },
    stallTimeoutMs: 3000,
    minThroughput: 65536,
  });
  return { fake, layers, report };
}

const byCode = (fs: Finding[], code: string, layer: string) => fs.find((f) => f.code === code && f.layer === layer);
const leftover = (fake: FakeDaemon) => [
  ...fake.containers.keys(),
  ...[...fake.networks.values()].filter((n) => n.labels['io.mtu-preflight']).map((n) => n.id),
];

describe('network shapes end to end over the captures (fake daemon)', () => {
  const swarmDir = 'nested-dockerd-swarm-overlay-1450';
  const swarm = (over: Partial<FakeScenario> = {}): FakeScenario => ({
    pathMtu: 1450,
    bridgeMtu: 1450,
    blackhole: true,
    networks: extraNetworks(swarmDir),
    views: read(swarmDir, 'container-sys-class-net.json') as Record<string, Record<string, number>>,
    info: read(swarmDir, 'info-swarm.json'),
    ...over,
  });

  it('swarm overlay at 1500 over a 1450 underlay, ICMP dropped: the overlay flagged (1400 fits), docker_gwbridge the black hole (1450 verified)', async () => {
    const { fake, layers, report } = await collect(swarm());
    const ids = layers.map((l) => [l.id, l.kind, l.parent, l.mtu]);
    expect(ids).toEqual(
      expect.arrayContaining([
        ['docker-net-ov1500', 'docker-network', 'docker', 1450],
        ['docker-net-ovdefault', 'docker-network', 'docker', 1450],
        ['docker-net-docker_gwbridge', 'docker-network', 'docker', 1500],
        ['docker-container-net-ov1500', 'container', 'docker-net-docker_gwbridge', 1500],
        ['docker-container-net-ovdefault', 'container', 'docker-net-docker_gwbridge', 1500],
      ]),
    );
    // The typed fields, as the JSON report (schema v1) flattens them into `facts`.
    const facts = (id: string) => layerFacts(layers.find((l) => l.id === id)!);
    expect(facts('docker')).toMatchObject({ swarm: 'active', swarmNodes: 1 });
    expect(facts('docker-container-net-ov1500')).toMatchObject({
      overlay: 'ov1500',
      overlayIface: 'eth0',
      overlayMtu: 1450,
      egressIface: 'eth1',
    });

    expect(report.verdict).toBe('fail');
    const hole = byCode(report.findings, 'pmtu-blackhole', 'docker-net-docker_gwbridge')!;
    expect(hole.summary).toMatch(/docker_gwbridge.*MTU 1500 exceeds the daemon's uplink eth0 MTU 1450/);
    expect(hole).toMatchObject({ recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect(hole.evidence.join('\n')).toMatch(/eth0 on overlay ov1500 MTU 1450, eth1 MTU 1500/);
    expect(hole.summary).toMatch(
      /Fix: re-create docker_gwbridge with MTU 1450 \(verified: a network with MTU 1450 fetched 2\.0 MB in \d+ ms\)\.$/,
    );
    expect(hole.fix?.summary).toMatch(/Re-create docker_gwbridge with com\.docker\.network\.driver\.mtu=1450/);
    expect(hole.fix?.steps[0]?.snippet).toMatch(/--opt com\.docker\.network\.driver\.mtu=1450/);

    for (const name of ['ov1500', 'ovdefault', 'svcnet', 'ingress']) {
      const f = byCode(report.findings, 'mtu-mismatch', `docker-net-${name}`)!;
      expect(f, name).toBeDefined();
      expect(f.severity).toBe('warning');
      expect(f.recommendedMtu).toBe(1400);
      expect(f.summary).toMatch(
        /gives containers MTU 1450.*underlay \(eth0 MTU 1450\).*room for 1400.*com\.docker\.network\.driver\.mtu=1450/,
      );
    }
    expect(byCode(report.findings, 'mtu-mismatch', 'docker-net-ingress')!.fix?.steps[0]?.snippet).toMatch(
      /--ingress --opt com\.docker\.network\.driver\.mtu=1450 ingress/,
    );
    expect(byCode(report.findings, 'mtu-mismatch', 'docker-net-ov1500')!.evidence).toContain(
      'this node is alone in its swarm: nothing crosses the underlay yet, so no probe can show the loss',
    );
    // The overlay containers are not judged a second time as if they sat on the overlay's own bridge.
    expect(report.findings.filter((f) => f.layer === 'docker-net-ov1500').map((f) => f.code)).toEqual(['mtu-mismatch']);
    expect(leftover(fake)).toEqual([]);

    // What the reader sees first: the black hole's own MTU (1450, verified), though the overlays' 1400 is the report's
    // smallest; and the diagram marks the way into each overlay and into docker_gwbridge, not the way in from the internet.
    const full: Report = {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: 'mtu-preflight', version: 'test' },
      startedAt: '',
      durationMs: 0,
      verdict: report.verdict,
      recommendedMtu: report.recommendedMtu!,
      ci: { system: 'local', kubernetes: false, container: false },
      timedOut: false,
      settings: {},
      layers: [hostLayer(), ...layers],
      findings: report.findings,
    };
    // The report's recommendedMtu is the verdict's: the black hole's 1450 (the overlays' 1400 are warnings beside it).
    expect(report.recommendedMtu).toBe(1450);
    expect(describeDiagnosis(full)).toBe(
      'pmtu-blackhole for registry.lab.test in docker network docker_gwbridge: set the MTU to 1450 (verified) (+4 more findings).',
    );
    const topo = buildTopology(full);
    const nodeOf = (layerId: string) =>
      topo.nodes.find((n) => n.kind === 'layer' && n.title === layers.find((l) => l.id === layerId)!.name)!.id;
    const marked = topo.edges.filter((e) => e.codes.length).map((e) => [e.from, e.to, e.codes.join(',')]);
    expect(marked).toEqual(
      expect.arrayContaining([
        [nodeOf('docker'), nodeOf('docker-net-docker_gwbridge'), 'pmtu-blackhole'],
        [nodeOf('docker'), nodeOf('docker-net-ov1500'), 'mtu-mismatch'],
        [nodeOf('docker'), nodeOf('docker-net-ingress'), 'mtu-mismatch'],
      ]),
    );
    expect(marked.some(([from]) => from === 'internet')).toBe(false);
  });

  it('docker_gwbridge not there yet (the probe container creates it): inspected after the probe and flagged the same way', async () => {
    const { layers, report } = await collect(
      swarm({
        networks: [
          ...extraNetworks(swarmDir, 'networks-before-attach.json'),
          ...(read(swarmDir, 'network-inspect-docker_gwbridge.json') as unknown[]),
        ],
      }),
    );
    // GET /networks lists it now (the fixture has it): take the variant where only GET /networks/docker_gwbridge knows it.
    expect(layers.some((l) => l.id === 'docker-net-docker_gwbridge')).toBe(true);
    expect(byCode(report.findings, 'pmtu-blackhole', 'docker-net-docker_gwbridge')?.recommendedMtu).toBe(1450);
  });

  it('the fixed swarm (gwbridge pre-created at 1450, overlays with the option 1450): nothing to say about the docker layers', async () => {
    const dir = 'nested-dockerd-swarm-overlay-1450-fixed';
    const { report } = await collect({
      pathMtu: 1450,
      bridgeMtu: 1450,
      blackhole: true,
      networks: extraNetworks(dir),
      views: {
        ...(read(dir, 'container-sys-class-net.json') as Record<string, Record<string, number>>),
        host: { docker0: 1450, docker_gwbridge: 1450, eth0: 1450, lo: 65536 },
      },
    });
    expect(report.findings).toEqual([]);
    expect(report.verdict).toBe('pass');
  });

  it('macvlan: an MTU option above the parent is ignored (containers get 1450); a VXLAN parent that fits is told, not blamed; ipvlan unsupported by the kernel is a note', async () => {
    const dir = 'nested-dockerd-macvlan-1450';
    const views = read(dir, 'container-sys-class-net.json') as Record<string, Record<string, number>>;
    const mv1500 = read(dir, 'network-inspect-mv1500.json') as unknown[];
    const { layers, report } = await collect({
      pathMtu: 1450,
      bridgeMtu: 1450,
      blackhole: true,
      networks: [...extraNetworks(dir), ...mv1500],
      views,
    });
    const mv = layers.find((l) => l.id === 'docker-net-mv1500')!;
    expect(mv.mtu).toBe(1450);
    expect(layerFacts(mv)).toMatchObject({ parent: 'eth0', parentMtu: 1450, mtuOption: 1500, containerMtu: 1450 });
    const ignored = byCode(report.findings, 'mtu-option-ignored', 'docker-net-mv1500')!;
    expect(ignored.severity).toBe('info');
    expect(ignored.summary).toBe(
      'docker network mv1500 (macvlan on eth0) has com.docker.network.driver.mtu=1500, which Docker does not apply to macvlan networks: containers on it get the MTU of the parent eth0, 1450.',
    );
    const vx = byCode(report.findings, 'tunnel-parent', 'docker-net-mvvx')!;
    expect(vx.summary).toMatch(
      /the parent vx0 is a vxlan tunnel \(MTU 1400, 50 bytes of encapsulation\), so containers on it get MTU 1400 and advertise MSS 1360/,
    );
    expect(layers.find((l) => l.id === 'docker-net-lan')?.mtu).toBe(1450);
    expect(report.findings.filter((f) => f.layer === 'docker-net-lan')).toEqual([]);
    // The kernel here has no ipvlan: the container cannot start, and the report says so instead of guessing.
    const iv = layers.find((l) => l.parent === 'docker-net-iv')!;
    expect(iv.probes).toEqual([]);
    expect(iv.notes.join('\n')).toMatch(/failed to create the ipvlan port: operation not supported/);
    expect(report.findings.filter((f) => f.layer === 'docker-net-iv')).toEqual([]);
    // Nothing here stalls (the containers' MTUs fit the path): the verdict stays pass, the info findings are there to read.
    expect(report.verdict).toBe('pass');
  });

  it("a VXLAN parent too large for the uplink under it: mtu-mismatch with the parent's fix", async () => {
    const dir = 'nested-dockerd-macvlan-1450';
    const { report } = await collect({
      pathMtu: 1450,
      bridgeMtu: 1450,
      blackhole: false,
      networks: (read(dir, 'networks.json') as Array<{ Name: string }>).filter((n) => n.Name === 'mvvx'),
      views: { mvvx: { eth0: 1500, lo: 65536 }, host: { docker0: 1450, eth0: 1450, lo: 65536, vx0: 1500 } },
    });
    const f = byCode(report.findings, 'mtu-mismatch', 'docker-net-mvvx')!;
    expect(f.summary).toMatch(
      /the parent vx0 is a vxlan tunnel with MTU 1500, but its packets carry 50 bytes of encapsulation over eth0 \(MTU 1450\): at most 1400 fits/,
    );
    expect(f.recommendedMtu).toBe(1400);
    expect(f.fix?.steps[0]?.snippet).toBe('ip link set dev vx0 mtu 1400');
  });

  it("a VXLAN parent too large, and a container on it stalls: pmtu-blackhole with the tunnel's room (1400), not the bare uplink's", async () => {
    const dir = 'nested-dockerd-macvlan-1450';
    const { report } = await collect({
      pathMtu: 1450,
      bridgeMtu: 1450,
      blackhole: true,
      networks: (read(dir, 'networks.json') as Array<{ Name: string }>).filter((n) => n.Name === 'mvvx'),
      views: { mvvx: { eth0: 1500, lo: 65536 }, host: { docker0: 1450, eth0: 1450, lo: 65536, vx0: 1500 } },
    });
    expect(report.findings.map((f) => [f.code, f.layer])).toEqual([['pmtu-blackhole', 'docker-net-mvvx']]);
    const f = report.findings[0]!;
    expect(f.recommendedMtu).toBe(1400);
    expect(f.summary).toMatch(/Fix: set the MTU of the parent vx0 to 1400\.$/);
    expect(f.verified).toBeUndefined();
    expect(f.evidence).toContain('parent vx0: a vxlan tunnel, 50 bytes of encapsulation inside MTU 1450');
    expect(f.fix?.steps[0]?.snippet).toBe('ip link set dev vx0 mtu 1400');
  });

  it("dockerd --bridge=br0 at 1500 over a 1450 uplink, ICMP dropped: pmtu-blackhole at br0 with the bridge's own fix, verified", async () => {
    const dir = 'nested-dockerd-host-bridge-br0';
    const { report } = await collect({
      pathMtu: 1450,
      bridgeMtu: 1500,
      blackhole: true,
      bridgeName: 'br0',
      views: read(dir, 'container-sys-class-net.json') as Record<string, Record<string, number>>,
    });
    const f = byCode(report.findings, 'pmtu-blackhole', 'docker-net-bridge')!;
    expect(f.summary).toMatch(
      /docker network bridge \(br0, dockerd --bridge\) MTU 1500 exceeds the daemon's uplink eth0 MTU 1450/,
    );
    expect(f).toMatchObject({ recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect(f.fix?.steps.map((s) => s.snippet)).toContain('ip link set dev br0 mtu 1450');
    expect(f.fix?.summary).toMatch(/dockerd --mtu=1450/);
    expect(f.summary).toMatch(/Fix: set br0's MTU and dockerd --mtu to 1450 \(verified/);
  });
});
