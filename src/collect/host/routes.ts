/**
 * Which interface a target's address leaves by, and with what MTU.
 * Resolved per target (moby dropped MTU auto-detection because "the default route" is not
 * one thing: several default routes, policy routing, per-route MTUs). The kernel's tables in
 * /proc/net/route and /proc/net/ipv6_route give the interface; `ip route get` (when present)
 * adds what /proc does not show: a route-level `mtu` and a path MTU learned from ICMP.
 */
import net from 'node:net';
import type { Exec } from '../../util/exec.js';
import type { NetInterface, Route, Uplink } from '../../model/report.js';
import { explainMtu } from './interfaces.js';

/** /proc/net/route: little-endian hex IPv4 destination, gateway and mask. */
export function parseProcNetRoute(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dst, gw, flags, , , metric, mask] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if ((Number.parseInt(flags, 16) & 0x1) === 0) continue; // RTF_UP
    const destination = hexToIpv4(dst);
    const gateway = hexToIpv4(gw);
    routes.push({
      family: 4,
      destination,
      prefixLength: popcount(Number.parseInt(mask, 16) >>> 0),
      ...(gateway !== '0.0.0.0' ? { gateway } : {}),
      iface,
      metric: Number(metric),
    });
  }
  return routes;
}

/** /proc/net/ipv6_route: dest, dest-prefix, src, src-prefix, next hop, metric, refcnt, use, flags, iface. */
export function parseProcNetIpv6Route(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const iface = f[9]!;
    const flags = Number.parseInt(f[8]!, 16);
    if ((flags & 0x1) === 0 || iface === 'lo') continue;
    // RTF_REJECT routes (unreachable) carry no traffic
    if (flags & 0x0200) continue;
    const nextHop = hexToIpv6(f[4]!);
    routes.push({
      family: 6,
      destination: hexToIpv6(f[0]!),
      prefixLength: Number.parseInt(f[1]!, 16),
      ...(nextHop !== '::' ? { gateway: nextHop } : {}),
      iface,
      metric: Number.parseInt(f[5]!, 16),
    });
  }
  return routes;
}

function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16) >>> 0;
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

function hexToIpv6(hex: string): string {
  const groups = hex.match(/.{4}/g) ?? [];
  const full = groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':');
  return compressIpv6(full);
}

function compressIpv6(full: string): string {
  // Longest run of zero groups becomes '::'.
  const parts = full.split(':');
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < parts.length;) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < parts.length && parts[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return parts.join(':');
  const head = parts.slice(0, best).join(':');
  const tail = parts.slice(best + bestLen).join(':');
  return `${head}::${tail}`;
}

function popcount(n: number): number {
  let c = 0;
  while (n) {
    c += n & 1;
    n >>>= 1;
  }
  return c;
}

function ipToBigInt(ip: string): bigint {
  if (net.isIPv4(ip)) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

function inPrefix(address: string, route: Route): boolean {
  const bits = route.family === 4 ? 32 : 128;
  if (route.prefixLength === 0) return true;
  const shift = BigInt(bits - route.prefixLength);
  return ipToBigInt(address) >> shift === ipToBigInt(route.destination) >> shift;
}

/** Longest-prefix match, then lowest metric: the route the kernel's main table would pick. */
export function lookupRoute(routes: readonly Route[], address: string): Route | undefined {
  const family = net.isIPv4(address) ? 4 : net.isIPv6(address) ? 6 : 0;
  let best: Route | undefined;
  for (const r of routes) {
    if (r.family !== family || !inPrefix(address, r)) continue;
    if (!best || r.prefixLength > best.prefixLength || (r.prefixLength === best.prefixLength && r.metric < best.metric))
      best = r;
  }
  return best;
}

export interface RouteGet {
  iface?: string;
  gateway?: string;
  /** `mtu N` on the route itself (possibly `mtu lock N`). */
  routeMtu?: number;
  /** `cache ... mtu N`: a PMTU the kernel learned. */
  cachedPmtu?: number;
  /** `cache expires Nsec`: seconds the learned PMTU has left (net.ipv4.route.mtu_expires, 600 s by default). */
  expiresSec?: number;
}

/** `ip route get` with the learned PMTU's expiry (`cache expires 598sec mtu 1400`). */
export function parseIpRouteGetExpiry(text: string): RouteGet {
  const out = parseIpRouteGet(text);
  const ex = / cache.* expires (\d+)sec/.exec(text.replace(/\\\s*/g, ' ').replace(/\s+/g, ' '));
  if (out.cachedPmtu !== undefined && ex) out.expiresSec = Number(ex[1]);
  return out;
}

/** A route exception: a path MTU this namespace's kernel learned from ICMP toward one address, until it expires. */
export interface RouteException {
  address: string;
  mtu: number;
  expiresSec?: number;
}

/**
 * Parse `ip -o route show cache` (and `ip -o -6 route show cache`): one exception per line that has a cached mtu.
 * Busybox's `ip` prints the plain routes there and no cache: nothing is parsed from it.
 */
export function parseRouteExceptions(text: string): RouteException[] {
  const out: RouteException[] = [];
  for (const line of text.split('\n')) {
    const address = /^(?:\S+ )?([0-9a-f.:]+)(?:\/(?:32|128))? /i.exec(line.replace(/^cache /, ''))?.[1];
    const get = parseIpRouteGetExpiry(line);
    if (!address || get.cachedPmtu === undefined || !line.includes(' cache')) continue;
    out.push({ address, mtu: get.cachedPmtu, ...(get.expiresSec !== undefined ? { expiresSec: get.expiresSec } : {}) });
  }
  return out;
}

/** This namespace's route exceptions, both families; undefined when `ip` cannot list them. */
export async function readRouteExceptions(exec: Exec): Promise<RouteException[] | undefined> {
  const runs = await Promise.all(
    [
      ['-o', 'route', 'show', 'cache'],
      ['-o', '-6', 'route', 'show', 'cache'],
    ].map((args) => exec('ip', args, { timeoutMs: 2000 })),
  );
  if (runs[0]!.code !== 0 || runs[0]!.error) return undefined;
  return runs.filter((r) => r.code === 0 && !r.error).flatMap((r) => parseRouteExceptions(r.stdout));
}

/** Parse `ip route get ADDR` (with or without -o). */
export function parseIpRouteGet(text: string): RouteGet {
  const flat = text.replace(/\\\s*/g, ' ').replace(/\s+/g, ' ');
  const out: RouteGet = {};
  const dev = / dev (\S+)/.exec(flat);
  if (dev) out.iface = dev[1]!;
  const via = / via (\S+)/.exec(flat);
  if (via) out.gateway = via[1]!;
  const cacheIdx = flat.indexOf(' cache');
  const before = cacheIdx >= 0 ? flat.slice(0, cacheIdx) : flat;
  const after = cacheIdx >= 0 ? flat.slice(cacheIdx) : '';
  const rm = / mtu (?:lock )?(\d+)/.exec(before);
  if (rm) out.routeMtu = Number(rm[1]);
  const cm = / mtu (?:lock )?(\d+)/.exec(after);
  if (cm) out.cachedPmtu = Number(cm[1]);
  return out;
}

export async function ipRouteGet(exec: Exec, address: string): Promise<RouteGet | undefined> {
  const r = await exec('ip', ['route', 'get', address], { timeoutMs: 2000 });
  if (r.code !== 0 || r.error) return undefined;
  return parseIpRouteGetExpiry(r.stdout);
}

/** Combine the route, the interface and what `ip route get` knows into the target's uplink. */
export function resolveUplink(
  target: string,
  address: string,
  routes: readonly Route[],
  interfaces: readonly NetInterface[],
  get?: RouteGet,
  before?: readonly RouteException[],
): Uplink | undefined {
  // Loopback and local addresses live in the kernel's local table, which /proc/net/route does not show.
  const isLoopback = /^127\./.test(address) || address === '::1';
  const route = isLoopback ? undefined : lookupRoute(routes, address);
  const ifaceName = get?.iface ?? (isLoopback ? 'lo' : route?.iface);
  if (!ifaceName) return undefined;
  const iface = interfaces.find((i) => i.name === ifaceName);
  if (!iface) return undefined;
  const effectiveMtu = Math.min(iface.mtu, get?.routeMtu ?? Infinity, get?.cachedPmtu ?? Infinity);
  const uplink: Uplink = { target, address, iface: iface.name, ifaceMtu: iface.mtu, effectiveMtu, kind: iface.kind };
  // `ip route get` knows the real next hop; the main-table guess only stands when it agrees on the interface.
  const gateway = get ? get.gateway : route?.iface === ifaceName ? route?.gateway : undefined;
  if (gateway) uplink.gateway = gateway;
  if (get?.routeMtu !== undefined) uplink.routeMtu = get.routeMtu;
  if (get?.cachedPmtu !== undefined) {
    uplink.cachedPmtu = get.cachedPmtu;
    if (get.expiresSec !== undefined) uplink.pmtuExpiresSec = get.expiresSec;
    // Read before any probe ran: an exception already there was left by something earlier (a previous run, a job).
    if (before) uplink.pmtuLearned = before.some((e) => e.address === address) ? 'earlier' : 'this-run';
  }
  const why = explainMtu(iface);
  if (why) uplink.explanation = why;
  else if (get?.routeMtu !== undefined && get.routeMtu < iface.mtu)
    uplink.explanation = `the route to ${address} sets mtu ${get.routeMtu}`;
  else if (get?.cachedPmtu !== undefined && get.cachedPmtu < iface.mtu)
    // ICMP reached this machine: that says nothing of the way in (the server's segments), so no claim about PMTUD.
    uplink.explanation = `a route exception: the kernel learned a path MTU of ${get.cachedPmtu} to ${address} from ICMP${uplink.pmtuLearned === 'this-run' ? ' during this run' : uplink.pmtuLearned === 'earlier' ? ' before this run' : ''}`;
  return uplink;
}
