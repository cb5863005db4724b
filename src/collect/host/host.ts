/**
 * The layer the tool runs in: this network namespace (the runner, or the job container).
 * Collectors record why they could not see something instead of throwing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Exec } from '../../util/exec.js';
import type { Layer, NetInterface, ProbeResult, Route } from '../../model/report.js';
import { parseSysClassNet, readSysClassNet } from './interfaces.js';
import { readDarwinInterfaces, routeGetDarwin } from './darwin.js';
import { readWindowsInterfaces, routeGetWindows } from './windows.js';
import {
  ipRouteGet,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  readRouteExceptions,
  resolveUplink,
  type RouteException,
  type RouteGet,
} from './routes.js';

export interface HostDeps {
  /** Root of the file system to read /sys and /proc from ('/' live; a fixture folder in tests). */
  root: string;
  exec: Exec;
  platform: NodeJS.Platform;
}

export interface HostScan {
  layer: Layer;
  routes: Route[];
  /**
   * The route exceptions (learned path MTUs) before any probe ran: a probe's own packets can teach the kernel one
   * (Node 24's ~1.6 KB ClientHello, where ICMP reaches us), and the report must tell that apart from one left earlier.
   */
  exceptionsBefore?: RouteException[];
  /** macOS and Windows: the route to one address, by the OS's own command (Linux reads its tables, then `ip`). */
  routeTo?: (address: string) => Promise<{ get?: RouteGet; note?: string }>;
  /** Windows: the IPv6 MTU of each interface by name, where it differs from the IPv4 one netsh shows first. */
  ipv6Mtu?: Map<string, number>;
}

export const HOST_LAYER_ID = 'host';

export async function collectHost(deps: HostDeps): Promise<HostScan> {
  const layer: Layer = {
    id: HOST_LAYER_ID,
    kind: 'host',
    name: 'runner (this network namespace)',
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [],
  };
  let routes: Route[] = [];
  if (deps.platform === 'darwin' || deps.platform === 'win32') return collectOtherHost(layer, deps);
  if (deps.platform !== 'linux') {
    layer.notes.push(
      `interface audit skipped: ${deps.platform} is not Linux (no /sys/class/net); the probes still ran`,
    );
    return { layer, routes };
  }
  try {
    layer.interfaces = parseSysClassNet(await readSysClassNet(deps.root));
    // Every namespace has at least lo: an empty /sys/class/net is a sandbox's stand-in, not this namespace's view.
    if (layer.interfaces.length === 0)
      layer.notes.push(
        '/sys/class/net lists no interfaces (a sandbox without sysfs?): interfaces and uplink MTUs unknown',
      );
  } catch (err) {
    layer.notes.push(
      `could not read /sys/class/net (${(err as NodeJS.ErrnoException).code ?? 'error'}): interfaces and uplink MTUs unknown`,
    );
  }
  const [v4, v6] = await Promise.all(
    ['proc/net/route', 'proc/net/ipv6_route'].map((p) =>
      readFile(path.join(deps.root, p), 'utf8').catch(() => undefined),
    ),
  );
  if (v4 !== undefined) routes = routes.concat(parseProcNetRoute(v4));
  else layer.notes.push('could not read /proc/net/route: IPv4 uplinks unknown');
  if (v6 !== undefined) routes = routes.concat(parseProcNetIpv6Route(v6));
  const exceptionsBefore = deps.root === '/' ? await readRouteExceptions(deps.exec) : undefined;
  return { layer, routes, ...(exceptionsBefore ? { exceptionsBefore } : {}) };
}

/**
 * After probing: the uplink each probe's connection left by (route per target address), on the layer. Returns what
 * it has to note (the caller puts it in order with the other notes).
 */
export async function addUplinks(scan: HostScan, probes: readonly ProbeResult[], deps: HostDeps): Promise<string[]> {
  const { layer, routes } = scan;
  if (layer.interfaces.length === 0) return [];
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const p of probes) {
    const address = p.address;
    if (!address || seen.has(address)) continue;
    seen.add(address);
    if (scan.routeTo) {
      const up = await otherHostUplink(scan, p.viaProxy ?? p.host, address);
      if (up.uplink) layer.uplinks.push(up.uplink);
      if (up.note) notes.push(up.note);
      continue;
    }
    const get = deps.root === '/' ? await ipRouteGet(deps.exec, address) : undefined;
    const up = resolveUplink(p.viaProxy ?? p.host, address, routes, layer.interfaces, get, scan.exceptionsBefore);
    if (up) layer.uplinks.push(up);
  }
  const mtus = layer.uplinks.map((u) => u.effectiveMtu);
  if (mtus.length) layer.mtu = Math.min(...mtus);
  else if (scan.routeTo) return notes;
  else {
    // No probe connected: fall back to the default route's interface so the audit still says something.
    const iface = defaultRouteInterface(scan);
    if (iface) {
      layer.mtu = iface.mtu;
      return [
        ...notes,
        `no probe connected, so the uplink is taken from the default route: ${iface.name} (MTU ${iface.mtu})`,
      ];
    }
  }
  return notes;
}

/** The interface of the default route with the lowest metric: the uplink when no target address is known. */
export function defaultRouteInterface(scan: HostScan): NetInterface | undefined {
  const def = scan.routes.filter((r) => r.prefixLength === 0).sort((a, b) => a.metric - b.metric)[0];
  return def && scan.layer.interfaces.find((i) => i.name === def.iface);
}

/** What the host layer sees on macOS and Windows, and what it cannot (the engine's VM), said on the layer. */
const OTHER_HOST = {
  darwin: {
    os: 'macOS',
    seen: 'interfaces and MTUs from ifconfig -a, the route to each target from route -n get',
  },
  win32: {
    os: 'Windows',
    seen: 'interface MTUs from netsh interface ipv4/ipv6 show subinterfaces, the route to each target from PowerShell Find-NetRoute',
  },
} as const;

async function collectOtherHost(layer: Layer, deps: HostDeps): Promise<HostScan> {
  const platform = deps.platform as 'darwin' | 'win32';
  const { os, seen } = OTHER_HOST[platform];
  layer.notes.push(
    `${os} host: ${seen}. Not visible from here: the Linux VM a desktop engine (Docker Desktop, colima, podman machine) runs containers in, with its docker0 and eth0; the Docker API and the probe containers show those. No route exceptions are listed on ${os}.`,
  );
  if (layer.kind === 'host') layer.platform = platform;
  if (platform === 'darwin') {
    const r = await readDarwinInterfaces(deps.exec);
    layer.interfaces = r.interfaces;
    if (r.note) layer.notes.push(r.note);
    return { layer, routes: [], routeTo: (a) => routeGetDarwin(deps.exec, a) };
  }
  const r = await readWindowsInterfaces(deps.exec);
  layer.interfaces = r.interfaces;
  if (r.note) layer.notes.push(r.note);
  return { layer, routes: [], ipv6Mtu: r.ipv6Mtu, routeTo: (a) => routeGetWindows(deps.exec, a) };
}

/** One target's uplink on macOS or Windows: the OS's route to it, on the interface list read before. */
async function otherHostUplink(
  scan: HostScan,
  target: string,
  address: string,
): Promise<{ uplink?: ReturnType<typeof resolveUplink>; note?: string }> {
  const { get, note } = await scan.routeTo!(address);
  if (!get) return { ...(note ? { note } : {}) };
  const v6 = address.includes(':');
  // The IPv6 MTU can differ from the IPv4 one (netsh lists them apart): an IPv6 target leaves with the former.
  const interfaces =
    v6 && scan.ipv6Mtu?.size
      ? scan.layer.interfaces.map((i) => ({ ...i, mtu: scan.ipv6Mtu!.get(i.name) ?? i.mtu }))
      : scan.layer.interfaces;
  const iface = interfaces.find((i) => i.name === get.iface);
  // macOS prints the route's mtu always: only one below the interface's says anything.
  const routed =
    iface && get.routeMtu !== undefined && get.routeMtu >= iface.mtu ? { ...get, routeMtu: undefined } : get;
  if (routed.routeMtu === undefined) delete routed.routeMtu;
  const uplink = resolveUplink(target, address, [], interfaces, routed);
  if (!uplink)
    return { note: `the route to ${address} leaves by ${get.iface}, which the interface list does not show` };
  return { uplink };
}
