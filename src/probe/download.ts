/**
 * The large-payload probe: one fresh connection per target, timed phase by phase
 * (DNS, TCP connect, TLS handshake, first byte, bytes over time), ended by a byte cap,
 * by success, by a stall watchdog, or by the run's deadline.
 *
 * A path-MTU black hole has a precise signature here: TCP connects (SYN/ACK are small),
 * then nothing more arrives, because the server's full-size segments (its certificate
 * flight, or the body) are dropped on the way. So the watchdog records *which* phase
 * stalled and how many bytes had arrived, and asks the kernel (ss -tin) what the socket saw.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import tls from 'node:tls';
import { EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici';
import type { ProbeOutcome, ProbeResult, StallPhase, TcpInfo } from '../model/report.js';
import type { Target } from './catalog.js';
import { maskSecrets, redactUrl } from '../util/redact.js';

export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

export interface ProbeDeps {
  /** Resolves a host name; default dns.promises.lookup({ all: true }). Cannot be cancelled, so never awaited past the deadline. */
  lookup: (host: string) => Promise<LookupAddress[]>;
  /** Reads the kernel's view of a TCP socket (ss -tin), or undefined where it cannot. */
  tcpInfo?: (local: { port: number }, remote: { address: string; port: number }) => Promise<TcpInfo | undefined>;
  now: () => number;
  env: NodeJS.ProcessEnv;
}

export interface ProbeSettings {
  stallTimeoutMs: number;
  maxBytes: number;
  /** Absolute time (deps.now()) by which the probe must have returned. */
  deadline: number;
  /** CA bundle to trust instead of the defaults (already includes the defaults when extended). */
  ca?: string[];
  insecure: boolean;
  /** Force one address family (used to probe each family of a dual-stack host). */
  family?: 4 | 6;
  /** Called whenever the probe makes progress (for live output). */
  onUpdate?: (r: ProbeResult) => void;
}

const SAMPLE_EVERY_MS = 100;
const MAX_REDIRECTS = 5;

class ProbeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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
    case 'DNS_TIMEOUT':
      return 'dns-timeout';
    case 'ECONNREFUSED':
      return viaProxy ? 'proxy-error' : 'connect-refused';
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return viaProxy ? 'proxy-error' : 'connect-timeout';
    case 'UND_ERR_PRX_TLS':
    case 'PROXY_TUNNEL':
      return 'proxy-error';
    case 'REDIRECT_LOOP':
    case 'REDIRECT_DOWNGRADE':
    case 'REDIRECT_LIMIT':
    case 'REDIRECT_BAD':
      return 'redirect-error';
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'HPE_HEADER_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
      return 'http-error';
  }
  if (code && (isTlsCode(code) || code.startsWith('ERR_SSL') || code === 'EPROTO')) return 'tls-error';
  return 'error';
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'ERR_TLS_INVALID_PROTOCOL_VERSION',
]);

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code);
}

function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  const p = url.protocol === 'https:' ? (env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY) : (env.http_proxy ?? env.HTTP_PROXY);
  return p || undefined;
}

/** Run one probe. Never throws; always returns by settings.deadline (plus a few ms). */
export async function probeTarget(target: Target, settings: ProbeSettings, deps: ProbeDeps): Promise<ProbeResult> {
  const start = deps.now();
  const url = new URL(target.url);
  const result: ProbeResult = {
    target: target.id,
    url: redactUrl(target.url),
    // An IPv6 literal without its URL brackets, as it is written everywhere else.
    host: url.hostname.replace(/^\[|\]$/g, ''),
    outcome: 'error',
    phases: {},
    bytes: 0,
    capped: false,
    samples: [],
    ...(settings.insecure ? { insecure: true } : {}),
  };
  const elapsed = () => deps.now() - start;

  // Connection state shared between our connector, the watchdog and the body loop.
  // 'proxy': connected to the proxy, waiting for its answer to CONNECT.
  let phase: StallPhase | 'dns' | 'proxy' = 'dns';
  let lastProgress = deps.now();
  let socket: net.Socket | undefined;
  let proxySocket: net.Socket | undefined;
  let remotePort = 0;
  let directUsed = false;
  let settled = false;
  /** The first error the socket itself reported: undici turns a reset mid-body into a content-length mismatch. */
  let socketError: string | undefined;
  const noteSocketError = (err: NodeJS.ErrnoException) => {
    socketError ??= err.code;
  };
  const progress = (p: typeof phase) => {
    phase = p;
    lastProgress = deps.now();
    settings.onUpdate?.(result);
  };

  const tlsOptions: tls.ConnectionOptions = {
    rejectUnauthorized: !settings.insecure,
    ...(settings.ca ? { ca: settings.ca } : {}),
  };

  // Our own connector (for direct connections) so that DNS, TCP and TLS are timed separately
  // and DNS never holds the run past its deadline: getaddrinfo cannot be cancelled, we just stop waiting.
  const connector = (
    opts: { hostname: string; host?: string; protocol: string; port: string; servername?: string },
    cb: (err: Error | null, socket: net.Socket | tls.TLSSocket | null) => void,
  ) => {
    directUsed = true;
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    remotePort = port;
    const resolve = async (): Promise<LookupAddress> => {
      const ipFamily = net.isIP(host);
      if (ipFamily) return { address: host, family: ipFamily as 4 | 6 };
      progress('dns');
      const addrs = await deps.lookup(host);
      const pick = settings.family ? addrs.find((a) => a.family === settings.family) : addrs[0];
      if (!pick) throw Object.assign(new Error(`${host} has no IPv${settings.family ?? ''} address`), { code: 'ENOTFOUND' });
      return pick;
    };
    resolve()
      .then((addr) => {
        if (settled) return cb(new ProbeError('ABORTED', 'probe ended'), null);
        if (!net.isIP(host)) result.phases.dnsMs ??= elapsed();
        result.address = addr.address;
        result.family = addr.family;
        progress('connect');
        const sock = net.connect({ host: addr.address, port, family: addr.family });
        socket = sock;
        sock.setNoDelay(true);
        sock.once('error', (err) => cb(err, null));
        sock.once('connect', () => {
          result.phases.connectMs ??= elapsed();
          if (opts.protocol !== 'https:') {
            progress('headers');
            sock.removeAllListeners('error');
            sock.on('error', noteSocketError);
            return cb(null, sock);
          }
          progress('tls');
          const servername = opts.servername || (net.isIP(host) ? undefined : host);
          // `host` too: with a socket given, it is what the certificate is checked against (default 'localhost'),
          // so an address literal is matched against the certificate's IP SANs.
          const tlsSock = tls.connect({ ...tlsOptions, socket: sock, host, ...(servername ? { servername } : {}), ALPNProtocols: ['http/1.1'] });
          tlsSock.once('error', (err) => cb(err, null));
          tlsSock.once('secureConnect', () => {
            result.phases.tlsMs ??= elapsed();
            progress('headers');
            tlsSock.removeAllListeners('error');
            sock.removeAllListeners('error');
            tlsSock.on('error', noteSocketError);
            sock.on('error', noteSocketError);
            cb(null, tlsSock);
          });
        });
      })
      .catch((err: Error) => cb(err, null));
  };

  // Through a proxy our connector is not used (undici tunnels with its own). The proxy's connection is watched through
  // the client factory, and the tunnel through undici's diagnostics channels, matched by socket: a proxy that never
  // answers is then a proxy-error, and a stall inside the tunnel is a stall with its phase.
  type Connect = (o: unknown, cb: (err: Error | null, s: net.Socket | null) => void) => void;
  const proxyClientFactory = (origin: URL, o: { connect: Connect }) =>
    new Pool(origin, {
      ...o,
      connect: ((co: unknown, cb: (err: Error | null, s: net.Socket | null) => void) => {
        progress('connect');
        o.connect(co, (err, s) => {
          if (s) {
            proxySocket = s;
            s.on('error', noteSocketError);
            progress('proxy');
          }
          cb(err, s);
        });
      }) as never,
    });
  const onTunnel = (m: unknown) => {
    if ((m as { socket?: unknown }).socket === proxySocket && proxySocket) progress(url.protocol === 'https:' ? 'tls' : 'headers');
  };
  const onConnected = (m: unknown) => {
    const s = (m as { socket?: { _parent?: unknown } }).socket;
    if (proxySocket && s?._parent === proxySocket) {
      result.phases.tlsMs ??= elapsed();
      progress('headers');
    }
  };
  diagnosticsChannel.subscribe('undici:proxy:connected', onTunnel);
  diagnosticsChannel.subscribe('undici:client:connected', onConnected);

  const proxyUrl = proxyFor(url, deps.env);
  const dispatcher: Dispatcher = new EnvHttpProxyAgent({
    connect: connector as never,
    clientFactory: proxyClientFactory as never,
    requestTls: { ...tlsOptions, ALPNProtocols: ['http/1.1'] } as never,
    proxyTls: tlsOptions as never,
    httpProxy: deps.env.http_proxy ?? deps.env.HTTP_PROXY ?? '',
    httpsProxy: deps.env.https_proxy ?? deps.env.HTTPS_PROXY ?? '',
    noProxy: deps.env.no_proxy ?? deps.env.NO_PROXY ?? '',
    pipelining: 0,
    connections: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  const abort = new AbortController();
  let stalled: { phase: StallPhase | 'dns' | 'proxy'; idleMs: number } | undefined;
  let deadlineHit = false;

  const finish = (outcome: ProbeOutcome) => {
    result.outcome = outcome;
    result.phases.doneMs = elapsed();
    const bodyStart = result.phases.ttfbMs;
    if (result.bytes > 0 && bodyStart !== undefined && result.phases.doneMs > bodyStart) {
      result.throughputBps = Math.round((result.bytes * 1000) / (result.phases.doneMs - bodyStart));
    }
  };

  // The watchdog: no progress for stallTimeoutMs is a stall; the deadline ends everything.
  let stallSnapshot: Promise<void> | undefined;
  const watchdog = setInterval(() => {
    const now = deps.now();
    if (now >= settings.deadline) {
      deadlineHit = true;
      abort.abort(new ProbeError('DEADLINE', 'run deadline reached'));
      return;
    }
    if (!stalled && now - lastProgress >= settings.stallTimeoutMs) {
      stalled = { phase, idleMs: now - lastProgress };
      // Ask the kernel what this socket saw before we tear it down: out-of-order segments
      // behind a gap are the tail of a flight whose full-size segments were dropped.
      const s = socket;
      if (deps.tcpInfo && s && s.localPort && result.address && phase !== 'dns' && phase !== 'connect') {
        stallSnapshot = deps
          .tcpInfo({ port: s.localPort }, { address: result.address, port: remotePort })
          .then((info) => {
            if (info) result.tcpInfo = info;
          })
          .catch(() => undefined);
      }
      const kill = () => abort.abort(new ProbeError('STALL', `no progress for ${settings.stallTimeoutMs} ms`));
      if (stallSnapshot) void stallSnapshot.finally(kill);
      else kill();
    }
  }, 50);
  watchdog.unref?.();

  const abortedPromise = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
  });
  abortedPromise.catch(() => undefined);

  try {
    let current = url;
    const visited = new Set<string>([current.toString()]);
    for (let hop = 0; ; hop++) {
      const res = await Promise.race([
        dispatcher.request({
          origin: current.origin,
          path: current.pathname + current.search,
          method: 'GET',
          headers: { 'user-agent': 'mtu-preflight (+https://github.com/mtu-preflight/mtu-preflight)', accept: '*/*', 'accept-encoding': 'identity' },
          signal: abort.signal,
        }),
        abortedPromise,
      ]);
      result.phases.ttfbMs = elapsed();
      result.status = res.statusCode;
      progress('body');
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        res.body.resume();
        res.body.on('error', () => undefined);
        const next = resolveRedirect(current, String(res.headers.location), visited, hop);
        (result.redirects ??= []).push(redactUrl(next.toString()));
        visited.add(next.toString());
        current = next;
        continue;
      }
      if (res.statusCode >= 400) {
        const ra = res.headers['retry-after'];
        if (ra) result.retryAfter = String(ra);
        res.body.resume();
        res.body.on('error', () => undefined);
        finish('http-error');
        return result;
      }
      let nextSample = 0;
      const body = res.body;
      await Promise.race([
        (async () => {
          for await (const chunk of body) {
            result.bytes += (chunk as Buffer).length;
            const t = elapsed();
            lastProgress = deps.now();
            if (t >= nextSample) {
              result.samples.push([t, result.bytes]);
              nextSample = t + SAMPLE_EVERY_MS;
              settings.onUpdate?.(result);
            }
            if (result.bytes >= settings.maxBytes) {
              result.capped = true;
              body.destroy();
              break;
            }
          }
        })(),
        abortedPromise,
      ]);
      result.samples.push([elapsed(), result.bytes]);
      finish('ok');
      return result;
    }
  } catch (err) {
    const e = err as { code?: string; message?: string; cause?: { code?: string } };
    const viaProxy = !!proxyUrl && !directUsed;
    if (viaProxy) result.viaProxy = redactUrl(proxyUrl!);
    if (result.bytes > 0) result.samples.push([elapsed(), result.bytes]);
    const secs = (ms: number) => Math.round(ms / 100) / 10;
    // Waiting ended by the stall watchdog or by the deadline: the phase it ended in names what never answered.
    const waited = stalled ?? (deadlineHit ? { phase, idleMs: deps.now() - lastProgress } : undefined);
    const beforeTunnel = viaProxy && (phase === 'dns' || phase === 'connect' || phase === 'proxy');
    if (waited && viaProxy && (waited.phase === 'dns' || waited.phase === 'connect' || waited.phase === 'proxy')) {
      result.error =
        waited.phase === 'proxy'
          ? { code: 'PROXY_TIMEOUT', message: `the proxy accepted the TCP connection but did not answer the CONNECT request in ${secs(waited.idleMs)} s` }
          : { code: 'CONNECT_TIMEOUT', message: `TCP connect to the proxy got no answer in ${secs(waited.idleMs)} s` };
      finish('proxy-error');
    } else if (waited?.phase === 'dns') {
      result.error = { code: 'DNS_TIMEOUT', message: `DNS lookup of ${result.host} gave no answer in ${secs(waited.idleMs)} s` };
      finish('dns-timeout');
    } else if (waited?.phase === 'connect' && !result.phases.connectMs) {
      result.error = { code: 'CONNECT_TIMEOUT', message: `TCP connect to ${result.address ?? result.host} got no answer in ${secs(waited.idleMs)} s` };
      finish('connect-timeout');
    } else if (stalled) {
      const stallPhase: StallPhase = stalled.phase === 'connect' || stalled.phase === 'dns' || stalled.phase === 'proxy' ? 'tls' : stalled.phase;
      result.stall = { phase: stallPhase, afterBytes: result.bytes, idleMs: stalled.idleMs };
      result.error = { code: 'STALL', message: `no new bytes for ${secs(stalled.idleMs)} s during ${result.stall.phase}` };
      finish('stall');
    } else if (deadlineHit) {
      result.error = { code: 'DEADLINE', message: `run deadline reached during ${phase}` };
      finish('deadline');
    } else {
      let code = e.code ?? e.cause?.code ?? 'UNKNOWN';
      let message = maskSecrets(e.message ?? String(err));
      // undici reports a connection cut mid-body as a body shorter than its content-length, or as "other side
      // closed"; the socket's own error says how it was cut (ECONNRESET: a reset, by the server or a middlebox).
      if (socketError && result.bytes > 0 && (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_SOCKET')) {
        message = `${socketError === 'ECONNRESET' ? 'connection reset' : `connection failed (${socketError})`} after ${result.bytes} bytes of the body (${message})`;
        code = socketError;
      }
      result.error = { code, message };
      // A refused or failed tunnel through a proxy: the proxy, not the target, is at fault.
      const isTunnelFailure = beforeTunnel && (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET');
      finish(isTunnelFailure ? 'proxy-error' : classifyError(code, viaProxy));
    }
    return result;
  } finally {
    if (proxyUrl && !directUsed && !result.viaProxy && result.outcome === 'ok') result.viaProxy = redactUrl(proxyUrl);
    settled = true;
    clearInterval(watchdog);
    diagnosticsChannel.unsubscribe('undici:proxy:connected', onTunnel);
    diagnosticsChannel.unsubscribe('undici:client:connected', onConnected);
    socket?.destroy();
    // destroy() rather than close(): close() waits for in-flight requests that may never end.
    void dispatcher.destroy().catch(() => undefined);
  }
}

function resolveRedirect(from: URL, location: string, visited: Set<string>, hop: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new ProbeError('REDIRECT_BAD', `redirect to an invalid location '${location}'`);
  }
  if (from.protocol === 'https:' && next.protocol !== 'https:') {
    throw new ProbeError('REDIRECT_DOWNGRADE', `redirect from https to ${next.protocol}//${next.host}: refused (a package client would be downgraded)`);
  }
  if (visited.has(next.toString())) throw new ProbeError('REDIRECT_LOOP', `redirect loop back to ${redactUrl(next.toString())}`);
  if (hop + 1 >= MAX_REDIRECTS) throw new ProbeError('REDIRECT_LIMIT', `more than ${MAX_REDIRECTS} redirects`);
  return next;
}
