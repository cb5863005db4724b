/**
 * The network layers a run looks at, one type per kind: the runner's namespace, a Docker daemon, a Docker network,
 * and the containers and build steps probed on them. Collectors build them, rules read their typed fields, renderers
 * draw them. A new kind of layer (a buildx builder, a pod network) is one more member of the union and its own
 * typed record, one collector, one rule and one fix.
 *
 * The JSON report (schema v1) shows each layer's kind-specific fields as a flat `facts` object: layerFacts() below is
 * the one place that flattening is written.
 */
import type { InterfaceKind, NetInterface, ProbeResult, Uplink } from './report.js';

/** What every layer has: its place in the tree, the MTU its traffic leaves with, and what was seen and measured. */
interface LayerBase {
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
  /** The image the probe containers run. */
  probeImage?: string;
  /** Why there were no probes inside the daemon (the image is missing and may not be pulled). */
  probeImageMissing?: string;
  /** The daemon's own namespace, as a --network host container saw it, and how long that probe took. */
  view?: { from: 'host-network container'; ms: number };
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

export type Layer = HostLayer | DockerDaemonLayer | DockerNetworkLayer | ContainerLayer | BuildStepLayer;
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

/** The flat `facts` object of schema v1, written from the typed fields. */
export type LayerFacts = Record<string, string | number | boolean>;

/** Only the defined values, in order. */
function defined(entries: Array<[string, string | number | boolean | undefined]>): LayerFacts {
  const out: LayerFacts = {};
  for (const [k, v] of entries) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * The JSON report's `facts` of a layer (schema v1, README "JSON schema"): the same keys and values the report has
 * always had. Undefined for a layer with none (the host).
 */
export function layerFacts(l: Layer): LayerFacts | undefined {
  switch (l.kind) {
    case 'host':
      return undefined;
    case 'docker-daemon':
      return defined([
        ['reachable', l.reachable],
        ['required', l.required],
        ['endpoint', l.endpoint?.host],
        ['source', l.endpoint?.source],
        ['version', l.version?.version],
        ['apiVersion', l.version?.apiVersion],
        ['os', l.version?.os],
        ['kernel', l.version?.kernel],
        ['probeImage', l.probeImage],
        ['swarm', l.swarm?.state],
        ['swarmNodes', l.swarm?.nodes],
        ['swarmNodeAddr', l.swarm?.nodeAddr],
        ['probeImageMissing', l.probeImageMissing],
        ['probedFrom', l.view?.from],
        ['probeMs', l.view?.ms],
      ]);
    case 'docker-network':
      if (l.purpose === 'verify') {
        return defined([
          ['network', l.network],
          ['driver', l.driver],
          ['mtuOption', l.mtuOption],
          ['isDefault', l.isDefault],
          ['purpose', l.purpose],
        ]);
      }
      return defined([
        ['network', l.network],
        ['driver', l.driver],
        ['isDefault', l.isDefault],
        ['purpose', l.purpose],
        ['internal', l.internal || undefined],
        ['bridge', l.bridge],
        ['mtuOption', l.mtuOption],
        ['origin', l.origin],
        ['composeProject', l.composeProject],
        ['subnets', l.subnets.length ? l.subnets.join(', ') : undefined],
        ['scope', l.scope],
        ['attachable', l.overlay?.attachable],
        ['ingress', l.overlay?.ingress],
        ['encrypted', l.overlay?.encrypted || undefined],
        ['gwbridge', l.gwbridge || undefined],
        ['parent', l.parentIface?.name],
        ['mode', l.mode],
        ['parentMtu', l.parentIface?.mtu],
        ['parentKind', l.parentIface?.kind],
        ['parentTunnelOverhead', l.parentIface?.tunnelOverhead],
        ['containerMtu', l.containerMtu],
      ]);
    case 'container':
    case 'build-step':
      return defined([
        ['variant', l.variant],
        ['network', l.network],
        ['image', l.image],
        ['ms', l.ms],
        ['node', l.node],
        ['exitCode', l.exitCode],
        ['overlay', l.overlay?.network],
        ['overlayIface', l.overlay?.iface],
        ['overlayMtu', l.overlay?.mtu],
        ['egressIface', l.egressIface],
      ]);
  }
}

/** A layer as the JSON report (schema v1) writes it. */
export interface LayerJson {
  id: string;
  kind: LayerKind;
  name: string;
  parent?: string;
  mtu?: number;
  interfaces: NetInterface[];
  uplinks: Uplink[];
  probes: ProbeResult[];
  notes: string[];
  facts?: LayerFacts;
}

/** The fields every layer has, written in the order the layer holds them (the report's order since v1). */
const BASE_KEYS: ReadonlySet<string> = new Set(['id', 'kind', 'name', 'parent', 'mtu', 'interfaces', 'uplinks', 'probes', 'notes']);

export function toLayerJson(l: Layer): LayerJson {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(l)) if (BASE_KEYS.has(k) && v !== undefined) out[k] = v;
  const facts = layerFacts(l);
  if (facts && Object.keys(facts).length) out.facts = facts;
  return out as unknown as LayerJson;
}

const ORIGINS = ['compose', 'github-actions', 'mtu-preflight'] as const;
const str = (f: LayerFacts, k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
const num = (f: LayerFacts, k: string) => (typeof f[k] === 'number' ? (f[k] as number) : undefined);
const bool = (f: LayerFacts, k: string) => f[k] === true;
/** The object of the defined values only (a layer read back has no `undefined` fields the written one lacked). */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };
const only = <T extends object>(o: T): Defined<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;

/**
 * A layer of a JSON report (schema v1) read back into its typed form: the inverse of toLayerJson, for tools and tests
 * that start from a written report. Unknown kinds are not guessed at: the caller gets undefined.
 */
export function fromLayerJson(j: LayerJson): Layer | undefined {
  const f = j.facts ?? {};
  // The common fields in the order the JSON has them, so that writing the layer again gives the same text.
  const base = Object.fromEntries(Object.entries(j).filter(([k]) => BASE_KEYS.has(k))) as Omit<LayerJson, 'facts'>;
  switch (j.kind) {
    case 'host':
      return { ...base, kind: 'host' };
    case 'docker-daemon': {
      const host = str(f, 'endpoint');
      const version = str(f, 'version');
      const major = version !== undefined ? Number.parseInt(version, 10) : Number.NaN;
      const swarm = str(f, 'swarm');
      const probedFrom = str(f, 'probedFrom');
      return only({
        ...base,
        kind: 'docker-daemon' as const,
        reachable: f.reachable !== false,
        required: bool(f, 'required'),
        endpoint: host !== undefined ? { host, source: str(f, 'source') ?? '' } : undefined,
        version:
          version !== undefined
            ? only({ version, apiVersion: str(f, 'apiVersion') ?? '', os: str(f, 'os'), kernel: str(f, 'kernel'), major: Number.isFinite(major) ? major : undefined })
            : undefined,
        swarm: swarm !== undefined ? only({ state: swarm, nodes: num(f, 'swarmNodes'), nodeAddr: str(f, 'swarmNodeAddr') }) : undefined,
        probeImage: str(f, 'probeImage'),
        probeImageMissing: str(f, 'probeImageMissing'),
        view: probedFrom === 'host-network container' ? { from: 'host-network container' as const, ms: num(f, 'probeMs') ?? 0 } : undefined,
      });
    }
    case 'docker-network': {
      const driver = str(f, 'driver') ?? 'bridge';
      const parent = str(f, 'parent');
      const subnets = str(f, 'subnets');
      const origin = ORIGINS.find((o) => o === f.origin);
      return only({
        ...base,
        kind: 'docker-network' as const,
        network: str(f, 'network') ?? j.name,
        driver,
        purpose: f.purpose === 'verify' ? ('verify' as const) : ('existing' as const),
        isDefault: bool(f, 'isDefault'),
        internal: bool(f, 'internal'),
        bridge: str(f, 'bridge'),
        mtuOption: num(f, 'mtuOption'),
        containerMtu: num(f, 'containerMtu'),
        origin,
        composeProject: str(f, 'composeProject'),
        subnets: subnets ? subnets.split(', ') : [],
        scope: str(f, 'scope'),
        overlay: driver === 'overlay' ? { attachable: bool(f, 'attachable'), ingress: bool(f, 'ingress'), encrypted: bool(f, 'encrypted') } : undefined,
        gwbridge: bool(f, 'gwbridge'),
        parentIface:
          parent !== undefined
            ? only({ name: parent, mtu: num(f, 'parentMtu'), kind: str(f, 'parentKind') as InterfaceKind | undefined, tunnelOverhead: num(f, 'parentTunnelOverhead') })
            : undefined,
        mode: str(f, 'mode'),
      });
    }
    case 'container':
    case 'build-step': {
      const overlay = str(f, 'overlay');
      return only({
        ...base,
        kind: j.kind,
        variant: (str(f, 'variant') ?? 'bridge') as ContainerVariant,
        network: str(f, 'network') ?? '',
        image: str(f, 'image') ?? '',
        ms: num(f, 'ms') ?? 0,
        node: str(f, 'node'),
        exitCode: num(f, 'exitCode'),
        egressIface: str(f, 'egressIface'),
        overlay: overlay !== undefined ? only({ network: overlay, iface: str(f, 'overlayIface') ?? 'eth0', mtu: num(f, 'overlayMtu') }) : undefined,
      });
    }
    default:
      return undefined;
  }
}
