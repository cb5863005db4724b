/**
 * The network layers a run looks at, one type per kind: the runner's namespace, a Docker daemon, a Docker network,
 * and the containers and build steps probed on them. Collectors build them, rules read their typed fields, renderers
 * draw them. A new kind of layer (a buildx builder, a pod network) is one more member of the union and its own
 * typed record, one collector, one rule and one fix.
 *
 * The JSON report (schema v1) shows each layer's kind-specific fields as a flat `facts` object: layer-json.ts is the
 * one place that flattening (and reading it back) is written.
 */
import type { InterfaceKind, NetInterface, ProbeResult, Uplink } from './report.js';

/** What every layer has: its place in the tree, the MTU its traffic leaves with, and what was seen and measured. */
export interface LayerBase {
  id: string;
  /** Human label, e.g. "runner (this namespace)". */
  name: string;
  /** The layer whose network this one leaves through. */
  parent?: string;
  /** The MTU this layer's traffic leaves with (its egress interface, or the network's MTU option). */
  mtu?: number;
  interfaces: NetInterface[];
  uplinks: Uplink[];
  probes: ProbeResult[];
  /** What could not be seen and why (e.g. "no /sys/class/net: not Linux"). */
  notes: string[];
}

/** The namespace the preflight itself runs in (the runner, a job container, a pod). */
export interface HostLayer extends LayerBase {
  kind: 'host';
  /**
   * The OS the preflight ran on when it is not Linux ('darwin', 'win32'): the interfaces came from that OS's
   * commands, and a desktop engine's VM is not part of this layer (a note says what was and was not seen).
   */
  platform?: 'darwin' | 'win32';
}

/** A Docker Engine API endpoint and how it was found. */
export interface EngineEndpoint {
  /** unix:///var/run/docker.sock, tcp://docker:2376 ... */
  host: string;
  /** Where it came from: DOCKER_HOST, the docker context, the default socket. */
  source: string;
}

/** A reachable engine's version, as GET /version says. */
export interface EngineVersion {
  version: string;
  apiVersion: string;
  os?: string;
  kernel?: string;
  /** Major version (25 for 25.0.3): the gates of src/model/net.ts compare it. */
  major?: number;
}

/**
 * Which engine serves the Docker API, as GET /version's Components name it: dockerd ("Engine"), or Podman
 * ("Podman Engine", podman pkg/api/handlers/compat/version.go). Podman's version is its own (4.3.1), not Docker's.
 */
export interface EngineIdentity {
  name: 'docker' | 'podman';
  version: string;
}

/**
 * A rootless engine (GET /info SecurityOptions has name=rootless, for dockerd and Podman alike) and the user-space
 * network stack its namespace leaves through, when the daemon's namespace shows it (a tap at slirp4netns's 65520).
 */
export interface RootlessState {
  /** The tap the daemon's namespace leaves by (tap0 for rootlesskit and slirp4netns) and its MTU. */
  tap?: { name: string; mtu: number };
}

export interface SwarmState {
  /** active, pending, error, locked (inactive is not recorded). */
  state: string;
  nodes?: number;
  nodeAddr?: string;
}

/** A Docker daemon the job can reach (or, with --docker required, one it could not). */
export interface DockerDaemonLayer extends LayerBase {
  kind: 'docker-daemon';
  reachable: boolean;
  required: boolean;
  endpoint?: EngineEndpoint;
  version?: EngineVersion;
  swarm?: SwarmState;
  /** The engine behind the API (absent: not said, taken as dockerd). */
  engine?: EngineIdentity;
  /** Set when the engine runs rootless. */
  rootless?: RootlessState;
  /** The image the probe containers run. */
  probeImage?: string;
  /** Why there were no probes inside the daemon (the image is missing and may not be pulled). */
  probeImageMissing?: string;
  /** The daemon's own namespace, as a --network host container saw it, and how long that probe took. */
  view?: { from: 'host-network container'; ms: number };
  /** The engine runs in a desktop product's Linux VM (Docker Desktop, colima, podman machine): its fix is there. */
  desktop?: DesktopEngine;
}

/** A desktop product whose Linux VM runs the engine, and how it was told (src/collect/docker/desktop.ts). */
export interface DesktopEngine {
  product: 'docker-desktop' | 'colima' | 'podman-machine';
  /** colima's profile ('default', or NAME of `colima start --profile NAME`); podman machine's machine name. */
  profile?: string;
  /** What said so: the /info fields or the socket path. */
  evidence: string;
}

/** The parent interface of a macvlan/ipvlan network, in the daemon's namespace. */
export interface ParentInterface {
  name: string;
  mtu?: number;
  kind?: InterfaceKind;
  /** Encapsulation bytes, when the parent is a tunnel. */
  tunnelOverhead?: number;
}

/** A Docker network: as inspected, and what containers on it saw. */
export interface DockerNetworkLayer extends LayerBase {
  kind: 'docker-network';
  /** The network's name in Docker (verification networks: verify-<mtu>). */
  network: string;
  driver: string;
  /** 'existing': the daemon had it; 'verify': a temporary network of this run, to test a lower MTU. */
  purpose: 'existing' | 'verify';
  /** The daemon's default bridge (`docker run` without --network, classic `docker build` RUN steps). */
  isDefault: boolean;
  internal: boolean;
  /** The Linux bridge behind it (docker0, br-<id12>, docker_gwbridge, or the host's own with dockerd --bridge). */
  bridge?: string;
  /** com.docker.network.driver.mtu as given. */
  mtuOption?: number;
  /** What a container on it saw on its interface (beats the option, and docker0's idle 1500 before Docker 25). */
  containerMtu?: number;
  /** Who made it, when its name or labels say. */
  origin?: 'compose' | 'github-actions' | 'mtu-preflight';
  composeProject?: string;
  subnets: string[];
  scope?: string;
  /** Overlays only: joinable by `docker run --network`, and whether it is the routing mesh. */
  overlay?: { attachable: boolean; ingress: boolean; encrypted: boolean };
  /** docker_gwbridge: the bridge containers on overlays reach everything outside the swarm through. */
  gwbridge: boolean;
  /** macvlan/ipvlan: the parent interface containers sit on. */
  parentIface?: ParentInterface;
  /** macvlan_mode / ipvlan_mode as given (unset: macvlan bridge, ipvlan l2). */
  mode?: string;
}

/** How a probe container was attached, which says what its result stands for. */
export type ContainerVariant = 'bridge' | 'build' | 'verify' | 'overlay' | 'macvlan' | 'ipvlan';

/** A container (or a `docker build` RUN step) probed on a network. */
interface ProbedRunBase extends LayerBase {
  variant: ContainerVariant;
  /** The Docker network it ran on (the parent layer's network name). */
  network: string;
  image: string;
  /** How long the run took, container start to exit. */
  ms: number;
  /** The Node version inside. */
  node?: string;
  exitCode?: number;
  /** The interface its probes left by, when not eth0 (an overlay container leaves by eth1, on docker_gwbridge). */
  egressIface?: string;
  /** A container on an overlay: the overlay is its eth0, and what MTU it saw there. */
  overlay?: { network: string; iface: string; mtu?: number };
}

export interface ContainerLayer extends ProbedRunBase {
  kind: 'container';
}

export interface BuildStepLayer extends ProbedRunBase {
  kind: 'build-step';
}

/**
 * A buildx builder of the docker-container driver: the buildkitd container buildx names `buildx_buildkit_<node>`, on
 * the docker network it was created on (`--driver-opt network=...`). Its RUN steps run in its network namespace
 * (buildkitd's host mode) or on a bridge inside it (bridge mode: a BuildkitBridgeLayer under this one). Probed by a
 * container started with `--network container:<builder>`, which shares that namespace.
 */
export interface BuildxBuilderLayer extends LayerBase {
  kind: 'buildx-builder';
  /** The builder's name (`docker buildx create --name`), from the container name or buildx's state. */
  builder: string;
  /** The node's container (buildx_buildkit_<builder>0). */
  container: string;
  /** The Docker network it is on ('host' for --driver-opt network=host). */
  network: string;
  /** buildkitd's worker network mode as its flags or config say (host, bridge, cni, auto); undefined: not said. */
  workerNet?: string;
  /** Where the builder's definition was read: buildx's state file, or only the container. */
  source: 'buildx-state' | 'container';
  /** The builder is the current one in buildx's state (`docker buildx use`). */
  current?: boolean;
  /** `--driver-opt` values from buildx's state, as k=v. */
  driverOpts?: string[];
  /** buildkitd flags (from buildx's state, else the container's command). */
  buildkitdFlags?: string[];
  /** The probe container that shared its namespace: image and wall time. */
  image: string;
  ms: number;
}

/**
 * The bridge buildkitd's bridge network mode puts RUN steps on, inside the builder's namespace (buildkit0, CNI bridge
 * plugin with no mtu key: 1500, moby/buildkit#4352). `replica`: what a container on a temporary network with the
 * bridge's MTU measured from the same daemon (a RUN step on it advertises the same MSS), when that was run.
 */
export interface BuildkitBridgeLayer extends LayerBase {
  kind: 'buildkit-bridge';
  bridge: string;
  builder: string;
  replica?: { mtu: number; ms: number };
}

/**
 * The Kubernetes pod network the runner's namespace sits on (KUBERNETES_SERVICE_HOST): which CNI made the pod's eth0
 * and how the pod shows it. Descriptive: its MTU is the host layer's eth0; the CNI's knobs are the fix.
 */
export interface PodNetworkLayer extends LayerBase {
  kind: 'pod-network';
  cni?: 'flannel' | 'calico' | 'cilium';
  /** How the CNI was told (a file, an interface, the default gateway). */
  evidence: string[];
  /** The MTU the CNI says it gives pods (FLANNEL_MTU, a CNI config's "mtu"). */
  cniMtu?: number;
  backend?: string;
}

export type Layer =
  | HostLayer
  | DockerDaemonLayer
  | DockerNetworkLayer
  | ContainerLayer
  | BuildStepLayer
  | BuildxBuilderLayer
  | BuildkitBridgeLayer
  | PodNetworkLayer;
export type LayerKind = Layer['kind'];
export type InnerLayer = ContainerLayer | BuildStepLayer;

export const isInner = (l: Layer): l is InnerLayer => l.kind === 'container' || l.kind === 'build-step';
export const isDaemon = (l: Layer): l is DockerDaemonLayer => l.kind === 'docker-daemon';
export const isNetwork = (l: Layer): l is DockerNetworkLayer => l.kind === 'docker-network';

/**
 * The bridges of `layer` that a docker network of its own stands for (docker0 under the daemon's bridge network):
 * that network is the hop, so the bridge is not one again.
 */
export function bridgesOfNetworks(layer: Layer, layers: readonly Layer[]): Set<string> {
  const names = new Set<string>();
  for (const child of layers) {
    if (child.parent !== layer.id || child.kind !== 'docker-network') continue;
    for (const i of child.interfaces) if (i.kind === 'bridge') names.add(i.name);
    if (child.bridge !== undefined) names.add(child.bridge);
  }
  return names;
}
