/**
 * The watchdog's early look: while a connected probe makes no progress, the socket is read every ~100 ms (ss -tin,
 * or /proc/net where ss is missing) and the samples folded into src/probe/evidence.ts, which decides. This file only
 * gathers: which reader answers, and whether a namespace-wide counter can be attributed to this socket.
 */
import type { EarlyStall, TcpInfo } from '../model/report.js';
import { requestHeadLost } from '../model/tcp.js';
import {
  judgeContrast,
  judgeGap,
  judgeHeadLoss,
  observeSample,
  initialGap,
  type GapState,
  type SocketSample,
} from './evidence.js';
import { established, type ProcNet } from './proc-net.js';
import type { ProbeSession } from './session.js';
import { parseSsTimers } from './tcp-info.js';

/**
 * The namespace's TcpExt TCPOFOQueue as evidence for one probe's socket. Sound only where every TCP connection the
 * namespace ever had is one of these probes and none of them has received a byte: then every segment queued behind
 * a gap belongs to a probe with nothing in order, and each such probe has its own gap. That holds in a container of
 * our own (fresh namespace: no connection and a zero counter at start), not in a shared one (--network host).
 */
export class NamespaceEvidence {
  private readonly peers = new Set<ProbeSession>();
  private fresh = false;

  constructor(private readonly read: () => Promise<ProcNet | undefined>) {}

  /** Read the namespace before any probe connects. */
  async start(): Promise<void> {
    const net = await this.read().catch(() => undefined);
    this.fresh = !!net && net.ofoQueue === 0 && established(net.sockets).length === 0;
  }

  register(session: ProbeSession): void {
    this.peers.add(session);
  }

  /** One look at `session`'s socket, or undefined where the namespace says nothing sound about it. */
  async sample(session: ProbeSession): Promise<SocketSample | undefined> {
    const sock = session.socket;
    if (!this.fresh || !sock?.localPort) return undefined;
    const net = await this.read().catch(() => undefined);
    if (!net || net.ofoQueue === undefined) return undefined;
    const mine = net.sockets.find((s) => s.localPort === sock.localPort && s.remotePort === session.remotePort);
    if (!mine) return undefined;
    const ports = new Set([...this.peers].map((p) => p.socket?.localPort).filter((p) => p !== undefined));
    // A handshake done or an answer means data came in, maybe on a socket since replaced (a redirect).
    const anyData = [...this.peers].some(
      (p) => (p.socket?.bytesRead ?? 0) > 0 || p.result.phases.tlsMs !== undefined || p.result.status !== undefined,
    );
    const strangers = established(net.sockets).some((s) => !ports.has(s.localPort));
    if (anyData || strangers) {
      // Once a connection we cannot vouch for is seen, or a probe got data (its segments may have queued), never again.
      this.fresh = false;
      return undefined;
    }
    return {
      at: session.elapsed(),
      requestAcked: sock.bytesWritten > 0 && mine.txQueue === 0,
      received: sock.bytesRead,
      outOfOrder: net.ofoQueue,
      ...(mine.rtoMs !== undefined ? { rtoMs: mine.rtoMs } : {}),
      source: 'proc',
    };
  }
}

export interface EarlyDeps {
  /** /proc/net of the namespace, shared by the probes of this process (inside containers, where ss is missing). */
  namespace?: NamespaceEvidence;
  /** The layer above finished its handshake with this target in this many ms (the cross-layer contrast). */
  outerHandshakeMs?: number;
}

export interface EarlyContext {
  session: ProbeSession;
  stallTimeoutMs: number;
  tcpInfo?: (local: { port: number }, remote: { address: string; port: number }) => Promise<TcpInfo | undefined>;
  early?: EarlyDeps;
}

/** Look at the socket this soon after the last progress, and then every tick (the watchdog's 50 ms, one at a time). */
const LOOK_AFTER_IDLE_MS = 100;
const LOOK_EVERY_MS = 100;
/** ss answered nothing this many times in a row: it is missing here, use /proc/net. */
const SS_MISSES = 2;

/** One `ss -tin` read as a sample for src/probe/evidence.ts. */
export function fromSs(info: TcpInfo, at: number): SocketSample {
  const { rtoMs, rttMs, rcvRttMs } = parseSsTimers(info.raw);
  // The longer of our RTT and the receiver's: a deep queue toward us shows only in rcv_rtt.
  const rtt = Math.max(rttMs ?? 0, rcvRttMs ?? 0);
  return {
    at,
    requestAcked: (info.bytesAcked ?? 0) > 0,
    received: info.bytesReceived ?? 0,
    outOfOrder: info.rcvOooPack ?? 0,
    ...(rtoMs !== undefined ? { rtoMs } : {}),
    ...(rtt > 0 ? { rttMs: rtt } : {}),
    source: 'ss',
    ...(requestHeadLost(info) ? { headLost: { sacked: info.sacked ?? 0, retransmitted: info.bytesRetrans ?? 0 } } : {}),
  };
}

/**
 * The early look for one probe: `check(idleMs)` returns the early end once the evidence is conclusive. It starts a
 * read in the background and judges what the reads so far showed, so a tick never waits for `ss`.
 */
export function createEarlyLook(ctx: EarlyContext): (idleMs: number) => EarlyStall | undefined {
  const { session } = ctx;
  // Known from the start: a peer that downloads and closes between two reads must still count as one with data.
  ctx.early?.namespace?.register(session);
  let state: GapState = initialGap();
  let reading = false;
  let lastLook = -Infinity;
  let ssMisses = 0;
  let info: TcpInfo | undefined;
  const connectRtt = () => {
    const p = session.result.phases;
    return p.connectMs !== undefined ? p.connectMs - (p.dnsMs ?? 0) : undefined;
  };
  const look = async () => {
    const s = session.socket;
    const address = session.result.address;
    if (!s?.localPort || !address) return;
    let sample: SocketSample | undefined;
    if (ctx.tcpInfo && ssMisses < SS_MISSES) {
      const got = await ctx
        .tcpInfo({ port: s.localPort }, { address, port: session.remotePort })
        .catch(() => undefined);
      ssMisses = got ? 0 : ssMisses + 1;
      if (got) {
        info = got;
        sample = fromSs(got, session.elapsed());
      }
    } else if (ctx.early?.namespace) sample = await ctx.early.namespace.sample(session);
    if (sample) state = observeSample(state, sample);
  };
  return (idleMs) => {
    const phase = session.phase;
    if (phase === 'dns' || phase === 'connect' || phase === 'proxy' || !session.socket) return undefined;
    const outer = ctx.early?.outerHandshakeMs;
    const connectMs = session.result.phases.connectMs;
    if (outer !== undefined && connectMs !== undefined) {
      const contrast = judgeContrast({
        outerHandshakeMs: outer,
        connectedForMs: session.elapsed() - connectMs,
        received: session.socket.bytesRead,
        idleMs,
        stallTimeoutMs: ctx.stallTimeoutMs,
      });
      if (contrast) return contrast;
    }
    const now = session.elapsed();
    const judged = {
      state,
      now,
      idleMs,
      ...(connectRtt() !== undefined ? { connectRttMs: connectRtt()! } : {}),
      stallTimeoutMs: ctx.stallTimeoutMs,
    };
    const verdict = judgeGap(judged) ?? judgeHeadLoss(judged);
    if (verdict) {
      if (info) session.result.tcpInfo = info;
      return verdict;
    }
    if (!reading && idleMs >= LOOK_AFTER_IDLE_MS && now - lastLook >= LOOK_EVERY_MS) {
      reading = true;
      lastLook = now;
      void look().finally(() => (reading = false));
    }
    return undefined;
  };
}
