/**
 * Which mechanism made a probe's segments fit the path (or failed to), judged from what the socket (ss -tin) and the
 * route state (ip route get: a route exception) show. Nothing is inferred beyond them: a download that worked with no
 * socket state to read (a container without `ss`) is 'unknown', never "PMTUD".
 *
 *  - pmtud: the server's segments arrived smaller than the MSS we advertised, its own MSS was not lowered and we hold
 *    no route exception: ICMP "fragmentation needed" reached the server and it lowered its path MTU.
 *  - pmtud-outbound-only: we hold a route exception (ICMP reached us, from our own full-size packets) and still the
 *    probe stalled: the server's segments vanish, no ICMP reaches it. A black hole on the way in.
 *  - mss-clamp: the MSS the server sent with (our SYN-ACK) is below ours and no route exception was seen: a hop on the
 *    path rewrote the MSS of the SYNs. No ICMP involved.
 *  - learned-mss: the download worked because this socket advertised a smaller MSS, taken from a route exception; it
 *    proves nothing about full-size packets, and it ends when the exception expires.
 *  - full-size: nothing had to shrink.
 */
import type { ProbeResult, Uplink } from '../model/report.js';

export type PathMechanism =
  | { kind: 'full-size' }
  | { kind: 'pmtud'; rcvMss: number; advMss: number }
  | { kind: 'pmtud-outbound-only'; pmtu: number; learned?: Uplink['pmtuLearned'] }
  | { kind: 'mss-clamp'; serverMss: number; advMss: number }
  | { kind: 'learned-mss'; advMss?: number; pmtu: number; learned?: Uplink['pmtuLearned'] }
  | { kind: 'unknown' };

/**
 * ss reports advmss, mss and rcvmss net of the timestamp option (1448 on a 1500 path); SACK blocks and rounding take a
 * few bytes more. Below that slack something on the path made segments smaller (a 1460 path is 40 bytes down).
 */
const OPTION_SLACK = 20;

/** Whether an advertised MSS (as ss shows it, net of timestamps) is below what an interface of `mtu` gives. */
export function advertisedBelow(advMss: number, mtu: number): boolean {
  return advMss + 52 + OPTION_SLACK < mtu;
}
/** Below this much body the largest segment seen says little about what the server could send. */
const MIN_BYTES_FOR_RCVMSS = 64 * 1024;

/** The route exception below everything configured (interface and route MTU), when the uplink holds one. */
export function routeException(u: Uplink | undefined): number | undefined {
  if (u?.cachedPmtu === undefined) return undefined;
  return u.cachedPmtu < Math.min(u.ifaceMtu, u.routeMtu ?? Infinity) ? u.cachedPmtu : undefined;
}

export function judgeMechanism(p: ProbeResult, uplink: Uplink | undefined): PathMechanism {
  const exception = routeException(uplink);
  const learned = uplink?.pmtuLearned;
  const t = p.tcpInfo;
  if (p.outcome === 'stall')
    return exception !== undefined
      ? { kind: 'pmtud-outbound-only', pmtu: exception, ...(learned ? { learned } : {}) }
      : { kind: 'unknown' };
  if (p.outcome !== 'ok') return { kind: 'unknown' };
  // The advertised MSS fits the exception: the SYN went out after the kernel learned it.
  if (exception !== undefined && (t?.advMss === undefined || t.advMss + 52 <= exception + OPTION_SLACK))
    return {
      kind: 'learned-mss',
      pmtu: exception,
      ...(t?.advMss ? { advMss: t.advMss } : {}),
      ...(learned ? { learned } : {}),
    };
  if (t?.advMss === undefined) return { kind: 'unknown' };
  if (t.sndMss !== undefined && t.sndMss + OPTION_SLACK < t.advMss)
    return { kind: 'mss-clamp', serverMss: t.sndMss, advMss: t.advMss };
  if (t.rcvMss !== undefined && p.bytes >= MIN_BYTES_FOR_RCVMSS && t.rcvMss + OPTION_SLACK < t.advMss)
    return { kind: 'pmtud', rcvMss: t.rcvMss, advMss: t.advMss };
  return { kind: 'full-size' };
}

const LEARNED_TEXT = { 'this-run': 'learned during this run', earlier: 'left by an earlier run' } as const;

/** "learned during this run" / "left by an earlier run" / "learned from ICMP". */
export function learnedText(learned: Uplink['pmtuLearned']): string {
  return learned ? LEARNED_TEXT[learned] : 'learned from ICMP';
}

/** One evidence line naming the mechanism, or undefined when the socket and routes show none worth a line. */
export function mechanismLine(where: string, m: PathMechanism): string | undefined {
  switch (m.kind) {
    case 'pmtud':
      return `${where}: PMTUD toward the server: its segments arrived at ${m.rcvMss} bytes, below the MSS ${m.advMss} we advertised, with no route exception here (ICMP "fragmentation needed" reached the server)`;
    case 'pmtud-outbound-only':
      return `${where}: PMTUD works only on the way out: ICMP "fragmentation needed" reached this machine (a route exception, path MTU ${m.pmtu}, ${learnedText(m.learned)}), but nothing tells the server, whose full-size segments still vanish`;
    case 'mss-clamp':
      return `${where}: MSS clamping on the path: the server sends with MSS ${m.serverMss}, below the ${m.advMss} we advertised, and no route exception was seen (no ICMP): not PMTUD`;
    case 'learned-mss':
      return `${where}: worked only because it advertised ${m.advMss !== undefined ? `MSS ${m.advMss}` : 'a smaller MSS'} from a route exception (path MTU ${m.pmtu}, ${learnedText(m.learned)}): full-size packets were not shown to pass`;
    default:
      return undefined;
  }
}

/** "eth0 MTU 1500" or, with a route exception or route mtu below it, "path MTU 1400 (eth0 is 1500; learned ...)". */
export function uplinkMtuText(u: Uplink): string {
  if (u.effectiveMtu >= u.ifaceMtu) return `${u.iface} MTU ${u.effectiveMtu}`;
  const exception = routeException(u);
  const why =
    exception === u.effectiveMtu
      ? `a route exception ${learnedText(u.pmtuLearned)}${u.pmtuExpiresSec !== undefined ? `, expires in ${u.pmtuExpiresSec} s` : ''}`
      : `route mtu ${u.routeMtu}`;
  return `path MTU ${u.effectiveMtu} (${u.iface} itself is ${u.ifaceMtu}; ${why})`;
}
