/**
 * buildx builders: buildx's on-disk state (test/fixtures/buildx-state/, see its README), the builder containers as
 * the Engine lists them, and the pure layer builder (a builder under its network, buildkitd's bridge under it).
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builderLayers } from '../../../../src/collect/docker/builder-layers.js';
import {
  builderNetwork,
  builderWorkerNet,
  definitionOf,
  parseBuilderContainers,
  unreachableNotes,
  type BuilderContainer,
  type BuilderRun,
} from '../../../../src/collect/docker/builders.js';
import {
  buildxConfigDir,
  parseCurrent,
  parseNodeGroup,
  readBuildxState,
  workerNetOf,
} from '../../../../src/collect/docker/buildx-state.js';
import type { InnerRun } from '../../../../src/collect/docker/runs.js';
import { fromLayerJson, toLayerJson } from '../../../../src/model/layer-json.js';
import type { DockerDaemonLayer, DockerNetworkLayer } from '../../../../src/model/layers.js';
import type { NetInterface, ReportJson } from '../../../../src/model/report.js';

const FIX = path.resolve(import.meta.dirname, '../../../fixtures');
const STATE = path.join(FIX, 'buildx-state');
const fs = {
  readFile: (p: string) => readFile(p, 'utf8').catch(() => undefined),
  readdir: (p: string) => readdir(p).catch(() => undefined),
};

describe("buildx's state (instances/<name>, current)", () => {
  it('reads a NodeGroup as buildx wrote it on a CI machine', async () => {
    const b = parseNodeGroup(await readFile(path.join(STATE, 'instances/reverent_diffie'), 'utf8'));
    expect(b).toEqual({
      name: 'reverent_diffie',
      driver: 'docker-container',
      nodes: [{ name: 'reverent_diffie0', endpoint: 'unix:///var/run/docker.sock', driverOpts: {}, flags: [] }],
    });
  });

  it('reads driver options, buildkitd flags and the base64 buildkitd.toml', async () => {
    const b = parseNodeGroup(await readFile(path.join(STATE, 'instances/ci'), 'utf8'))!;
    const node = b.nodes[0]!;
    expect(node.driverOpts.network).toBe('buildnet');
    expect(node.flags).toEqual(['--allow-insecure-entitlement', 'security.insecure', '--oci-worker-net', 'bridge']);
    expect(node.buildkitdToml).toContain('networkMode = "bridge"');
  });

  it('reads the folder: every builder and the current one', async () => {
    const s = await readBuildxState(fs, STATE);
    expect(s?.builders.map((b) => `${b.name}:${b.driver}`).sort()).toEqual([
      'ci:docker-container',
      'far:remote',
      'k8s:kubernetes',
      'reverent_diffie:docker-container',
    ]);
    expect(s?.current).toBe('ci');
    expect(await readBuildxState(fs, path.join(FIX, 'no-such-buildx'))).toBeUndefined();
  });

  it('is not fooled by files that are not NodeGroups', () => {
    expect(parseNodeGroup('{not json')).toBeUndefined();
    expect(parseNodeGroup('[]')).toBeUndefined();
    expect(parseCurrent('{"Key":"k","Name":"","Global":false}')).toBeUndefined();
  });

  it('finds the folder as buildx does: $BUILDX_CONFIG, else $DOCKER_CONFIG/buildx, else ~/.docker/buildx', () => {
    expect(buildxConfigDir({ BUILDX_CONFIG: '/x', DOCKER_CONFIG: '/d' }, '/home/u')).toBe('/x');
    expect(buildxConfigDir({ DOCKER_CONFIG: '/d' }, '/home/u')).toBe('/d/buildx');
    expect(buildxConfigDir({}, '/home/u')).toBe('/home/u/.docker/buildx');
  });

  it.each([
    [['--oci-worker-net', 'bridge'], undefined, 'bridge'],
    [['--debug', '--oci-worker-net=host'], undefined, 'host'],
    [[], '[worker.oci]\n  networkMode = "bridge"\n', 'bridge'],
    [[], '[worker.containerd]\n  networkMode = "bridge"\n', undefined],
    [['--oci-worker-net=host'], '[worker.oci]\n  networkMode = "bridge"\n', 'host'],
    [['--debug'], undefined, undefined],
  ])('worker network mode of flags %j and config %j: %s', (flags, toml, want) => {
    expect(workerNetOf(flags, toml)).toBe(want);
  });
});

const container = (over: Partial<BuilderContainer> = {}): BuilderContainer => ({
  id: 'c1',
  name: 'buildx_buildkit_ci0',
  node: 'ci0',
  networkMode: 'buildnet',
  networks: ['buildnet'],
  image: 'moby/buildkit:buildx-stable-1',
  command: ['buildkitd', '--allow-insecure-entitlement', 'security.insecure'],
  ...over,
});

describe('builder containers on a daemon', () => {
  it('keeps only buildx_buildkit_* containers, with their network and command', () => {
    const list = parseBuilderContainers([
      {
        Id: 'c1',
        Names: ['/buildx_buildkit_ci0'],
        Image: 'moby/buildkit:buildx-stable-1',
        Command: 'buildkitd --oci-worker-net bridge',
        HostConfig: { NetworkMode: 'buildnet' },
        NetworkSettings: { Networks: { buildnet: {} } },
      },
      { Id: 'c2', Names: ['/my_buildx_buildkit_copy'], HostConfig: { NetworkMode: 'bridge' } },
      { Id: 'c3', Names: ['/web'] },
    ]);
    expect(list).toEqual([container({ command: ['buildkitd', '--oci-worker-net', 'bridge'] })]);
  });

  it("reads the Engine's own list of the lab stand-in (captured: test/fixtures/buildx-lab-stand-in)", async () => {
    const json: unknown = JSON.parse(
      await readFile(path.join(FIX, 'buildx-lab-stand-in/containers-json.json'), 'utf8'),
    );
    const [c] = parseBuilderContainers(json);
    expect(c).toMatchObject({
      name: 'buildx_buildkit_lab0',
      node: 'lab0',
      networkMode: 'default',
      networks: ['bridge'],
    });
    expect(builderNetwork(c!)).toBe('bridge');
    expect(builderWorkerNet(c!)).toBe('bridge');
  });

  it('notes the builders buildx knows of that are not containers of this daemon, and why', async () => {
    const s = await readBuildxState(fs, STATE);
    const notes = unreachableNotes(s, [container()]);
    expect(notes).toHaveLength(3);
    expect(notes.find((n) => n.includes('k8s'))).toMatch(/kubernetes driver.*not probed.*Kubernetes pods/);
    expect(notes.find((n) => n.includes('far'))).toMatch(
      /remote driver, tcp:\/\/buildkitd\.example:1234\): not probed/,
    );
    expect(notes.find((n) => n.includes('reverent_diffie'))).toMatch(
      /no running container buildx_buildkit_reverent_diffie0/,
    );
    expect(definitionOf(s, container())?.current).toBe(true);
  });
});

const iface = (name: string, mtu: number, kind: NetInterface['kind']): NetInterface => ({
  name,
  mtu,
  state: 'up',
  kind,
});
const run = (interfaces: NetInterface[], outcome: 'ok' | 'stall'): InnerRun => ({
  output: {
    mtuPreflightProbe: 1,
    node: 'v24.0.0',
    interfaces,
    uplinks: [
      {
        target: 'url',
        address: '10.0.0.9',
        iface: 'eth0',
        ifaceMtu: interfaces[1]!.mtu,
        effectiveMtu: interfaces[1]!.mtu,
        kind: 'veth',
      },
    ],
    mtu: interfaces[1]!.mtu,
    probes: [
      {
        target: 'url',
        url: 'https://r/',
        host: 'r',
        outcome,
        phases: {},
        bytes: outcome === 'ok' ? 1 : 0,
        capped: outcome === 'ok',
        samples: [],
      },
    ],
    notes: [],
  },
  ms: 800,
});

const daemon: DockerDaemonLayer = {
  id: 'docker',
  kind: 'docker-daemon',
  name: 'docker',
  interfaces: [],
  uplinks: [],
  probes: [],
  notes: [],
  reachable: true,
  required: false,
  mtu: 1450,
};
const net = (name: string, mtu: number, isDefault = false): DockerNetworkLayer => ({
  id: `docker-net-${name}`,
  kind: 'docker-network',
  name,
  parent: 'docker',
  mtu,
  interfaces: [],
  uplinks: [],
  probes: [],
  notes: [],
  network: name,
  driver: 'bridge',
  purpose: 'existing',
  isDefault,
  internal: false,
  subnets: [],
  gwbridge: false,
});

describe('builderLayers', () => {
  it('a builder under the network it is on, with what buildx says of it; the network takes the MTU it saw', async () => {
    const s = await readBuildxState(fs, STATE);
    const c = container();
    const r: BuilderRun = {
      container: c,
      definition: definitionOf(s, c)!,
      run: run([iface('lo', 65536, 'loopback'), iface('eth0', 1500, 'veth')], 'stall'),
    };
    const buildnet = net('buildnet', 1450);
    const [b, bridge] = builderLayers([r], [net('bridge', 1450, true), buildnet], daemon, 'probe:1');
    expect(b).toMatchObject({
      id: 'buildx-ci0',
      kind: 'buildx-builder',
      parent: 'docker-net-buildnet',
      mtu: 1500,
      builder: 'ci',
      network: 'buildnet',
      source: 'buildx-state',
      current: true,
      workerNet: 'bridge',
      driverOpts: ['network=buildnet', 'image=moby/buildkit:buildx-stable-1'],
    });
    expect(buildnet.mtu).toBe(1500);
    // buildx's record says bridge mode, the namespace shows no bridge yet: the CNI default is said.
    expect(bridge).toMatchObject({ kind: 'buildkit-bridge', parent: 'buildx-ci0', mtu: 1500, bridge: 'buildkit0' });
    expect(bridge!.notes.join(' ')).toMatch(/no bridge yet.*1500/);
    // The JSON report's facts, read back into the same typed layers.
    for (const l of [b!, bridge!]) expect(fromLayerJson(toLayerJson(l))).toEqual(l);
  });

  it('buildkit0 seen inside the namespace is its own layer, measured at its MTU by the replica', () => {
    const c = container({
      networkMode: 'default',
      networks: ['bridge'],
      command: ['buildkitd', '--oci-worker-net=bridge'],
    });
    const inside = run(
      [iface('lo', 65536, 'loopback'), iface('eth0', 1450, 'veth'), iface('buildkit0', 1500, 'bridge')],
      'ok',
    );
    const replica = { mtu: 1500, run: run([iface('lo', 65536, 'loopback'), iface('eth0', 1500, 'veth')], 'stall') };
    const [b, br] = builderLayers([{ container: c, run: inside, replica }], [net('bridge', 1450, true)], daemon, 'p');
    expect(b).toMatchObject({
      parent: 'docker-net-bridge',
      mtu: 1450,
      source: 'container',
      workerNet: 'bridge',
      buildkitdFlags: ['--oci-worker-net=bridge'],
    });
    expect(b!.interfaces.map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(br).toMatchObject({ bridge: 'buildkit0', mtu: 1500, replica: { mtu: 1500, ms: 800 } });
    expect(br!.probes.map((p) => p.outcome)).toEqual(['stall']);
    expect(fromLayerJson(toLayerJson(br!))).toEqual(br);
  });

  it('a network=host builder hangs under the daemon, not probed again', () => {
    const [b, ...rest] = builderLayers(
      [{ container: container({ networkMode: 'host', networks: ['host'] }) }],
      [],
      daemon,
      'p',
    );
    expect(b).toMatchObject({ parent: 'docker', network: 'host', mtu: 1450, probes: [] });
    expect(b!.notes.join(' ')).toMatch(/shares the daemon's namespace/);
    expect(rest).toEqual([]);
  });
});

describe('the lab runs captured (test/fixtures/buildx-lab-stand-in/report-*.json)', () => {
  const report = (f: string) =>
    JSON.parse(readFileSync(path.join(FIX, 'buildx-lab-stand-in', f), 'utf8')) as ReportJson;

  it.each(['report-builder-on-1500-network.json', 'report-buildkit-bridge.json'])(
    '%s: every layer reads back into its typed form and writes the same JSON',
    (f) => {
      for (const l of report(f).layers) expect(toLayerJson(fromLayerJson(l)!)).toEqual(l);
    },
  );

  it("the bridge-mode run: the replica's temporary bridge is not drawn as the daemon's", () => {
    const r = report('report-buildkit-bridge.json');
    const daemon = r.layers.find((l) => l.id === 'docker')!;
    expect(daemon.interfaces.filter((i) => i.kind === 'bridge').map((i) => i.name)).toEqual(['docker0']);
    const br = r.layers.find((l) => l.kind === 'buildkit-bridge')!;
    expect(br).toMatchObject({ parent: 'buildx-lab0', mtu: 1500, facts: { bridge: 'buildkit0', replicaMtu: 1500 } });
    expect(br.notes).toContain("ports now: bkstep0 (RUN steps' veths)");
    expect(r.findings.map((f) => [f.code, f.layer])).toEqual([['pmtu-blackhole', 'buildx-lab0-bridge']]);
  });
});
