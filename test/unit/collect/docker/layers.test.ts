/**
 * The pure half of the Docker collector: buildDaemonLayers(observation) -> layers, over captured output.
 * The first case rebuilds a lab run's layers (test/fixtures/reports/nested-docker-blackhole.json: DinD on flannel
 * 1450, ICMP dropped) from what that run's daemon said and what its containers measured, and must give the layers
 * that run reported. The others are one row each for the ways a daemon's probes end.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DockerEndpoint } from '../../../../src/collect/docker/endpoint.js';
import {
  parseNetworkInspect,
  type DaemonInspection,
  type DockerNetwork,
} from '../../../../src/collect/docker/inspect.js';
import { buildDaemonLayers, type DaemonObservation } from '../../../../src/collect/docker/layers.js';
import type { InnerRun } from '../../../../src/collect/docker/runs.js';
import { toLayerJson, type LayerJson } from '../../../../src/model/layer-json.js';
import type { NetInterface, ReportJson } from '../../../../src/model/report.js';

const FIX = path.resolve(import.meta.dirname, '../../../fixtures');
const read = (dir: string, file: string): unknown => JSON.parse(readFileSync(path.join(FIX, dir, file), 'utf8'));
const inspectFixture = (dir: string, file: string) => parseNetworkInspect((read(dir, file) as unknown[])[0])!;

const endpoint: DockerEndpoint = { host: 'tcp://docker:2375', source: 'DOCKER_HOST' } as DockerEndpoint;

/** What a probe container answered, as the layer the lab run wrote for it shows. */
function runOf(l: LayerJson): InnerRun {
  const f = l.facts ?? {};
  return {
    output: {
      mtuPreflightProbe: 1,
      node: String(f.node),
      interfaces: l.interfaces,
      uplinks: l.uplinks,
      ...(l.mtu !== undefined ? { mtu: l.mtu } : {}),
      probes: l.probes,
      notes: l.notes,
    },
    ms: Number(f.ms ?? f.probeMs),
    ...(typeof f.exitCode === 'number' ? { exitCode: f.exitCode } : {}),
  };
}

describe('buildDaemonLayers over a captured lab run', () => {
  it('DinD on flannel 1450: daemon, bridge, container, build step and the 1450 verification, as the run reported them', () => {
    const report = read('reports', 'nested-docker-blackhole.json') as ReportJson;
    const byId = new Map(report.layers.map((l) => [l.id, l]));
    const daemon = byId.get('docker')!;
    const bridge: DockerNetwork = {
      id: 'b1',
      name: 'bridge',
      driver: 'bridge',
      mtu: 1500,
      bridge: 'docker0',
      isDefault: true,
      internal: false,
      subnets: ['172.17.0.0/16'],
      containers: 0,
      labels: {},
    };
    const inspection: DaemonInspection = {
      version: { version: '24.0.7', apiVersion: '1.43', os: 'linux', kernel: '5.15.0-91-generic', major: 24 },
      networks: [bridge],
    };
    const hostRun = runOf(daemon);
    const o: DaemonObservation = {
      endpoint,
      inspection,
      required: false,
      probeImage: 'node:24-alpine',
      notes: [],
      runs: {
        bridge: runOf(byId.get('docker-container-bridge')!),
        host: { ...hostRun, ms: 412 },
        shapes: [],
        build: runOf(byId.get('docker-build')!),
        verify: [{ mtu: 1450, run: runOf(byId.get('docker-container-verify-1450')!) }],
      },
    };
    const built = buildDaemonLayers(o, 'host').map(toLayerJson);
    expect(built).toEqual(report.layers.slice(1));
  });
});

describe('buildDaemonLayers: how a daemon probe ends', () => {
  const version = { version: '20.10.24+dfsg1', apiVersion: '1.41', major: 20 };
  const bridge = inspectFixture('nested-dockerd-flannel-1450', 'network-inspect-bridge.json');
  const eth0 = (mtu: number): NetInterface => ({ name: 'eth0', mtu, state: 'up', kind: 'physical' });
  const ok = (mtu: number, ifaces: NetInterface[] = [eth0(mtu)]): InnerRun => ({
    output: { mtuPreflightProbe: 1, node: 'v24.11.1', interfaces: ifaces, uplinks: [], mtu, probes: [], notes: [] },
    ms: 500,
    exitCode: 0,
  });
  const base = (over: Partial<DaemonObservation>): DaemonObservation => ({
    endpoint,
    inspection: { version, networks: [bridge] },
    required: false,
    probeImage: 'probe:lab',
    notes: [],
    ...over,
  });

  it('probe image missing: the daemon and its networks only, the reason on the daemon', () => {
    const layers = buildDaemonLayers(
      base({ probeImageMissing: 'image probe:lab is not on the daemon (--pull never)' }),
      'host',
    );
    expect(layers.map((l) => l.kind)).toEqual(['docker-daemon', 'docker-network']);
    expect(layers[0]).toMatchObject({
      probeImageMissing: 'image probe:lab is not on the daemon (--pull never)',
      reachable: true,
    });
    // Docker 20 before 25: docker0 lies while idle; said on the default bridge.
    expect(layers[1]!.notes[0]).toMatch(
      /^Docker 20: docker0 itself reads 1500 while no container is attached \(moby#36659\)/,
    );
  });

  it('the --network host container gave no answer: said on the daemon, no view of its namespace, macvlan parents not read', () => {
    const mv = inspectFixture('nested-dockerd-macvlan-1450', 'network-inspect-mv1500.json');
    const layers = buildDaemonLayers(
      base({
        inspection: { version, networks: [bridge, mv] },
        runs: {
          bridge: ok(1500),
          host: { error: 'container exited 137', ms: 900 },
          shapes: [{ net: mv, run: ok(1450) }],
          verify: [],
        },
      }),
      'host',
    );
    const daemon = layers[0]!;
    expect(daemon.kind === 'docker-daemon' && daemon.view).toBe(undefined);
    expect(daemon.notes).toEqual([
      "could not probe from the daemon's namespace (--network host): container exited 137",
    ]);
    const net = layers.find((l) => l.id === 'docker-net-mv1500')!;
    expect(net.kind === 'docker-network' && net.parentIface).toEqual({ name: 'eth0' });
    // What the container saw still beats the option the driver ignores.
    expect(net.mtu).toBe(1450);
    // The "option has no effect" is the diagnosis' (docker-parent: mtu-option-ignored), not a note here.
    expect(net.notes.join('\n')).not.toMatch(/has no effect/);
  });

  it('an overlay container whose docker_gwbridge appeared with it: the bridge inspected after the probe, hung in before the containers', () => {
    const dir = 'nested-dockerd-swarm-overlay-1450';
    const ov = inspectFixture(dir, 'network-inspect-ov1500.json');
    const gw = inspectFixture(dir, 'network-inspect-docker_gwbridge.json');
    const onOverlay = ok(1500, [eth0(1450), { name: 'eth1', mtu: 1500, state: 'up', kind: 'veth' }]);
    onOverlay.output!.uplinks = [
      {
        target: 'registry.lab.test',
        address: '10.0.0.1',
        iface: 'eth1',
        ifaceMtu: 1500,
        effectiveMtu: 1500,
        kind: 'veth',
      },
    ];
    const layers = buildDaemonLayers(
      base({
        inspection: { version, networks: [bridge, ov] },
        runs: { bridge: ok(1500), host: ok(1450), shapes: [{ net: ov, run: onOverlay }], verify: [], gwbridge: gw },
      }),
      'host',
    );
    expect(layers.map((l) => [l.id, l.parent, l.mtu])).toEqual([
      ['docker', 'host', 1450],
      ['docker-net-bridge', 'docker', 1500],
      ['docker-net-ov1500', 'docker', 1450],
      ['docker-net-docker_gwbridge', 'docker', 1500],
      ['docker-container-bridge', 'docker-net-bridge', 1500],
      ['docker-container-net-ov1500', 'docker-net-docker_gwbridge', 1500],
    ]);
    expect(layers[3]!.notes.at(-1)).toMatch(
      /^not there before this run: Docker created docker_gwbridge when the probe container joined overlay ov1500/,
    );
    expect(toLayerJson(layers[5]!).facts).toMatchObject({
      variant: 'overlay',
      overlay: 'ov1500',
      overlayIface: 'eth0',
      overlayMtu: 1450,
      egressIface: 'eth1',
    });
  });

  it('docker_gwbridge could not be inspected: its MTU is what the overlay container saw on its way out', () => {
    const ov = inspectFixture('nested-dockerd-swarm-overlay-1450', 'network-inspect-ov1500.json');
    const onOverlay = ok(1500, [eth0(1450), { name: 'eth1', mtu: 1500, state: 'up', kind: 'veth' }]);
    const layers = buildDaemonLayers(
      base({
        inspection: { version, networks: [bridge, ov] },
        runs: { bridge: ok(1500), host: ok(1450), shapes: [{ net: ov, run: onOverlay }], verify: [] },
      }),
      'host',
    );
    const gw = layers.find((l) => l.id === 'docker-net-docker_gwbridge')!;
    expect(gw).toMatchObject({
      mtu: 1500,
      gwbridge: true,
      notes: ['could not inspect docker_gwbridge: its MTU is what the container on overlay ov1500 saw on eth1'],
    });
  });

  it('a collector that stopped early: what it had, and why it stopped, last on the daemon', () => {
    const layers = buildDaemonLayers(
      base({ notes: ['pulled probe:lab'], lateNotes: ['docker layer stopped early: boom'] }),
      'host',
    );
    expect(layers[0]!.notes).toEqual(['pulled probe:lab', 'docker layer stopped early: boom']);
  });
});
