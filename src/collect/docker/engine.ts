/**
 * Which engine answers the Docker API, and whether it runs rootless: pure readers of GET /version, GET /info and
 * Podman's own GET /libpod/networks/json, table-tested on captured answers (test/fixtures/podman-4.3-lab).
 *
 * - Podman's compat /version lists a component named "Podman Engine" with Podman's version (4.3.1); dockerd's is
 *   "Engine" (podman pkg/api/handlers/compat/version.go, v4.3.1 and main).
 * - GET /info: a rootless dockerd lists "name=rootless" in SecurityOptions (moby daemon/info.go); Podman's compat
 *   /info adds its own `Rootless: true` (pkg/api/handlers/compat/info.go, v4.3.1).
 * - Podman stores a network's MTU as the option `mtu` (netavark and CNI alike; common libnetwork/types const.go
 *   MTUOption = "mtu"); its compat API maps com.docker.network.driver.mtu onto it on create (compat/networks.go) and
 *   lists the default network `podman` as `bridge`, without the Linux bridge's name: the libpod API has that
 *   (network_interface: podman0, podman1, ...).
 */
import type { EngineIdentity } from '../../model/layers.js';

/** The engine named by GET /version's Components (undefined: not said). */
export function parseEngine(json: unknown): EngineIdentity | undefined {
  type Component = { Name?: unknown; Version?: unknown };
  const v = (json ?? {}) as { Components?: Component[] | null; Server?: { Components?: Component[] | null } };
  const components = v.Components ?? v.Server?.Components ?? [];
  if (!Array.isArray(components)) return undefined;
  for (const c of components) {
    if (typeof c?.Name !== 'string') continue;
    const version = typeof c.Version === 'string' ? c.Version : '';
    if (/^podman engine$/i.test(c.Name)) return { name: 'podman', version };
    if (c.Name === 'Engine') return { name: 'docker', version };
  }
  return undefined;
}

/** GET /info: whether the engine runs rootless (dockerd: SecurityOptions "name=rootless"; Podman: Rootless). */
export function parseRootless(json: unknown): boolean {
  const info = (json ?? {}) as { SecurityOptions?: unknown; Rootless?: unknown };
  if (info.Rootless === true) return true;
  const opts = info.SecurityOptions;
  return Array.isArray(opts) && opts.some((o) => typeof o === 'string' && /(^|,)name=rootless(,|$)/.test(o));
}

/** A network as Podman's own API describes it: its Linux bridge and its `mtu` option. */
export interface PodmanNetwork {
  name: string;
  iface?: string;
  mtu?: number;
}

/** GET /libpod/networks/json (Podman 4+): name, network_interface, options.mtu. */
export function parseLibpodNetworks(json: unknown): PodmanNetwork[] {
  if (!Array.isArray(json)) return [];
  const out: PodmanNetwork[] = [];
  for (const n of json as Array<{ name?: unknown; network_interface?: unknown; options?: Record<string, unknown> }>) {
    if (typeof n?.name !== 'string') continue;
    const mtu = Number.parseInt(String(n.options?.mtu ?? ''), 10);
    out.push({
      name: n.name,
      ...(typeof n.network_interface === 'string' && n.network_interface ? { iface: n.network_interface } : {}),
      ...(Number.isFinite(mtu) && mtu > 0 ? { mtu } : {}),
    });
  }
  return out;
}
