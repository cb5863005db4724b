/**
 * The docker daemon as the Engine API describes it: version and networks with their MTU options.
 * inspectDaemon() makes the calls; parseVersion() and parseNetworkInspect() are pure and table-tested against
 * captured `GET /version` and `GET /networks` (= `docker network inspect`) output.
 *
 * Before Docker 25 docker0 reports MTU 1500 while no container is attached (moby#36659), so the interface is not
 * trusted: the network's com.docker.network.driver.mtu option is, and so is what a container sees on its eth0.
 * The option does not mean the same for every driver (measured on 20.10 in the lab, see test/fixtures/nested-dockerd-*):
 * bridge takes it as the containers' MTU; overlay as the underlay's, subtracting VXLAN's 50 bytes itself (option 1450:
 * containers 1400); macvlan and ipvlan ignore it (moby/libnetwork#2274): their containers get the parent's MTU.
 */
import type { DockerClient } from './api.js';
import type { DesktopEngine, EngineIdentity } from '../../model/layers.js';
import { detectDesktop } from './desktop.js';
import { GWBRIDGE, MTU_OPTION, overlayMtu, PARENT_DRIVERS, PODMAN_MTU_OPTION } from '../../model/net.js';
import { parseEngine, parseLibpodNetworks, parseRootless, type PodmanNetwork } from './engine.js';

export interface DockerVersion {
  version: string;
  apiVersion: string;
  os?: string;
  arch?: string;
  kernel?: string;
  /** Major version (25 for 25.0.3), for the docker0-reads-1500-while-idle caveat. */
  major?: number;
  /** Which engine, from the Components, when it is not dockerd (Podman's version is its own). */
  engine?: EngineIdentity;
}

/** `GET /version`, or `docker version --format '{{json .}}'` (the same object under `Server`). */
export function parseVersion(json: unknown): DockerVersion {
  type Raw = {
    Version?: string;
    ApiVersion?: string;
    Os?: string;
    Arch?: string;
    KernelVersion?: string;
    Server?: Raw | null;
  };
  const outer = (json ?? {}) as Raw;
  const v = outer.Server && typeof outer.Server === 'object' ? outer.Server : outer;
  const version = String(v.Version ?? 'unknown');
  const major = Number.parseInt(version, 10);
  return {
    version,
    apiVersion: String(v.ApiVersion ?? 'unknown'),
    ...(v.Os ? { os: v.Os } : {}),
    ...(v.Arch ? { arch: v.Arch } : {}),
    ...(v.KernelVersion ? { kernel: v.KernelVersion } : {}),
    ...(Number.isFinite(major) ? { major } : {}),
    // Recorded for engines other than dockerd only: a dockerd's version object stays what it always was.
    ...(parseEngine(json)?.name === 'podman' ? { engine: parseEngine(json)! } : {}),
  };
}

export interface DockerNetwork {
  id: string;
  name: string;
  driver: string;
  scope?: string;
  /** The MTU option (com.docker.network.driver.mtu); undefined means the driver default. */
  mtuOption?: number;
  /**
   * The MTU containers on it get, when the inspect output alone says: bridge: the option, else 1500; overlay: the
   * option (else 1500) minus VXLAN's 50 bytes; macvlan/ipvlan: undefined (the parent interface's MTU: Docker
   * ignores the option for them).
   */
  mtu?: number;
  /** Linux bridge behind it: docker0 for the default bridge, br-<id12> for user-defined bridges. */
  bridge?: string;
  /** The daemon's default bridge (`docker run` without --network, classic `docker build` RUN steps). */
  isDefault: boolean;
  internal: boolean;
  subnets: string[];
  containers: number;
  labels: Record<string, string>;
  /** Who made it, when its name or labels say: compose project, GitHub Actions job network, this tool. */
  origin?: 'compose' | 'github-actions' | 'mtu-preflight';
  /** Swarm overlays: `docker run --network` may join it (`--attachable`). */
  attachable?: boolean;
  /** The swarm routing mesh (`ingress`). */
  ingress?: boolean;
  /** An overlay created with `--opt encrypted` (IPsec ESP inside the VXLAN). */
  encrypted?: boolean;
  /** macvlan/ipvlan: the parent interface (`-o parent=`), in the daemon's namespace. */
  parent?: string;
  /** macvlan_mode / ipvlan_mode as given (unset: macvlan bridge, ipvlan l2). */
  mode?: string;
  /** docker_gwbridge: the bridge containers on overlay networks reach everything outside the swarm through. */
  gwbridge?: boolean;
}

interface RawNetwork {
  Id?: string;
  Name?: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null };
  Containers?: Record<string, unknown> | null;
}

/**
 * One entry of `GET /networks` or `docker network inspect`. Returns undefined for host/none (no own interface).
 * `podman`: the engine is Podman, which stores the MTU as the option `mtu` (and names no bridge in this answer).
 */
export function parseNetworkInspect(json: unknown, podman = false): DockerNetwork | undefined {
  const n = (json ?? {}) as RawNetwork;
  const driver = String(n.Driver ?? '');
  if (!n.Name || driver === 'host' || driver === 'null' || driver === '') return undefined;
  const options = n.Options ?? {};
  const labels = n.Labels ?? {};
  const raw = options[MTU_OPTION] ?? (podman ? options[PODMAN_MTU_OPTION] : undefined);
  const parsed = raw !== undefined ? Number.parseInt(raw, 10) : Number.NaN;
  const mtuOption = Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
  const isDefault =
    options['com.docker.network.bridge.default_bridge'] === 'true' || (n.Name === 'bridge' && driver === 'bridge');
  const id = String(n.Id ?? '');
  const bridge =
    driver === 'bridge' && !podman
      ? (options['com.docker.network.bridge.name'] ??
        (isDefault ? 'docker0' : id ? `br-${id.slice(0, 12)}` : undefined))
      : undefined;
  const origin = labels['io.mtu-preflight']
    ? 'mtu-preflight'
    : labels['com.docker.compose.project'] || labels['com.docker.compose.network']
      ? 'compose'
      : /^github_network_/.test(n.Name)
        ? 'github-actions'
        : undefined;
  const overlay = driver === 'overlay';
  const encrypted = overlay && 'encrypted' in options;
  const mtu = overlay
    ? overlayMtu(mtuOption, encrypted)
    : PARENT_DRIVERS.has(driver)
      ? undefined
      : (mtuOption ?? (driver === 'bridge' ? 1500 : undefined));
  const parent = PARENT_DRIVERS.has(driver) ? options.parent : undefined;
  const mode = driver === 'macvlan' ? options.macvlan_mode : driver === 'ipvlan' ? options.ipvlan_mode : undefined;
  return {
    id,
    name: n.Name,
    driver,
    ...(n.Scope ? { scope: n.Scope } : {}),
    ...(mtuOption !== undefined ? { mtuOption } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(bridge ? { bridge } : {}),
    isDefault,
    internal: n.Internal === true,
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s),
    containers: Object.keys(n.Containers ?? {}).length,
    labels,
    ...(origin ? { origin } : {}),
    ...(overlay ? { attachable: n.Attachable === true, ingress: n.Ingress === true } : {}),
    ...(encrypted ? { encrypted } : {}),
    ...(parent ? { parent } : {}),
    ...(mode ? { mode } : {}),
    ...(driver === 'bridge' && (n.Name === GWBRIDGE || bridge === GWBRIDGE) ? { gwbridge: true } : {}),
  };
}

/** `GET /networks` (an array), default bridge first, then by name. */
export function parseNetworkList(json: unknown, podman = false): DockerNetwork[] {
  const list = Array.isArray(json) ? json : [];
  return list
    .map((n) => parseNetworkInspect(n, podman))
    .filter((n): n is DockerNetwork => !!n)
    .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
}

/** The node's swarm membership (`GET /info` .Swarm): what the overlay findings say about cross-node traffic. */
export interface SwarmInfo {
  /** inactive, pending, active, error, locked. */
  state: string;
  /** The address the node advertises (its VXLAN endpoint). */
  nodeAddr?: string;
  /** Nodes in the swarm (known on managers only). */
  nodes?: number;
}

/** `GET /info` (or `docker info --format '{{json .}}'`): only the swarm part. */
export function parseSwarmInfo(json: unknown): SwarmInfo | undefined {
  const s = ((json ?? {}) as { Swarm?: { LocalNodeState?: string; NodeAddr?: string; Nodes?: number } | null }).Swarm;
  if (!s || typeof s.LocalNodeState !== 'string') return undefined;
  return {
    state: s.LocalNodeState,
    ...(s.NodeAddr ? { nodeAddr: s.NodeAddr } : {}),
    ...(typeof s.Nodes === 'number' && s.Nodes > 0 ? { nodes: s.Nodes } : {}),
  };
}

export interface DaemonInspection {
  version: DockerVersion;
  networks: DockerNetwork[];
  /** Absent when GET /info failed (the rest of the inspection stands). */
  swarm?: SwarmInfo;
  /** GET /info says the engine runs rootless. */
  rootless?: boolean;
  /** The engine runs in Docker Desktop's, colima's or a podman machine's VM (desktop.ts). */
  desktop?: DesktopEngine;
  /** What an API call the engine lacks (or failed) left unseen, for the daemon layer's notes. */
  notes?: string[];
}

/**
 * Podman's own view of its networks (GET /libpod/networks/json on the same socket): the Linux bridge of each and the
 * MTU as stored. The compat answer calls the default network `bridge`; Podman's calls it by its name (`podman`).
 */
function applyLibpodNetworks(networks: DockerNetwork[], libpod: PodmanNetwork[]): void {
  const byName = new Map(libpod.map((n) => [n.name, n]));
  const defaultOwn = libpod.find((n) => !networks.some((d) => d.name === n.name && !d.isDefault));
  for (const n of networks) {
    const own = byName.get(n.name) ?? (n.isDefault ? defaultOwn : undefined);
    if (!own) continue;
    if (own.iface && n.driver === 'bridge') n.bridge = own.iface;
    if (n.mtuOption === undefined && own.mtu !== undefined) {
      n.mtuOption = own.mtu;
      n.mtu = own.mtu;
    }
  }
}

/**
 * GET /version, GET /networks and GET /info, in parallel, by the deadline. Throws DockerApiError (unreachable,
 * deadline) for the first two; /info only adds the swarm state.
 */
export async function inspectDaemon(api: DockerClient, deadline: number): Promise<DaemonInspection> {
  const notes: string[] = [];
  const [version, networks, info] = await Promise.all([
    api.call('GET', '/version', { deadline }),
    api.call('GET', '/networks', { deadline }),
    api.call('GET', '/info', { deadline }).catch((err: Error) => {
      notes.push(`GET /info failed (${err.message}): swarm and rootless state not known`);
      return undefined;
    }),
  ]);
  const v = parseVersion(version);
  const podman = v.engine?.name === 'podman';
  const nets = parseNetworkList(networks, podman);
  if (podman) {
    // Podman 4+ answers its own API on the same socket; an older one (or a proxy) may not: the compat answer stands.
    const own = await api
      .call('GET', '/v4.0.0/libpod/networks/json', { deadline })
      .then(parseLibpodNetworks, (err: Error) => {
        notes.push(`GET /libpod/networks/json failed (${err.message}): the networks' bridges are not named`);
        return [];
      });
    applyLibpodNetworks(nets, own);
  }
  const swarm = parseSwarmInfo(info);
  const desktop = detectDesktop(info, api.endpoint);
  return {
    version: v,
    networks: nets,
    ...(swarm ? { swarm } : {}),
    ...(info !== undefined && parseRootless(info) ? { rootless: true } : {}),
    ...(desktop ? { desktop } : {}),
    ...(notes.length ? { notes } : {}),
  };
}

/** GET /networks/<name>: one network, or undefined when there is none by that name (or the call fails). */
export async function inspectNetwork(
  api: DockerClient,
  name: string,
  deadline: number,
): Promise<DockerNetwork | undefined> {
  return api.call('GET', `/networks/${encodeURIComponent(name)}`, { deadline }).then(
    (n) => parseNetworkInspect(n),
    () => undefined,
  );
}
