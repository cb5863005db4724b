/**
 * The large-payload probe: one fresh connection per target, timed phase by phase
 * (DNS, TCP connect, TLS handshake, first byte, bytes over time), ended by a byte cap,
 * by success, by a stall watchdog, or by the run's deadline.
 *
 * A path-MTU black hole has a precise signature here: TCP connects (SYN/ACK are small),
 * then nothing more arrives, because the server's full-size segments (its certificate
 * flight, or the body) are dropped on the way. So the watchdog records *which* phase
 * stalled and how many bytes had arrived, and asks the kernel (ss -tin) what the socket saw.
 *
 * This file does the I/O and sequences it: the connector (connector.ts), the proxy watch (proxy-watch.ts),
 * the watchdog (watchdog.ts), then the request, its redirects and the body; how the probe ended is
 * decided by classifyProbeEnd (outcome.ts), from what the session (session.ts) observed.
 */
import type tls from 'node:tls';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { ProbeCode, ProbeError } from '../model/errors.js';
import { proxyFor, proxySettings } from '../model/proxy.js';
import type { ProbeResult, TcpInfo } from '../model/report.js';
import { redactUrl } from '../util/redact.js';
import type { Target } from './catalog.js';
import { createConnector } from './connector.js';
import { classifyProbeEnd, describeThrown, type ProbeEnd } from './outcome.js';
import { watchProxy } from './proxy-watch.js';
import { ProbeSession } from './session.js';
import { snapshotSocket, startWatchdog } from './watchdog.js';

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
const HEADERS = {
  'user-agent': 'mtu-preflight (+https://github.com/mtu-preflight/mtu-preflight)',
  accept: '*/*',
  'accept-encoding': 'identity',
};

/** Run one probe. Never throws; always returns by settings.deadline (plus a few ms). */
export async function probeTarget(target: Target, settings: ProbeSettings, deps: ProbeDeps): Promise<ProbeResult> {
  const url = new URL(target.url);
  const session = new ProbeSession(newResult(target, url, settings.insecure), deps.now, settings.onUpdate);
  const result = session.result;
  const tlsOptions: tls.ConnectionOptions = {
    rejectUnauthorized: !settings.insecure,
    ...(settings.ca ? { ca: settings.ca } : {}),
  };
  const proxyWatch = watchProxy(session, url.protocol);
  const proxyUrl = proxyFor(url.protocol, deps.env);
  const dispatcher: Dispatcher = new EnvHttpProxyAgent({
    connect: createConnector({
      session,
      lookup: deps.lookup,
      ...(settings.family ? { family: settings.family } : {}),
      tlsOptions,
    }) as never,
    clientFactory: proxyWatch.clientFactory,
    requestTls: { ...tlsOptions, ALPNProtocols: ['http/1.1'] } as never,
    proxyTls: tlsOptions as never,
    ...proxySettings(deps.env),
    pipelining: 0,
    connections: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const abort = new AbortController();
  const stopWatchdog = startWatchdog({
    session,
    now: deps.now,
    stallTimeoutMs: settings.stallTimeoutMs,
    deadline: settings.deadline,
    abort,
    ...(deps.tcpInfo ? { tcpInfo: deps.tcpInfo } : {}),
  });
  const aborted = new Promise<never>((_, reject) => {
    abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);

  let end: ProbeEnd['end'];
  try {
    // A download that worked: the socket's MSS and path MTU say what made the server's segments fit (PMTUD, a clamp
    // on the path, a route exception: src/diagnose/mechanism.ts). Read before the body is torn down, with time left.
    const snapshot = async () => {
      if (settings.deadline - deps.now() > 1000)
        await snapshotSocket({ session, ...(deps.tcpInfo ? { tcpInfo: deps.tcpInfo } : {}) });
    };
    const ends = { signal: abort.signal, aborted, snapshot };
    end = { status: await fetchFinal(session, url, dispatcher, ends, settings.maxBytes) };
  } catch (err) {
    if (result.bytes > 0) result.samples.push([session.elapsed(), result.bytes]);
    end = { thrown: describeThrown(err) };
  } finally {
    session.settled = true;
    stopWatchdog();
    proxyWatch.stop();
    session.socket?.destroy();
    // destroy() rather than close(): close() waits for in-flight requests that may never end.
    void dispatcher.destroy().catch(() => undefined);
  }
  // Through the proxy, unless NO_PROXY sent the request to our connector.
  const viaProxy = !!proxyUrl && !session.directUsed;
  // A failure names the proxy it went through (the proxy may be what failed), and so does a success;
  // a 4xx/5xx answer has never named it.
  if (viaProxy && 'thrown' in end) result.viaProxy = redactUrl(proxyUrl);
  const verdict = classifyProbeEnd(session.ending(end, viaProxy));
  session.finish(verdict);
  if (viaProxy && verdict.outcome === 'ok') result.viaProxy = redactUrl(proxyUrl);
  return result;
}

function newResult(target: Target, url: URL, insecure: boolean): ProbeResult {
  return {
    target: target.id,
    url: redactUrl(target.url),
    // An IPv6 literal without its URL brackets, as it is written everywhere else.
    host: url.hostname.replace(/^\[|\]$/g, ''),
    outcome: 'error',
    phases: {},
    bytes: 0,
    capped: false,
    samples: [],
    ...(insecure ? { insecure: true } : {}),
  };
}

/**
 * GET the URL, following redirects, and read the final body to its end or to maxBytes. Returns the final
 * status; throws what ended it otherwise (the watchdog's ProbeError through `aborted`, a refused redirect, undici's error).
 */
async function fetchFinal(
  session: ProbeSession,
  url: URL,
  dispatcher: Dispatcher,
  ends: { signal: AbortSignal; aborted: Promise<never>; snapshot: () => Promise<void> },
  maxBytes: number,
): Promise<number> {
  const { signal, aborted } = ends;
  const result = session.result;
  let current = url;
  const visited = new Set<string>([current.toString()]);
  for (let hop = 0; ; hop++) {
    const res = await Promise.race([
      dispatcher.request({
        origin: current.origin,
        path: current.pathname + current.search,
        method: 'GET',
        headers: HEADERS,
        signal,
      }),
      aborted,
    ]);
    result.phases.ttfbMs = session.elapsed();
    result.status = res.statusCode;
    session.progress('body');
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      discard(res.body);
      const next = resolveRedirect(current, String(res.headers.location), visited, hop);
      (result.redirects ??= []).push(redactUrl(next.toString()));
      visited.add(next.toString());
      current = next;
      continue;
    }
    if (res.statusCode >= 400) {
      const ra = res.headers['retry-after'];
      if (ra) result.retryAfter = String(ra);
      discard(res.body);
      return res.statusCode;
    }
    await Promise.race([readBody(session, res.body, maxBytes, ends.snapshot), aborted]);
    result.samples.push([session.elapsed(), result.bytes]);
    return res.statusCode;
  }
}

/** Drain a body nobody reads (a redirect's, an error page's), ignoring how it ends. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.resume();
  body.on('error', () => undefined);
}

/** Count the body's bytes, sampled every SAMPLE_EVERY_MS, until it ends or maxBytes is reached. */
async function readBody(
  session: ProbeSession,
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  snapshot: () => Promise<void>,
): Promise<void> {
  const result = session.result;
  let nextSample = 0;
  for await (const chunk of body) {
    result.bytes += (chunk as Buffer).length;
    const t = session.elapsed();
    session.touch();
    if (t >= nextSample) {
      result.samples.push([t, result.bytes]);
      nextSample = t + SAMPLE_EVERY_MS;
      session.update();
    }
    if (result.bytes >= maxBytes) {
      result.capped = true;
      await snapshot();
      body.destroy();
      return;
    }
  }
  await snapshot();
}

function resolveRedirect(from: URL, location: string, visited: Set<string>, hop: number): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new ProbeError(ProbeCode.REDIRECT_BAD, `redirect to an invalid location '${location}'`);
  }
  if (from.protocol === 'https:' && next.protocol !== 'https:') {
    throw new ProbeError(
      ProbeCode.REDIRECT_DOWNGRADE,
      `redirect from https to ${next.protocol}//${next.host}: refused (a package client would be downgraded)`,
    );
  }
  if (visited.has(next.toString()))
    throw new ProbeError(ProbeCode.REDIRECT_LOOP, `redirect loop back to ${redactUrl(next.toString())}`);
  if (hop + 1 >= MAX_REDIRECTS) throw new ProbeError(ProbeCode.REDIRECT_LIMIT, `more than ${MAX_REDIRECTS} redirects`);
  return next;
}
