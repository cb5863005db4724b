/**
 * buildx builders as layers, pure: each builder under the docker network it is on (under the daemon for
 * network=host), with what the probe that shared its namespace saw; the bridge buildkitd puts RUN steps on in bridge
 * mode as a layer under the builder, with what a probe at that bridge's MTU measured. Table-tested in
 * test/unit/collect/builders.test.ts.
 */
import type {
  BuildkitBridgeLayer,
  BuildxBuilderLayer,
  DockerDaemonLayer,
  DockerNetworkLayer,
  Layer,
} from '../../model/layers.js';
import { builderBridge, builderName, builderNetwork, builderWorkerNet, type BuilderRun } from './builders.js';
import { ifaceMtu, refineNetworkMtu } from './containers.js';

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-');
export const builderLayerId = (node: string) => `buildx-${slug(node)}`;
export const bridgeLayerId = (node: string) => `buildx-${slug(node)}-bridge`;

/** buildkitd's flags: buildx's record, else the container's command after `buildkitd`. */
function flagsOf(r: BuilderRun): string[] | undefined {
  if (r.definition) return r.definition.node.flags.length ? r.definition.node.flags : undefined;
  const cmd = r.container.command;
  const i = cmd.findIndex((w) => /(^|\/)buildkitd$/.test(w));
  return i >= 0 && cmd.length > i + 1 ? cmd.slice(i + 1) : undefined;
}

function builderLayer(r: BuilderRun, parent: DockerNetworkLayer | DockerDaemonLayer, image: string) {
  const c = r.container;
  const def = r.definition;
  const o = r.run?.output;
  const bridge = builderBridge(r.run);
  const mtu = r.run ? ifaceMtu(r.run) : parent.mtu;
  const workerNet = builderWorkerNet(c, def);
  const flags = flagsOf(r);
  const opts = def ? Object.entries(def.node.driverOpts).map(([k, v]) => `${k}=${v}`) : [];
  const network = builderNetwork(c);
  const notes = [...(o?.notes ?? [])];
  if (r.run?.error) notes.push(`no probe result: ${r.run.error}`);
  if (!r.run)
    notes.push(
      "network=host: the builder shares the daemon's namespace, and what the daemon's namespace measured is its",
    );
  const layer: BuildxBuilderLayer = {
    id: builderLayerId(c.node),
    kind: 'buildx-builder',
    name: `buildx builder ${builderName(c, def)} (${c.name})`,
    parent: parent.id,
    ...(mtu !== undefined ? { mtu } : {}),
    // The bridge is a layer of its own below the builder.
    interfaces: (o?.interfaces ?? []).filter((i) => i.name !== bridge?.name),
    uplinks: o?.uplinks ?? [],
    probes: o?.probes ?? [],
    notes,
    builder: builderName(c, def),
    container: c.name,
    network,
    ...(workerNet ? { workerNet } : {}),
    source: def ? 'buildx-state' : 'container',
    ...(def ? { current: def.current } : {}),
    ...(opts.length ? { driverOpts: opts } : {}),
    ...(flags ? { buildkitdFlags: flags } : {}),
    image,
    ms: r.run?.ms ?? 0,
  };
  if (r.run && parent.kind === 'docker-network') refineNetworkMtu(parent, r.run);
  return layer;
}

function bridgeLayer(r: BuilderRun, builder: BuildxBuilderLayer): BuildkitBridgeLayer | undefined {
  const seen = builderBridge(r.run);
  const bridgeMode = builder.workerNet === 'bridge' || builder.workerNet === 'cni';
  if (!seen && !bridgeMode) return undefined;
  const iface = r.run?.output?.interfaces.find((i) => i.name === seen?.name);
  const rep = r.replica;
  const notes: string[] = [];
  if (iface?.ports?.length) notes.push(`ports now: ${iface.ports.join(', ')} (RUN steps' veths)`);
  if (!seen)
    notes.push(
      `buildkitd's worker network is ${builder.workerNet}, but the builder's namespace shows no bridge yet: its CNI bridge gets MTU 1500 (no mtu key in its config, moby/buildkit#4352)`,
    );
  if (builder.workerNet === 'host')
    notes.push("buildkitd's worker network is host: RUN steps use the builder's namespace, not this bridge");
  if (rep) {
    notes.push(
      `measured from a temporary network with the bridge's MTU ${rep.mtu} (a RUN step on ${seen?.name ?? 'it'} advertises the same MSS); buildkitd's step namespaces exist only while a RUN step does`,
    );
    if (rep.run.error) notes.push(`no probe result: ${rep.run.error}`);
  }
  return {
    id: bridgeLayerId(r.container.node),
    kind: 'buildkit-bridge',
    name: `buildkitd bridge ${seen?.name ?? 'buildkit0'} (RUN steps of ${builder.builder})`,
    parent: builder.id,
    mtu: seen?.mtu ?? 1500,
    // The layer is the bridge: its interface is not drawn again under it; its ports are step veths.
    interfaces: [],
    uplinks: rep?.run.output?.uplinks ?? [],
    probes: rep?.run.output?.probes ?? [],
    notes,
    bridge: seen?.name ?? 'buildkit0',
    builder: builder.builder,
    ...(rep ? { replica: { mtu: rep.mtu, ms: rep.run.ms } } : {}),
  };
}

/** The layers of a daemon's builders, in report order: each builder, then its bridge. */
export function builderLayers(
  runs: readonly BuilderRun[],
  nets: readonly DockerNetworkLayer[],
  daemon: DockerDaemonLayer,
  image: string,
): Layer[] {
  const out: Layer[] = [];
  // A bridge-mode replica runs beside the daemon's own probe, which may list its temporary bridge: not the daemon's.
  const ours = new Set(runs.map((r) => r.replica?.bridge).filter((b): b is string => !!b));
  if (ours.size)
    daemon.interfaces = daemon.interfaces.filter((i) => !ours.has(i.name) && !(i.master && ours.has(i.master)));
  for (const r of runs) {
    const network = builderNetwork(r.container);
    const net = nets.find((n) => n.network === network || (network === 'bridge' && n.isDefault));
    const layer = builderLayer(r, network === 'host' || !net ? daemon : net, image);
    if (network !== 'host' && !net) layer.notes.push(`on ${network}, which is not a network of this daemon's list`);
    out.push(layer);
    const bridge = bridgeLayer(r, layer);
    if (bridge) out.push(bridge);
  }
  return out;
}
