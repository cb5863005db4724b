/**
 * From what a daemon said and what its probe containers measured to layers: daemon -> networks -> containers /
 * build step, with parent links. Pure: no calls, no clock; table-tested over the captured lab fixtures
 * (test/fixtures/nested-dockerd-*). The orchestrator (collect.ts) makes the calls and hands their results here.
 *
 * An overlay container reaches the targets through docker_gwbridge (its eth1), so it hangs under the docker_gwbridge
 * layer, and the overlay layer keeps what the container saw on its eth0.
 */
import { GWBRIDGE, IDLE_BRIDGE_REPORTS_MTU_SINCE, isParentDriver, MTU_OPTION, VXLAN_OVERHEAD } from '../../model/net.js';
import type { ContainerVariant, DockerDaemonLayer, DockerNetworkLayer, InnerLayer, Layer } from '../../model/layers.js';
import type { DockerEndpoint } from './endpoint.js';
import type { DaemonInspection, DockerNetwork } from './inspect.js';
import type { InnerRun } from './runs.js';

export const DAEMON_LAYER_ID = 'docker';

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-');
export const networkLayerId = (name: string) => `docker-net-${slug(name)}`;

/** What the probe containers of one daemon measured. */
export interface DaemonRuns {
  /** On the default bridge; undefined when the daemon has none. */
  bridge?: InnerRun;
  /** With --network host: the daemon's own namespace. */
  host: InnerRun;
  /** On attachable overlays and macvlan/ipvlan networks. */
  shapes: Array<{ net: DockerNetwork; run: InnerRun }>;
  /** A `docker build` RUN step on the default bridge. */
  build?: InnerRun;
  /** On temporary networks with a lower MTU, largest first. */
  verify: Array<{ mtu: number; run: InnerRun }>;
  /** docker_gwbridge inspected after the overlay probes, when GET /networks did not list it (Docker made it then). */
  gwbridge?: DockerNetwork;
}

export interface DaemonObservation {
  endpoint: DockerEndpoint;
  inspection: DaemonInspection;
  required: boolean;
  probeImage: string;
  /** What the orchestration noted before the probes (leftovers swept, probe image pulled, ...). */
  notes: string[];
  /** Why nothing was probed inside (the probe image is missing). */
  probeImageMissing?: string;
  runs?: DaemonRuns;
  /** Noted after the probes (a collector that stopped early). */
  lateNotes?: string[];
}

/** The daemon with --docker required that could not be reached: the one layer that says so. */
export function unreachableDaemonLayer(parent: string, message: string, endpoint?: DockerEndpoint): DockerDaemonLayer {
  return {
    id: DAEMON_LAYER_ID,
    kind: 'docker-daemon',
    name: `docker daemon (${endpoint?.host ?? 'not found'})`,
    parent,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [message],
    reachable: false,
    required: true,
    ...(endpoint ? { endpoint: { host: endpoint.host, source: endpoint.source } } : {}),
  };
}

/** The layers of one reachable daemon, in report order: daemon, networks, containers, build step, verification. */
export function buildDaemonLayers(o: DaemonObservation, parent: string): Layer[] {
  const daemon = daemonLayer(o, parent);
  const major = o.inspection.version.major;
  const networks = o.inspection.networks.filter((n) => n.origin !== 'mtu-preflight');
  const nets = networks.map((n) => networkLayer(n, daemon.id, major));
  const layers: Layer[] = [daemon, ...nets];
  const runs = o.runs;
  if (runs) {
    applyDaemonView(daemon, runs.host);
    applyParents(nets, daemon);
    const layerOf = (n: DockerNetwork) => nets[networks.indexOf(n)]!;
    const defaultNet = networks.find((n) => n.isDefault);
    const bridgeLayer = defaultNet ? layerOf(defaultNet) : undefined;
    const inner: Layer[] = [];
    if (bridgeLayer && runs.bridge) {
      inner.push(containerLayer('docker-container-bridge', 'container on the default bridge', 'container', bridgeLayer, runs.bridge, 'bridge', o.probeImage));
      refineNetworkMtu(bridgeLayer, runs.bridge);
    }
    const overlayRuns = runs.shapes.filter((r) => r.net.driver === 'overlay');
    const gw = overlayRuns.length ? gwbridgeLayer(nets, daemon, overlayRuns, runs.gwbridge) : undefined;
    if (gw && !nets.includes(gw)) layers.push(gw);
    for (const { net, run } of runs.shapes) {
      const layer = layerOf(net);
      if (net.driver === 'overlay') inner.push(overlayContainerLayer(net, layer, gw, run, o.probeImage));
      else {
        const variant = net.driver as ContainerVariant;
        inner.push(containerLayer(`docker-container-net-${slug(net.name)}`, `container on ${net.driver} network ${net.name}`, 'container', layer, run, variant, o.probeImage));
        refineNetworkMtu(layer, run);
      }
    }
    layers.push(...inner);
    if (bridgeLayer && runs.build) {
      layers.push(containerLayer('docker-build', 'docker build RUN step (default bridge)', 'build-step', bridgeLayer, runs.build, 'build', o.probeImage));
    }
    for (const v of runs.verify) {
      const net = verificationNetworkLayer(v.mtu, daemon.id);
      layers.push(net, containerLayer(`docker-container-verify-${v.mtu}`, `container on the MTU ${v.mtu} network`, 'container', net, v.run, 'verify', o.probeImage));
    }
  }
  daemon.notes.push(...(o.lateNotes ?? []));
  return layers;
}

function daemonLayer(o: DaemonObservation, parent: string): DockerDaemonLayer {
  const v = o.inspection.version;
  const swarm = o.inspection.swarm;
  return {
    id: DAEMON_LAYER_ID,
    kind: 'docker-daemon',
    name: `docker daemon (${o.endpoint.host})`,
    parent,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [...o.notes],
    reachable: true,
    required: o.required,
    endpoint: { host: o.endpoint.host, source: o.endpoint.source },
    version: { version: v.version, apiVersion: v.apiVersion, ...(v.os ? { os: v.os } : {}), ...(v.kernel ? { kernel: v.kernel } : {}), ...(v.major !== undefined ? { major: v.major } : {}) },
    probeImage: o.probeImage,
    ...(swarm && swarm.state !== 'inactive' ? { swarm: { state: swarm.state, ...(swarm.nodes ? { nodes: swarm.nodes } : {}), ...(swarm.nodeAddr ? { nodeAddr: swarm.nodeAddr } : {}) } } : {}),
    ...(o.probeImageMissing !== undefined ? { probeImageMissing: o.probeImageMissing } : {}),
  };
}

/** What the inspection says about a network that a reader of the report needs to weigh its MTU. */
function networkNotes(n: DockerNetwork, major: number | undefined): string[] {
  const notes: string[] = [];
  if (n.isDefault && major !== undefined && major < IDLE_BRIDGE_REPORTS_MTU_SINCE) {
    notes.push(`Docker ${major}: ${n.bridge ?? 'docker0'} itself reads 1500 while no container is attached (moby#36659); the MTU here is the network's option and what a container saw`);
  }
  if (n.isDefault && n.bridge && n.bridge !== 'docker0') notes.push(`dockerd --bridge=${n.bridge}: the default network is the host's own bridge ${n.bridge}`);
  if (n.mtuOption === undefined && n.driver === 'bridge') {
    notes.push(`no ${MTU_OPTION} option: the bridge driver's default 1500 (dockerd --mtu applies to the default bridge only${n.gwbridge ? ', not to docker_gwbridge' : ''})`);
  }
  if (n.driver === 'overlay') {
    const given = n.mtuOption !== undefined ? `${MTU_OPTION}=${n.mtuOption}` : 'no option (1500)';
    notes.push(`overlay: containers get MTU ${n.mtu}: ${given} taken as the underlay's MTU, minus ${VXLAN_OVERHEAD} bytes of VXLAN${n.encrypted ? ' and the ESP of --opt encrypted' : ''}`);
    if (n.ingress) notes.push('the routing mesh (ingress): it carries published ports of swarm services; checked by its options only');
    else if (!n.attachable) notes.push('not attachable: only swarm services join it, so it is checked by its options only');
  }
  // (An MTU option on a macvlan/ipvlan network does nothing: docker-parent's mtu-option-ignored says so.)
  if (isParentDriver(n.driver) && !n.parent) notes.push(`no parent: Docker made a dummy interface, so containers on it reach nothing outside the network`);
  return notes;
}

function networkName(n: DockerNetwork): string {
  // docker_gwbridge is both the network's and the bridge's name: say it once.
  if (n.bridge) return n.bridge === n.name ? n.name : `${n.name} (${n.bridge})`;
  if (n.driver === 'overlay') return `${n.name} (overlay${n.ingress ? ', ingress' : ''})`;
  if (isParentDriver(n.driver)) return `${n.name} (${n.driver}${n.parent ? ` on ${n.parent}` : ''})`;
  return n.name;
}

export function networkLayer(n: DockerNetwork, parent: string, major: number | undefined): DockerNetworkLayer {
  const composeProject = n.labels['com.docker.compose.project'];
  return {
    id: networkLayerId(n.name),
    kind: 'docker-network',
    name: networkName(n),
    parent,
    ...(n.mtu !== undefined ? { mtu: n.mtu } : {}),
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: networkNotes(n, major),
    network: n.name,
    driver: n.driver,
    purpose: 'existing',
    isDefault: n.isDefault,
    internal: n.internal,
    subnets: n.subnets,
    gwbridge: n.gwbridge === true,
    ...(n.bridge ? { bridge: n.bridge } : {}),
    ...(n.mtuOption !== undefined ? { mtuOption: n.mtuOption } : {}),
    ...(n.origin ? { origin: n.origin } : {}),
    ...(composeProject ? { composeProject } : {}),
    ...(n.scope ? { scope: n.scope } : {}),
    ...(n.driver === 'overlay' ? { overlay: { attachable: n.attachable === true, ingress: n.ingress === true, encrypted: n.encrypted === true } } : {}),
    ...(n.parent ? { parentIface: { name: n.parent } } : {}),
    ...(n.mode ? { mode: n.mode } : {}),
  };
}

function verificationNetworkLayer(mtu: number, parent: string): DockerNetworkLayer {
  return {
    id: networkLayerId(`verify-${mtu}`),
    kind: 'docker-network',
    name: `temporary network, MTU ${mtu} (verification)`,
    parent,
    mtu,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [],
    network: `verify-${mtu}`,
    driver: 'bridge',
    purpose: 'verify',
    isDefault: false,
    internal: false,
    subnets: [],
    gwbridge: false,
    mtuOption: mtu,
  };
}

/** The host-network container's view is the daemon's namespace, one layer up. */
function applyDaemonView(daemon: DockerDaemonLayer, run: InnerRun): void {
  if (!run.output) {
    daemon.notes.push(`could not probe from the daemon's namespace (--network host): ${run.error ?? 'no answer'}`);
    return;
  }
  daemon.interfaces = run.output.interfaces;
  daemon.uplinks = run.output.uplinks;
  daemon.probes = run.output.probes;
  if (run.output.mtu !== undefined) daemon.mtu = run.output.mtu;
  daemon.notes.push(...run.output.notes);
  daemon.view = { from: 'host-network container', ms: run.ms };
}

/** macvlan/ipvlan: their containers get the parent's MTU; read it (and its kind: a tunnel?) from the daemon's view. */
function applyParents(nets: DockerNetworkLayer[], daemon: DockerDaemonLayer): void {
  if (!daemon.view) return;
  for (const net of nets) {
    const parent = net.parentIface;
    if (!parent) continue;
    const iface = daemon.interfaces.find((i) => i.name === parent.name);
    if (!iface) {
      net.notes.push(`the parent ${parent.name} is not an interface of the daemon's namespace`);
      continue;
    }
    net.parentIface = { ...parent, mtu: iface.mtu, kind: iface.kind, ...(iface.tunnelOverhead ? { tunnelOverhead: iface.tunnelOverhead } : {}) };
    net.mtu ??= iface.mtu;
  }
}

/**
 * The docker_gwbridge layer the overlay containers left by: the one GET /networks listed, else the one inspected after
 * the probes (Docker creates docker_gwbridge when the first container on an overlay starts on a node, so our probe
 * may have made it), else what the containers saw on their way-out interface.
 */
function gwbridgeLayer(nets: DockerNetworkLayer[], daemon: DockerDaemonLayer, runs: Array<{ net: DockerNetwork; run: InnerRun }>, inspected: DockerNetwork | undefined): DockerNetworkLayer | undefined {
  const listed = nets.find((l) => l.gwbridge);
  if (listed) return listed;
  const first = runs[0]!.net.name;
  if (inspected) {
    const layer = networkLayer(inspected, daemon.id, undefined);
    layer.notes.push(`not there before this run: Docker created ${GWBRIDGE} when the probe container joined overlay ${first} (it does on a node's first overlay container, with the bridge driver's defaults unless it was created beforehand)`);
    return layer;
  }
  const seen = runs.map((r) => egressOf(r.run)).find((e) => e !== undefined);
  if (!seen) return undefined;
  return {
    id: networkLayerId(GWBRIDGE),
    kind: 'docker-network',
    name: GWBRIDGE,
    parent: daemon.id,
    mtu: seen.mtu,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [`could not inspect ${GWBRIDGE}: its MTU is what the container on overlay ${first} saw on ${seen.iface}`],
    network: GWBRIDGE,
    driver: 'bridge',
    purpose: 'existing',
    isDefault: false,
    internal: false,
    subnets: [],
    bridge: GWBRIDGE,
    gwbridge: true,
  };
}

function ifaceMtu(run: InnerRun, name = 'eth0'): number | undefined {
  const o = run.output;
  if (!o) return undefined;
  return o.interfaces.find((i) => i.name === name)?.mtu ?? (name === 'eth0' ? o.mtu : undefined);
}

/**
 * The interface a container's probes left by (the route to the targets), with its MTU; when no probe connected, the
 * last container interface (Docker attaches the way-out network, docker_gwbridge, after the overlay).
 */
function egressOf(run: InnerRun): { iface: string; mtu: number } | undefined {
  const o = run.output;
  if (!o) return undefined;
  const u = o.uplinks.reduce<(typeof o.uplinks)[number] | undefined>((m, x) => (!m || x.effectiveMtu < m.effectiveMtu ? x : m), undefined);
  if (u) return { iface: u.iface, mtu: u.effectiveMtu };
  const last = o.interfaces
    .filter((i) => i.kind !== 'loopback')
    .sort((a, b) => a.name.localeCompare(b.name))
    .at(-1);
  return last ? { iface: last.name, mtu: last.mtu } : undefined;
}

/** What a container saw beats the option (and docker0, which lies while idle before Docker 25). */
function refineNetworkMtu(net: DockerNetworkLayer, run: InnerRun, iface = 'eth0'): void {
  const seen = ifaceMtu(run, iface);
  if (seen === undefined) return;
  if (net.mtu !== undefined && net.mtu !== seen) net.notes.push(`option/default says MTU ${net.mtu}, a container on it saw ${iface} MTU ${seen}: using ${seen}`);
  net.mtu = seen;
  net.containerMtu = seen;
}

/**
 * A container on an overlay: eth0 is the overlay (VXLAN), its traffic to the targets leaves by docker_gwbridge
 * (eth1). It hangs under the docker_gwbridge layer, its MTU the way-out interface's; the overlay layer records eth0.
 */
function overlayContainerLayer(net: DockerNetwork, overlay: DockerNetworkLayer, gw: DockerNetworkLayer | undefined, run: InnerRun, image: string): InnerLayer {
  const out = egressOf(run);
  const overlayIface = out && out.iface !== 'eth0' ? 'eth0' : (run.output?.interfaces.find((i) => i.kind !== 'loopback' && i.name !== out?.iface)?.name ?? 'eth0');
  refineNetworkMtu(overlay, run, overlayIface);
  if (gw && out) refineNetworkMtu(gw, run, out.iface);
  const overlayMtu = ifaceMtu(run, overlayIface);
  const layer = containerLayer(`docker-container-net-${slug(net.name)}`, `container on overlay ${net.name}${gw ? ` (leaves by ${GWBRIDGE})` : ''}`, 'container', gw ?? overlay, run, 'overlay', image);
  if (out) {
    layer.mtu = out.mtu;
    layer.egressIface = out.iface;
  }
  layer.overlay = { network: net.name, iface: overlayIface, ...(overlayMtu !== undefined ? { mtu: overlayMtu } : {}) };
  return layer;
}

function containerLayer(id: string, name: string, kind: InnerLayer['kind'], parent: DockerNetworkLayer, run: InnerRun, variant: ContainerVariant, image: string): InnerLayer {
  const o = run.output;
  const mtu = ifaceMtu(run);
  return {
    id,
    kind,
    name,
    parent: parent.id,
    ...(mtu !== undefined ? { mtu } : {}),
    interfaces: o?.interfaces ?? [],
    uplinks: o?.uplinks ?? [],
    probes: o?.probes ?? [],
    notes: [...(o?.notes ?? []), ...(run.error ? [`no probe result: ${run.error}`] : [])],
    variant,
    network: parent.network,
    image,
    ms: run.ms,
    ...(o?.node ? { node: o.node } : {}),
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
  };
}
