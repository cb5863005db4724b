/**
 * How a probe ended, decided from what it observed: pure, so that each outcome is a row of a table test
 * (test/unit/probe/outcome.test.ts) instead of a hostile server. probeTarget (download.ts) does the I/O and
 * fills a ProbeEnd; classifyProbeEnd names the outcome, the error code and message, and the stall.
 */
import { isTlsCode, ProbeCode } from '../model/errors.js';
import type { EarlyStall, ProbeOutcome, ProbeResult, StallPhase } from '../model/report.js';
import { maskSecrets } from '../util/redact.js';

/** Where a probe is. 'proxy': connected to the proxy, waiting for its answer to CONNECT. */
export type ProbePhase = StallPhase | 'dns' | 'proxy';

/** What was thrown, reduced to what classification reads (by code, never by message text). */
export interface Thrown {
  code?: string;
  /** The code of err.cause, where the error wraps the socket's own. */
  causeCode?: string;
  message: string;
}

/** What a probe observed by the time it ended. */
export interface ProbeEnd {
  /** The target's host name, and the address it resolved to, for the messages. */
  host: string;
  address?: string;
  /** The phase the probe was in when it ended. */
  phase: ProbePhase;
  /** Our connector saw the TCP connection to the target established (phases.connectMs). */
  connected: boolean;
  /** Body bytes received. */
  bytes: number;
  /** The request went to a proxy (none configured, or NO_PROXY matched: false). */
  viaProxy: boolean;
  /** The stall watchdog fired: in which phase, after how long without progress, and on what evidence when early. */
  stalled?: { phase: ProbePhase; idleMs: number; early?: EarlyStall };
  /** The run's deadline ended the probe, after idleMs without progress. */
  deadline?: { idleMs: number };
  /** The first error the socket itself reported (the HTTP layer reports a reset mid-body as its own error). */
  socketError?: string;
  /** A final response (its body read to the end or the cap), or what ended the request instead. */
  end: { status: number } | { thrown: Thrown };
}

export interface ProbeVerdict {
  outcome: ProbeOutcome;
  error?: NonNullable<ProbeResult['error']>;
  stall?: NonNullable<ProbeResult['stall']>;
}

/** The parts of a thrown value classification reads. */
export function describeThrown(err: unknown): Thrown {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.cause?.code === 'string' ? { causeCode: e.cause.code } : {}),
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/** Before the tunnel to the target exists: still resolving or connecting to the proxy, or awaiting its CONNECT answer. */
const beforeTunnel = (phase: ProbePhase) => phase === 'dns' || phase === 'connect' || phase === 'proxy';

export function classifyProbeEnd(s: ProbeEnd): ProbeVerdict {
  if ('status' in s.end) return { outcome: s.end.status >= 400 ? 'http-error' : 'ok' };
  // Waiting ended by the stall watchdog or by the deadline: the phase it ended in names what never answered.
  const waited = s.stalled ?? (s.deadline ? { phase: s.phase, idleMs: s.deadline.idleMs } : undefined);
  if (waited && s.viaProxy && beforeTunnel(waited.phase)) {
    const error =
      waited.phase === 'proxy'
        ? {
            code: ProbeCode.PROXY_TIMEOUT,
            message: `the proxy accepted the TCP connection but did not answer the CONNECT request in ${secs(waited.idleMs)} s`,
          }
        : {
            code: ProbeCode.CONNECT_TIMEOUT,
            message: `TCP connect to the proxy got no answer in ${secs(waited.idleMs)} s`,
          };
    return { outcome: 'proxy-error', error };
  }
  if (waited?.phase === 'dns') {
    return {
      outcome: 'dns-timeout',
      error: {
        code: ProbeCode.DNS_TIMEOUT,
        message: `DNS lookup of ${s.host} gave no answer in ${secs(waited.idleMs)} s`,
      },
    };
  }
  if (waited?.phase === 'connect' && !s.connected) {
    const message = `TCP connect to ${s.address ?? s.host} got no answer in ${secs(waited.idleMs)} s`;
    return { outcome: 'connect-timeout', error: { code: ProbeCode.CONNECT_TIMEOUT, message } };
  }
  if (s.stalled) {
    // Connected but nothing more: the first full-size flight is the server's certificate, so the stall is in TLS.
    const phase: StallPhase = beforeTunnel(s.stalled.phase) ? 'tls' : s.stalled.phase;
    const early = s.stalled.early;
    return {
      outcome: 'stall',
      stall: { phase, afterBytes: s.bytes, idleMs: s.stalled.idleMs, ...(early ? { early } : {}) },
      error: {
        code: ProbeCode.STALL,
        message: `no new bytes for ${secs(s.stalled.idleMs)} s during ${phase}${early ? ` (${early.detail})` : ''}`,
      },
    };
  }
  if (s.deadline)
    return {
      outcome: 'deadline',
      error: { code: ProbeCode.DEADLINE, message: `run deadline reached during ${s.phase}` },
    };
  return classifyThrown(s, s.end.thrown);
}

function classifyThrown(s: ProbeEnd, thrown: Thrown): ProbeVerdict {
  let code = thrown.code ?? thrown.causeCode ?? ProbeCode.UNKNOWN;
  let message = maskSecrets(thrown.message);
  // A connection cut mid-body is reported as a body shorter than its content-length, or as "other side closed"
  // (src/probe/transport.ts keeps those codes); the socket's own error says how it was cut (ECONNRESET: a reset, by the server or a middlebox).
  if (s.socketError && s.bytes > 0 && (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_SOCKET')) {
    message = `${s.socketError === 'ECONNRESET' ? 'connection reset' : `connection failed (${s.socketError})`} after ${s.bytes} bytes of the body (${message})`;
    code = s.socketError;
  }
  // A refused or failed tunnel through a proxy: the proxy, not the target, is at fault.
  const tunnelFailed =
    s.viaProxy &&
    beforeTunnel(s.phase) &&
    (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET');
  return { outcome: tunnelFailed ? 'proxy-error' : classifyError(code, s.viaProxy), error: { code, message } };
}

/** Classify a failure by its code (never by message text) into a probe outcome. */
export function classifyError(code: string | undefined, viaProxy: boolean): ProbeOutcome {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
    case 'EAI_FAIL':
    case 'EAI_AGAIN':
      return viaProxy ? 'proxy-error' : 'dns-failure';
    case ProbeCode.DNS_TIMEOUT:
      return 'dns-timeout';
    case 'ECONNREFUSED':
      return viaProxy ? 'proxy-error' : 'connect-refused';
    case ProbeCode.CONNECT_TIMEOUT:
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return viaProxy ? 'proxy-error' : 'connect-timeout';
    case 'UND_ERR_PRX_TLS':
    case ProbeCode.PROXY_TUNNEL:
      return 'proxy-error';
    case ProbeCode.REDIRECT_LOOP:
    case ProbeCode.REDIRECT_DOWNGRADE:
    case ProbeCode.REDIRECT_LIMIT:
    case ProbeCode.REDIRECT_BAD:
      return 'redirect-error';
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'HPE_HEADER_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
      return 'http-error';
    default:
      return code && isTlsCode(code) ? 'tls-error' : 'error';
  }
}
