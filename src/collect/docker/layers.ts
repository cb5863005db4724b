/**
 * From what a daemon said and what its probe containers measured to layers: daemon -> networks -> containers /
 * build step, with parent links. Pure: no calls, no clock; table-tested over the captured lab fixtures
 * (test/fixtures/nested-dockerd-*). The orchestrator (collect.ts) makes the calls and hands their results here.
 *
 * An overlay container reaches the targets through docker_gwbridge (its eth1), so it hangs under the docker_gwbridge
 * layer, and the overlay layer keeps what the container saw on its eth0.
 */
import type { ContainerVariant, DockerDaemonLayer, DockerNetworkLayer, Layer } from '../../model/layers.js';
import { USER_STACK_TAP_MTU } from '../../model/net.js';
import { containerLayer, overlayContainerLayer, refineNetworkMtu } from './containers.js';
import { containerLayerId, DAEMON_LAYER_ID } from './ids.js';
import { gwbridgeLayer, networkLayer, verificationNetworkLayer } from './networks.js';
import type { DockerEndpoint } from './endpoint.js';
import type { DaemonInspection, DockerNetwork } from './inspect.js';
import { desktopNote } from './desktop.js';
import type { InnerRun } from './runs.js';
import { builderLayers } from './builder-layers.js';
import type { BuilderRun } from './builders.js';

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
  /** buildx builders (docker-container driver), probed from inside their namespaces (builders.ts). */
  builders?: BuilderRun[];
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
  const podman = o.inspection.version.engine?.name === 'podman';
  const networks = o.inspection.networks.filter((n) => n.origin !== 'mtu-preflight');
  const nets = networks.map((n) => networkLayer(n, daemon.id, major, podman));
  const layers: Layer[] = [daemon, ...nets];
  const runs = o.runs;
  if (runs) {
    applyDaemonView(daemon, runs.host);
    applyRootless(daemon);
    applyParents(nets, daemon);
    const layerOf = (n: DockerNetwork) => nets[networks.indexOf(n)]!;
    const defaultNet = networks.find((n) => n.isDefault);
    const bridgeLayer = defaultNet ? layerOf(defaultNet) : undefined;
    const inner: Layer[] = [];
    if (bridgeLayer && runs.bridge) {
      inner.push(
        containerLayer(
          'docker-container-bridge',
          'container on the default bridge',
          'container',
          bridgeLayer,
          runs.bridge,
          'bridge',
          o.probeImage,
        ),
      );
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
        inner.push(
          containerLayer(
            containerLayerId(net.name),
            `container on ${net.driver} network ${net.name}`,
            'container',
            layer,
            run,
            variant,
            o.probeImage,
          ),
        );
        refineNetworkMtu(layer, run);
      }
    }
    layers.push(...inner);
    // Podman's compat /build runs RUN steps in the service's own network namespace (buildah NamespaceOption network
    // Host: true unless the client sends nsoptions, podman pkg/api/handlers/compat/images_build.go v4.3.1): the step
    // stands under the daemon, not the default network.
    if (podman && runs.build) layers.push(podmanBuildLayer(daemon, runs.build, o.probeImage));
    else if (bridgeLayer && runs.build) {
      layers.push(
        containerLayer(
          'docker-build',
          'docker build RUN step (default bridge)',
          'build-step',
          bridgeLayer,
          runs.build,
          'build',
          o.probeImage,
        ),
      );
    }
    layers.push(...builderLayers(runs.builders ?? [], nets, daemon, o.probeImage));
    for (const v of runs.verify) {
      const net = verificationNetworkLayer(v.mtu, daemon.id);
      layers.push(
        net,
        containerLayer(
          `docker-container-verify-${v.mtu}`,
          `container on the MTU ${v.mtu} network`,
          'container',
          net,
          v.run,
          'verify',
          o.probeImage,
        ),
      );
    }
  }
  daemon.notes.push(...(o.lateNotes ?? []));
  return layers;
}

function daemonLayer(o: DaemonObservation, parent: string): DockerDaemonLayer {
  const v = o.inspection.version;
  const swarm = o.inspection.swarm;
  const podman = v.engine?.name === 'podman';
  return {
    id: DAEMON_LAYER_ID,
    kind: 'docker-daemon',
    name: podman
      ? `Podman ${v.engine!.version} (Docker-compatible API, ${o.endpoint.host})`
      : `docker daemon (${o.endpoint.host})`,
    parent,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [
      ...(podman
        ? [
            `engine: Podman ${v.engine!.version} (GET /version names the component "Podman Engine"), API ${v.apiVersion}`,
          ]
        : []),
      ...o.notes,
      ...(o.inspection.notes ?? []),
      ...(o.inspection.desktop ? [desktopNote(o.inspection.desktop)] : []),
    ],
    reachable: true,
    required: o.required,
    endpoint: { host: o.endpoint.host, source: o.endpoint.source },
    version: {
      version: v.version,
      apiVersion: v.apiVersion,
      ...(v.os ? { os: v.os } : {}),
      ...(v.kernel ? { kernel: v.kernel } : {}),
      ...(v.major !== undefined ? { major: v.major } : {}),
    },
    probeImage: o.probeImage,
    ...(v.engine ? { engine: v.engine } : {}),
    ...(o.inspection.rootless ? { rootless: {} } : {}),
    ...(o.inspection.desktop ? { desktop: o.inspection.desktop } : {}),
    ...(swarm && swarm.state !== 'inactive'
      ? {
          swarm: {
            state: swarm.state,
            ...(swarm.nodes ? { nodes: swarm.nodes } : {}),
            ...(swarm.nodeAddr ? { nodeAddr: swarm.nodeAddr } : {}),
          },
        }
      : {}),
    ...(o.probeImageMissing !== undefined ? { probeImageMissing: o.probeImageMissing } : {}),
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
    net.parentIface = {
      ...parent,
      mtu: iface.mtu,
      kind: iface.kind,
      ...(iface.tunnelOverhead ? { tunnelOverhead: iface.tunnelOverhead } : {}),
    };
    net.mtu ??= iface.mtu;
  }
}

/**
 * A rootless engine's namespace leaves through a user-space stack (rootlesskit, slirp4netns, pasta's tap): read the
 * tap from what the daemon's namespace showed, and say what it means for the MTUs above it.
 */
function applyRootless(daemon: DockerDaemonLayer): void {
  const out = new Set(daemon.uplinks.map((u) => u.iface));
  const tap = daemon.interfaces.find(
    (i) => out.has(i.name) && (i.kind === 'tun' || i.kind === 'tap' || /^tap\d+$/.test(i.name)),
  );
  if (!daemon.rootless && !(tap && tap.mtu === USER_STACK_TAP_MTU)) return;
  daemon.rootless = tap ? { tap: { name: tap.name, mtu: tap.mtu } } : {};
  daemon.notes.push(
    tap
      ? `rootless: the daemon's namespace leaves by ${tap.name} (MTU ${tap.mtu}), a user-space network stack (slirp4netns or rootlesskit) that ends TCP here and opens its own connections from the parent namespace with the parent's MSS: a ${tap.mtu} tap, or a 1500 bridge above it, is not a black hole by itself; what the probes measured decides`
      : "rootless: GET /info says the engine runs rootless; its namespace's way out was not seen (no --network host probe)",
  );
}

/** Podman's build step: RUN in the service's own network namespace, so it hangs under the daemon layer. */
function podmanBuildLayer(daemon: DockerDaemonLayer, run: InnerRun, image: string): Layer {
  const layer = containerLayer(
    'docker-build',
    "podman build RUN step (the service's own network namespace)",
    'build-step',
    // containerLayer reads the parent's id and network name only.
    { id: daemon.id, network: 'host' } as DockerNetworkLayer,
    run,
    'build',
    image,
  );
  layer.notes.push(
    "Podman's Docker-compatible /build runs RUN steps with the host network of the service (not on the default network), so this step measures the daemon's namespace",
  );
  return layer;
}
