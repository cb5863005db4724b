/**
 * A macOS host: its interfaces and MTUs from `ifconfig -a`, the route to each target from `route -n get <addr>`.
 * macOS has no /sys and no /proc; these two commands are what the system ships. The formats are read from Apple's
 * source of both (github.com/apple-oss-distributions/network_cmds at 97e27e6: ifconfig.tproj/ifconfig.c prints
 * `name: flags=...<...> mtu N`, ifmedia.c `\tstatus: `, ifbridge.c `\tmember: `; route.tproj/route.c prints
 * `  interface: `, `    gateway: ` (RTF_GATEWAY routes only) and the `recvpipe ... mtu expire` table). The parsers are
 * pure and tested on output in that format (test/fixtures/macos-*); the collectors only run the commands.
 *
 * What macOS cannot show: Docker Desktop, colima and podman machine run the engine in a Linux VM, whose interfaces
 * (docker0, the VM's eth0) are not the host's. The Docker API and the probe containers are how those are seen.
 */
import net from 'node:net';
import type { Exec } from '../../util/exec.js';
import type { InterfaceKind, NetInterface } from '../../model/report.js';
import type { RouteGet } from './routes.js';

/** Interface kinds by BSD name prefix (ifconfig prints no type): utun is the tun device VPN clients create. */
function classifyDarwin(name: string, flags: string): InterfaceKind {
  if (/^lo\d/.test(name) || flags.includes('LOOPBACK')) return 'loopback';
  if (/^bridge\d/.test(name)) return 'bridge';
  if (/^(utun|ipsec|tun)\d/.test(name)) return 'tun';
  if (/^tap\d/.test(name)) return 'tap';
  if (/^ppp\d/.test(name)) return 'ppp';
  if (/^stf\d/.test(name)) return 'sit'; // 6to4, the BSD counterpart of Linux's sit
  if (/^vlan\d/.test(name)) return 'vlan';
  if (/^bond\d/.test(name)) return 'bond';
  // en0, en1 ... are the machine's Ethernet and Wi-Fi (Thunderbolt ports too); vmenet, anpi, awdl, llw, gif: other.
  if (/^en\d/.test(name)) return 'physical';
  return 'other';
}

/**
 * `ifconfig -a`: one block per interface, `name: flags=8863<UP,BROADCAST,...> mtu 1500` at column 0, then tab-indented
 * lines (`status: active|inactive`, `member: en1 flags=3<...>` on bridges).
 */
export function parseIfconfig(text: string): NetInterface[] {
  const out: NetInterface[] = [];
  let cur: (NetInterface & { flags: string }) | undefined;
  const flush = () => {
    if (!cur) return;
    const { flags, ...iface } = cur;
    if (iface.state === 'unknown' && flags.length) iface.state = /(^|,)UP(,|$)/.test(flags) ? 'up' : 'down';
    out.push(iface);
    cur = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    // ifconfig.c prints ` metric N` between the flags and the mtu when the metric is not 0.
    const head = /^([A-Za-z][\w.]*): flags=[0-9a-f]+<([^>]*)>(?: metric \d+)? mtu (\d+)/.exec(line);
    if (head) {
      flush();
      const [, name, flags, mtu] = head as unknown as [string, string, string, string];
      cur = { name, mtu: Number(mtu), state: 'unknown', kind: classifyDarwin(name, flags), flags };
      continue;
    }
    if (!cur || !/^\s/.test(line)) continue;
    const status = /^\s+status: (\S+)/.exec(line)?.[1];
    // `status:` is the link (media) state; an UP interface with `status: inactive` has no link.
    if (status) cur.state = status === 'active' ? 'up' : 'down';
    const member = /^\s+member: (\S+)/.exec(line)?.[1];
    if (member) cur.ports = [...(cur.ports ?? []), member];
  }
  flush();
  return out;
}

/**
 * `route -n get <addr>`: `interface: en0`, `gateway: 192.168.1.1`, and a table of route metrics whose `mtu` column is
 * the route's MTU (the interface's unless a route or a learned path MTU set less).
 */
export function parseRouteGetDarwin(text: string): RouteGet {
  const out: RouteGet = {};
  const lines = text.split(/\r?\n/);
  const iface = /^\s*interface: (\S+)/m.exec(text)?.[1];
  if (iface) out.iface = iface;
  const gateway = /^\s*gateway: (\S+)/m.exec(text)?.[1];
  if (gateway) out.gateway = gateway;
  const h = lines.findIndex((l) => /\brecvpipe\b.*\bmtu\b/.test(l));
  if (h >= 0 && lines[h + 1] !== undefined) {
    const col = lines[h]!.trim().split(/\s+/).indexOf('mtu');
    // route.c prints each metric as "%8u%c ": an `L` right after the number marks a locked value (1380L).
    const mtu = Number.parseInt(lines[h + 1]!.trim().split(/\s+/)[col] ?? '', 10);
    if (Number.isFinite(mtu) && mtu > 0) out.routeMtu = mtu;
  }
  return out;
}

const TIMEOUT_MS = 2000;

/** The host's interfaces, or why they are unknown. */
export async function readDarwinInterfaces(exec: Exec): Promise<{ interfaces: NetInterface[]; note?: string }> {
  const r = await exec('ifconfig', ['-a'], { timeoutMs: TIMEOUT_MS });
  if (r.error || r.code !== 0)
    return {
      interfaces: [],
      note: `ifconfig -a failed (${r.error?.code ?? `exit ${r.code}`}): interfaces and uplink MTUs unknown`,
    };
  const interfaces = parseIfconfig(r.stdout);
  if (interfaces.length === 0) return { interfaces, note: 'ifconfig -a listed no interfaces: uplink MTUs unknown' };
  return { interfaces };
}

/** The route to one address, or a note naming what could not be seen. */
export async function routeGetDarwin(exec: Exec, address: string): Promise<{ get?: RouteGet; note?: string }> {
  const args = ['-n', 'get', ...(net.isIPv6(address) ? ['-inet6'] : []), address];
  const r = await exec('route', args, { timeoutMs: TIMEOUT_MS });
  const get = r.error || r.code !== 0 ? undefined : parseRouteGetDarwin(r.stdout);
  if (get?.iface) return { get };
  const why = r.error?.code ?? (r.code !== 0 ? `exit ${r.code}: ${r.stderr.trim().slice(0, 80)}` : 'no interface:');
  return { note: `route ${args.join(' ')} failed (${why}): the uplink to ${address} is unknown` };
}
