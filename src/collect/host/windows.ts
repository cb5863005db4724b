/**
 * A Windows host: IPv4 and IPv6 MTUs per interface from `netsh interface ipv4|ipv6 show subinterfaces`, the route to
 * each target from PowerShell's `Find-NetRoute -RemoteIPAddress` (NetTCPIP module), whose InterfaceAlias is the name
 * netsh prints. The parsers are pure and tested on captured output (test/fixtures/windows-*).
 *
 * What Windows cannot show: Docker Desktop runs the engine in a WSL 2 (or Hyper-V) Linux VM; its docker0 and eth0
 * are not the host's. The Docker API and the probe containers are how those are seen.
 */
import net from 'node:net';
import type { Exec } from '../../util/exec.js';
import type { InterfaceKind, NetInterface } from '../../model/report.js';
import type { RouteGet } from './routes.js';

/** One row of `netsh interface ipv4 show subinterfaces`. */
export interface Subinterface {
  name: string;
  mtu: number;
  /** 1: connected; 5: disconnected (as the command prints for an unplugged adapter). */
  mediaSenseState: number;
}

/**
 * `netsh interface ipv4 show subinterfaces`: a header `MTU  MediaSenseState  Bytes In  Bytes Out  Interface`, a row
 * of dashes, then one row per interface whose name (the last column) may contain spaces.
 */
export function parseNetshSubinterfaces(text: string): Subinterface[] {
  const out: Subinterface[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S.*?)\s*$/.exec(line);
    if (!m) continue;
    out.push({ name: m[5]!, mtu: Number(m[1]), mediaSenseState: Number(m[2]) });
  }
  return out;
}

function classifyWindows(name: string): InterfaceKind {
  if (/^Loopback Pseudo-Interface/i.test(name)) return 'loopback';
  // Hyper-V's host vNICs (vEthernet (WSL), vEthernet (Default Switch)) face the VMs: not the machine's own link.
  if (/^vEthernet/i.test(name)) return 'other';
  if (/tailscale|wireguard|openvpn|vpn|tap-windows|wintun/i.test(name)) return 'tun';
  if (/^(Ethernet|Wi-?Fi|WLAN)\b/i.test(name)) return 'physical';
  return 'other';
}

/** netsh rows as interfaces: 1 is connected (the loopback too), anything else is down. */
export function subinterfacesToInterfaces(rows: readonly Subinterface[]): NetInterface[] {
  return rows.map((r) => ({
    name: r.name,
    mtu: r.mtu,
    state: r.mediaSenseState === 1 ? 'up' : 'down',
    kind: classifyWindows(r.name),
  }));
}

/**
 * `Find-NetRoute -RemoteIPAddress A | Select-Object InterfaceAlias,NextHop,DestinationPrefix | ConvertTo-Json`: an
 * array of two objects, the local address chosen (no DestinationPrefix) and the route (DestinationPrefix, NextHop).
 * NextHop 0.0.0.0 or :: means on-link.
 */
export function parseFindNetRoute(json: string): RouteGet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.replace(/^\uFEFF/, ''));
  } catch {
    return {};
  }
  type Row = { InterfaceAlias?: unknown; NextHop?: unknown; DestinationPrefix?: unknown };
  const rows = (Array.isArray(parsed) ? parsed : [parsed]).filter((r): r is Row => !!r && typeof r === 'object');
  const route = rows.find((r) => typeof r.DestinationPrefix === 'string') ?? rows[0];
  const out: RouteGet = {};
  if (typeof route?.InterfaceAlias === 'string') out.iface = route.InterfaceAlias;
  if (typeof route?.NextHop === 'string' && !/^(0\.0\.0\.0|::)$/.test(route.NextHop)) out.gateway = route.NextHop;
  return out;
}

const NETSH_TIMEOUT_MS = 3000;
// PowerShell's start-up alone can take a second or two on a cold machine.
const POWERSHELL_TIMEOUT_MS = 8000;

/** IPv4 interfaces (IPv6 MTUs beside them, by name), or why they are unknown. */
export async function readWindowsInterfaces(
  exec: Exec,
): Promise<{ interfaces: NetInterface[]; ipv6Mtu: Map<string, number>; note?: string }> {
  const [v4, v6] = await Promise.all(
    ['ipv4', 'ipv6'].map((f) =>
      exec('netsh', ['interface', f, 'show', 'subinterfaces'], { timeoutMs: NETSH_TIMEOUT_MS }),
    ),
  );
  const ipv6Mtu = new Map<string, number>();
  if (!v6!.error && v6!.code === 0) for (const r of parseNetshSubinterfaces(v6!.stdout)) ipv6Mtu.set(r.name, r.mtu);
  if (v4!.error || v4!.code !== 0)
    return {
      interfaces: [],
      ipv6Mtu,
      note: `netsh interface ipv4 show subinterfaces failed (${v4!.error?.code ?? `exit ${v4!.code}`}): interfaces and uplink MTUs unknown`,
    };
  const interfaces = subinterfacesToInterfaces(parseNetshSubinterfaces(v4!.stdout));
  if (interfaces.length === 0)
    return { interfaces, ipv6Mtu, note: 'netsh listed no interfaces (another display language?): uplink MTUs unknown' };
  return { interfaces, ipv6Mtu };
}

/** The route to one address, or a note naming what could not be seen. */
export async function routeGetWindows(exec: Exec, address: string): Promise<{ get?: RouteGet; note?: string }> {
  // The address goes into a PowerShell command line: only a literal IP address is ever put there.
  if (!net.isIP(address)) return { note: `not an IP address: ${address}` };
  const command = `Find-NetRoute -RemoteIPAddress '${address}' | Select-Object InterfaceAlias,NextHop,DestinationPrefix | ConvertTo-Json -Compress`;
  const r = await exec('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', command], {
    timeoutMs: POWERSHELL_TIMEOUT_MS,
  });
  const get = r.error || r.code !== 0 ? undefined : parseFindNetRoute(r.stdout);
  if (get?.iface) return { get };
  const why = r.error?.code ?? (r.code !== 0 ? `exit ${r.code}` : 'no InterfaceAlias in its output');
  return {
    note: `PowerShell Find-NetRoute -RemoteIPAddress ${address} failed (${why}): the uplink to ${address} is unknown`,
  };
}
