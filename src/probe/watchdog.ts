/**
 * The watchdog: no progress for stallTimeoutMs is a stall; the run's deadline ends everything. Either
 * aborts the probe with a ProbeError; what it saw is left in the session for classifyProbeEnd.
 */
import { ProbeCode, ProbeError } from '../model/errors.js';
import type { TcpInfo } from '../model/report.js';
import type { ProbeSession } from './session.js';

const CHECK_EVERY_MS = 50;

export interface WatchdogContext {
  session: ProbeSession;
  now: () => number;
  stallTimeoutMs: number;
  deadline: number;
  abort: AbortController;
  tcpInfo?: (local: { port: number }, remote: { address: string; port: number }) => Promise<TcpInfo | undefined>;
}

/** Start watching; returns the function that stops it. */
export function startWatchdog(ctx: WatchdogContext): () => void {
  const { session } = ctx;
  const timer = setInterval(() => {
    const now = ctx.now();
    if (now >= ctx.deadline) {
      session.deadlineHit = true;
      ctx.abort.abort(new ProbeError(ProbeCode.DEADLINE, 'run deadline reached'));
      return;
    }
    if (session.stalled || now - session.lastProgress < ctx.stallTimeoutMs) return;
    session.stalled = { phase: session.phase, idleMs: now - session.lastProgress };
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
