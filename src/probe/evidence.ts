/**
 * The early verdict, decided purely from what the socket showed over time (the watchdog samples it every ~100 ms).
 *
 * A path-MTU black hole leaves a precise trace in the client's kernel: the server's kernel ACKed our request
 * (bytes_acked > 0), the short tail of its first flight arrived behind a gap (rcv_ooopack > 0), and the full-size
 * segments before it never come, so nothing more is delivered in order. A lossy path that works shows the same for
 * a moment: the server repairs a lost segment by a fast retransmission, or after one retransmission timeout (RTO,
 * at least 200 ms on Linux). So a gap only counts once it has stayed open for several RTOs (GAP_RTOS, and never
 * less than MIN_GAP_MS): by then the original and two or three retransmissions of the same segment were all lost.
 * A server that is merely slow or silent sends nothing, so it opens no gap and is left to the stall timeout.
 *
 * The cross-layer contrast: the layer this one leaves through finished its handshake to the same target in h ms;
 * this layer connected and received nothing for CONTRAST_FACTOR * h (and at least MIN_CONTRAST_MS).
 */
import type { EarlyStall } from '../model/report.js';

/** What one look at the socket showed. */
export interface SocketSample {
  /** Ms since the probe started. */
  at: number;
  /** The server's kernel ACKed what we sent (ss bytes_acked > 0; /proc/net/tcp: nothing left in tx_queue). */
  requestAcked: boolean;
  /** Bytes delivered in order (ss bytes_received, or the socket's bytesRead). */
  received: number;
  /** Segments that arrived behind a gap, cumulative (ss rcv_ooopack; the namespace's TCPOFOQueue when only ours). */
  outOfOrder: number;
  /** The kernel's retransmission timeout and smoothed RTT for this socket, when it said. */
  rtoMs?: number;
  rttMs?: number;
  /** Where it came from, for the report's detail. */
  source: 'ss' | 'proc';
  /**
   * Our request's full-size head is lost on the way out while its tail was SACKed (src/model/tcp.ts
   * requestHeadLost): the server has received part of the request and no ACK moves past the SYN. From ss only.
   */
  headLost?: { sacked: number; retransmitted: number };
}

/** What the samples so far add up to. */
export interface GapState {
  received: number;
  /** Out-of-order count when in-order data last advanced (or the first sample). */
  oooBase: number;
  /** When the current gap was first seen open (new out-of-order segments, nothing in order since). */
  gapSince?: number;
  /** When our request's head was first seen lost with its tail SACKed, while it still is. */
  headLostSince?: number;
  last?: SocketSample;
}

/** Never end a probe on a gap younger than this: covers TLP/RACK, a fast retransmission and two RTOs of 200, 400 ms. */
export const MIN_GAP_MS = 1000;
/** The gap must stay open this many RTOs: the first retransmission after 1 RTO, the next after 2 more (backoff). */
export const GAP_RTOS = 4;
/** ... and this many RTTs (a path whose RTO the kernel has not yet measured). */
export const GAP_RTTS = 10;
/** The cross-layer contrast: 0 bytes for this many times the outer layer's handshake ... */
export const CONTRAST_FACTOR = 20;
/** ... and never less than this. */
export const MIN_CONTRAST_MS = 1000;

export function initialGap(): GapState {
  return { received: 0, oooBase: 0 };
}

/** Fold one sample into the state (pure). */
export function observeSample(state: GapState, s: SocketSample): GapState {
  const { headLostSince, ...rest } = observeInbound(state, s);
  // The outbound signature holds from its first sighting until a sample without it (an ACK moved on: repaired).
  return s.headLost ? { ...rest, headLostSince: headLostSince ?? s.at } : rest;
}

function observeInbound(state: GapState, s: SocketSample): GapState {
  if (state.last === undefined) {
    // The first look: whatever arrived out of order before it arrived behind what is still missing.
    const gap = s.outOfOrder > 0 && s.received === 0 ? { gapSince: s.at } : {};
    return { received: s.received, oooBase: s.received === 0 ? 0 : s.outOfOrder, ...gap, last: s };
  }
  if (s.received !== state.received) {
    // In-order data advanced: any gap before was repaired. A gap reopened in the same interval is only counted from
    // the next out-of-order segment (conservative: it can delay a verdict, never hasten one).
    return { received: s.received, oooBase: s.outOfOrder, last: s };
  }
  if (state.gapSince === undefined && s.outOfOrder > state.oooBase) return { ...state, gapSince: s.at, last: s };
  return { ...state, last: s };
}

/** How long a gap must stay open before it is conclusive, from the kernel's timers and the RTT measured at connect. */
export function gapWindowMs(last: SocketSample | undefined, connectRttMs: number | undefined): number {
  const rtt = Math.max(last?.rttMs ?? 0, connectRttMs ?? 0);
  return Math.ceil(Math.max(MIN_GAP_MS, GAP_RTOS * (last?.rtoMs ?? 0), GAP_RTTS * rtt));
}

export interface JudgeInput {
  state: GapState;
  /** Ms since the probe started. */
  now: number;
  /** Ms since the probe last made progress (a phase, a body byte). */
  idleMs: number;
  connectRttMs?: number;
  stallTimeoutMs: number;
}

const secs = (ms: number) => `${(Math.round(ms / 100) / 10).toFixed(1)} s`;

/** The early end the socket's history supports, if any (pure). */
export function judgeGap(j: JudgeInput): EarlyStall | undefined {
  const { state } = j;
  const last = state.last;
  if (!last || state.gapSince === undefined || !last.requestAcked) return undefined;
  const open = j.now - state.gapSince;
  const window = gapWindowMs(last, j.connectRttMs);
  // Where the window reaches the stall timeout, the timeout decides as it always did.
  if (window >= j.stallTimeoutMs || open < window || j.idleMs < window) return undefined;
  const timers = [
    last.rtoMs !== undefined ? `rto ${last.rtoMs} ms` : '',
    last.rttMs !== undefined ? `rtt ${last.rttMs} ms` : '',
    j.connectRttMs !== undefined ? `connect ${Math.round(j.connectRttMs)} ms` : '',
  ].filter(Boolean);
  const what =
    last.source === 'ss'
      ? `rcv_ooopack ${last.outOfOrder}`
      : `TCPOFOQueue +${last.outOfOrder} in this namespace, whose only connections are these probes`;
  return {
    by: 'kernel',
    afterMs: Math.round(j.idleMs),
    detail:
      `ended on kernel evidence after ${secs(j.idleMs)}, before the ${secs(j.stallTimeoutMs)} stall timeout: the server ACKed our request, ` +
      `${what} (segments behind a gap), ${last.received} bytes in order and none since for ${secs(open)} ` +
      `(at least ${secs(window)}: ${GAP_RTOS} RTOs, ${GAP_RTTS} RTTs, ${secs(MIN_GAP_MS)}${timers.length ? `; ${timers.join(', ')}` : ''})`,
  };
}

/**
 * The early end the outbound signature supports, if any (pure): our request's full-size first segment and its
 * retransmissions were lost for a whole window while the server SACKed its tail. A lossy path repairs that within
 * an RTO or two; a black hole on the way out never does.
 */
export function judgeHeadLoss(j: JudgeInput): EarlyStall | undefined {
  const { state } = j;
  const last = state.last;
  if (!last?.headLost || state.headLostSince === undefined) return undefined;
  const open = j.now - state.headLostSince;
  const window = gapWindowMs(last, j.connectRttMs);
  if (window >= j.stallTimeoutMs || open < window || j.idleMs < window) return undefined;
  return {
    by: 'kernel',
    afterMs: Math.round(j.idleMs),
    detail:
      `ended on kernel evidence after ${secs(j.idleMs)}, before the ${secs(j.stallTimeoutMs)} stall timeout: the server SACKed ` +
      `${last.headLost.sacked} later segment(s) of our request but never ACKed its first, full-size one ` +
      `(${last.headLost.retransmitted} bytes retransmitted) for ${secs(open)} (at least ${secs(window)}): our full-size packets are dropped on the way out`,
  };
}

/** The contrast budget for a target the outer layer shook hands with in `outerHandshakeMs`. */
export function contrastBudgetMs(outerHandshakeMs: number): number {
  return Math.ceil(Math.max(MIN_CONTRAST_MS, CONTRAST_FACTOR * outerHandshakeMs));
}

export interface ContrastInput {
  /** Ms the layer above took from TCP connect to the end of its TLS handshake with the same target. */
  outerHandshakeMs: number;
  /** Connected (TCP) ms ago, with nothing received on the socket since. */
  connectedForMs: number;
  /** Bytes this socket read (the socket's bytesRead). */
  received: number;
  idleMs: number;
  stallTimeoutMs: number;
}

/** The early end the cross-layer contrast supports, if any (pure). */
export function judgeContrast(c: ContrastInput): EarlyStall | undefined {
  const budget = contrastBudgetMs(c.outerHandshakeMs);
  if (c.received > 0 || budget >= c.stallTimeoutMs || c.connectedForMs < budget || c.idleMs < budget) return undefined;
  return {
    by: 'layer-contrast',
    afterMs: Math.round(c.idleMs),
    detail:
      `ended on the contrast with the layer above after ${secs(c.idleMs)}, before the ${secs(c.stallTimeoutMs)} stall timeout: ` +
      `it finished its handshake with this target in ${Math.round(c.outerHandshakeMs)} ms; here 0 bytes arrived in ${secs(c.connectedForMs)} ` +
      `(at least ${CONTRAST_FACTOR} such handshakes and ${secs(MIN_CONTRAST_MS)})`,
  };
}
