/**
 * The docker daemon as the Engine API describes it: version and networks with their MTU options.
 * inspectDaemon() makes the calls; parseVersion() and parseNetworkInspect() are pure and table-tested against
 * captured `GET /version` and `GET /networks` (= `docker network inspect`) output.
 *
 * Before Docker 25 docker0 reports MTU 1500 while no container is attached (moby#36659), so the interface is not
 * trusted: the network's com.docker.network.driver.mtu option is, and so is what a container sees on its eth0.
 */
import type { DockerClient } from './docker-api.js';

export const MTU_OPTION = 'com.docker.network.driver.mtu';

export interface DockerVersion {
  version: string;
  apiVersion: string;
  os?: string;
  arch?: string;
  kernel?: string;
  /** Major version (25 for 25.0.3), for the docker0-reads-1500-while-idle caveat. */
  major?: number;
}

/** `GET /version`, or `docker version --format '{{json .}}'` (the same object under `Server`). */
export function parseVersion(json: unknown): DockerVersion {
  type Raw = { Version?: string; ApiVersion?: string; Os?: string; Arch?: string; KernelVersion?: string; Server?: Raw | null };
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
  };
}

export interface DockerNetwork {
  id: string;
  name: string;
  driver: string;
  scope?: string;
  /** The MTU option (com.docker.network.driver.mtu); undefined means the driver default. */
  mtuOption?: number;
  /** The MTU containers on it get: the option, else the driver default (bridge 1500, overlay 1450). */
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
}

interface RawNetwork {
  Id?: string;
  Name?: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null };
  Containers?: Record<string, unknown> | null;
}

/** Drivers whose default MTU is known when no option is set (overlay: 1500 - 50 bytes of VXLAN). */
const DRIVER_DEFAULT_MTU: Record<string, number> = { bridge: 1500, overlay: 1450 };

/** One entry of `GET /networks` or `docker network inspect`. Returns undefined for host/none (no own interface). */
export function parseNetworkInspect(json: unknown): DockerNetwork | undefined {
  const n = (json ?? {}) as RawNetwork;
  const driver = String(n.Driver ?? '');
  if (!n.Name || driver === 'host' || driver === 'null' || driver === '') return undefined;
  const options = n.Options ?? {};
  const labels = n.Labels ?? {};
  const raw = options[MTU_OPTION];
  const parsed = raw !== undefined ? Number.parseInt(raw, 10) : Number.NaN;
  const mtuOption = Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
  const isDefault = options['com.docker.network.bridge.default_bridge'] === 'true' || (n.Name === 'bridge' && driver === 'bridge');
  const id = String(n.Id ?? '');
  const bridge = driver === 'bridge' ? (options['com.docker.network.bridge.name'] ?? (isDefault ? 'docker0' : id ? `br-${id.slice(0, 12)}` : undefined)) : undefined;
  const origin = labels['io.mtu-preflight']
    ? 'mtu-preflight'
    : labels['com.docker.compose.project'] || labels['com.docker.compose.network']
      ? 'compose'
      : /^github_network_/.test(n.Name)
        ? 'github-actions'
        : undefined;
  const mtu = mtuOption ?? DRIVER_DEFAULT_MTU[driver];
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
  };
}

/** `GET /networks` (an array), default bridge first, then by name. */
export function parseNetworkList(json: unknown): DockerNetwork[] {
  const list = Array.isArray(json) ? json : [];
  return list
    .map(parseNetworkInspect)
    .filter((n): n is DockerNetwork => !!n)
    .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
}

export interface DaemonInspection {
  version: DockerVersion;
  networks: DockerNetwork[];
}

/** GET /version and GET /networks, in parallel, by the deadline. Throws DockerApiError (unreachable, deadline). */
export async function inspectDaemon(api: DockerClient, deadline: number): Promise<DaemonInspection> {
  const [version, networks] = await Promise.all([api.call('GET', '/version', { deadline }), api.call('GET', '/networks', { deadline })]);
  return { version: parseVersion(version), networks: parseNetworkList(networks) };
}
