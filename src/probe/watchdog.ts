/**
 * The watchdog: no progress for stallTimeoutMs is a stall; the run's deadline ends everything. Before the stall
 * timeout, a connected probe without progress is looked at every ~100 ms (src/probe/early.ts) and ends as soon as
 * the kernel's evidence, or the contrast with the layer above, is conclusive (src/probe/evidence.ts decides). Either
 * aborts the probe with a ProbeError; what it saw is left in the session for classifyProbeEnd.
 */
import { ProbeCode, ProbeError } from '../model/errors.js';
import type { TcpInfo } from '../model/report.js';
import { createEarlyLook, type EarlyDeps } from './early.js';
import type { ProbeSession } from './session.js';

const CHECK_EVERY_MS = 50;

export interface WatchdogContext {
  session: ProbeSession;
  now: () => number;
  stallTimeoutMs: number;
  deadline: number;
  abort: AbortController;
  tcpInfo?: (local: { port: number }, remote: { address: string; port: number }) => Promise<TcpInfo | undefined>;
  /** What else may end a stall early: /proc/net inside containers, the outer layer's handshake time. */
  early?: EarlyDeps;
}

/** Start watching; returns the function that stops it. */
export function startWatchdog(ctx: WatchdogContext): () => void {
  const { session } = ctx;
  const earlyLook = createEarlyLook(ctx);
  const timer = setInterval(() => {
    const now = ctx.now();
    if (now >= ctx.deadline) {
      session.deadlineHit = true;
      ctx.abort.abort(new ProbeError(ProbeCode.DEADLINE, 'run deadline reached'));
      return;
    }
    if (session.stalled) return;
    const idleMs = now - session.lastProgress;
    if (idleMs < ctx.stallTimeoutMs) {
      const early = earlyLook(idleMs);
      if (!early) return;
      // The socket state the verdict rests on is already in the session (tcpInfo): no second snapshot.
      session.stalled = { phase: session.phase, idleMs, early };
      ctx.abort.abort(new ProbeError(ProbeCode.STALL, early.detail));
      return;
    }
    session.stalled = { phase: session.phase, idleMs };
    const kill = () => ctx.abort.abort(new ProbeError(ProbeCode.STALL, `no progress for ${ctx.stallTimeoutMs} ms`));
    const snapshot = snapshotSocket(ctx);
    if (snapshot) void snapshot.finally(kill);
    else kill();
  }, CHECK_EVERY_MS);
  timer.unref?.();
  return () => clearInterval(timer);
}

/**
 * Ask the kernel what this socket saw before we tear it down: out-of-order segments behind a gap are the tail
 * of a flight whose full-size segments were dropped. Only for a direct socket past the TCP connect.
 */
export function snapshotSocket(ctx: Pick<WatchdogContext, 'session' | 'tcpInfo'>): Promise<void> | undefined {
  const { session } = ctx;
  const s = session.socket;
  const address = session.result.address;
  if (!ctx.tcpInfo || !s || !s.localPort || !address || session.phase === 'dns' || session.phase === 'connect')
    return undefined;
  return ctx
    .tcpInfo({ port: s.localPort }, { address, port: session.remotePort })
    .then((info) => {
      if (info) session.result.tcpInfo = info;
    })
    .catch(() => undefined);
}
