/**
 * The state one probe shares between its connector, the proxy watch, the watchdog and the body loop:
 * which phase it is in, when it last made progress, the sockets it opened. Each writes here; at the end,
 * `ending()` reduces it to the ProbeEnd that classifyProbeEnd (outcome.ts) decides from.
 */
import type net from 'node:net';
import type { EarlyStall, ProbeResult } from '../model/report.js';
import type { ProbeEnd, ProbePhase, ProbeVerdict } from './outcome.js';

export class ProbeSession {
  readonly start: number;
  phase: ProbePhase = 'dns';
  lastProgress: number;
  /** The socket to the target when connected directly (the kernel is asked about it on a stall). */
  socket?: net.Socket;
  remotePort = 0;
  /** The socket to the proxy (src/probe/proxy-tunnel.ts), destroyed with the others when the probe ends. */
  proxySocket?: net.Socket;
  /** Our connector was used: the request went direct (no proxy, or NO_PROXY matched). */
  directUsed = false;
  /** The probe has returned: a connection still being set up is refused. */
  settled = false;
  /** The first error the socket itself reported: the HTTP layer turns a reset mid-body into a short body. */
  socketError?: string;
  /** The watchdog ended a stall: in which phase, after how long, and (before the stall timeout) on what evidence. */
  stalled?: { phase: ProbePhase; idleMs: number; early?: EarlyStall };
  deadlineHit = false;

  constructor(
    readonly result: ProbeResult,
    private readonly now: () => number,
    private readonly onUpdate?: (r: ProbeResult) => void,
  ) {
    this.start = now();
    this.lastProgress = this.start;
  }

  elapsed(): number {
    return this.now() - this.start;
  }

  /** A phase was reached: progress for the watchdog, and news for the live output. */
  progress(phase: ProbePhase): void {
    this.phase = phase;
    this.lastProgress = this.now();
    this.onUpdate?.(this.result);
  }

  /** Body bytes arrived: progress for the watchdog, without a new phase. */
  touch(): void {
    this.lastProgress = this.now();
  }

  update(): void {
    this.onUpdate?.(this.result);
  }

  readonly noteSocketError = (err: NodeJS.ErrnoException): void => {
    this.socketError ??= err.code;
  };

  /** What was observed, for classifyProbeEnd. */
  ending(end: ProbeEnd['end'], viaProxy: boolean): ProbeEnd {
    const r = this.result;
    return {
      host: r.host,
      ...(r.address !== undefined ? { address: r.address } : {}),
      phase: this.phase,
      connected: r.phases.connectMs !== undefined,
      bytes: r.bytes,
      viaProxy,
      ...(this.stalled ? { stalled: this.stalled } : {}),
      ...(this.deadlineHit ? { deadline: { idleMs: this.now() - this.lastProgress } } : {}),
      ...(this.socketError !== undefined ? { socketError: this.socketError } : {}),
      end,
    };
  }

  /** Record the verdict, the end time and the body's throughput. */
  finish(v: ProbeVerdict): void {
    const r = this.result;
    r.outcome = v.outcome;
    // stall before error: the key order of the JSON report as it has always been.
    if (v.stall) r.stall = v.stall;
    if (v.error) r.error = v.error;
    r.phases.doneMs = this.elapsed();
    const bodyStart = r.phases.ttfbMs;
    if (r.bytes > 0 && bodyStart !== undefined && r.phases.doneMs > bodyStart) {
      r.throughputBps = Math.round((r.bytes * 1000) / (r.phases.doneMs - bodyStart));
    }
  }
}
