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
 * This file sequences the I/O: the watchdog (watchdog.ts), then each request on its own connection (transport.ts:
 * direct through connector.ts, or through the proxy's tunnel, proxy-tunnel.ts), its redirects and the body; how the
 * probe ended is decided by classifyProbeEnd (outcome.ts), from what the session (session.ts) observed.
 */
import type http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import { ProbeCode, ProbeError } from '../model/errors.js';
import { proxyFor } from '../model/proxy.js';
import type { ProbeResult, TcpInfo } from '../model/report.js';
import { redactUrl } from '../util/redact.js';
import type { Target } from './catalog.js';
import { classifyProbeEnd, describeThrown, type ProbeEnd } from './outcome.js';
import { ProbeSession } from './session.js';
import { bodyError, get, type Transport } from './transport.js';
import type { EarlyDeps } from './early.js';
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
  /** What else may end a stall before the stall timeout (src/probe/early.ts): /proc/net, the outer handshake. */
  early?: EarlyDeps;
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

/**
 * One TLS context per CA list (the run's, shared by its probes): a context built from `ca` parses every root
 * certificate (~140 PEMs) and keeps its own store, so one per connection cost each probe a few MB and the CPU of
 * parsing them again.
 */
const contexts = new WeakMap<string[], tls.SecureContext>();
function contextFor(ca: string[]): tls.SecureContext {
  let c = contexts.get(ca);
  if (!c) contexts.set(ca, (c = tls.createSecureContext({ ca })));
  return c;
}

/** Run one probe. Never throws; always returns by settings.deadline (plus a few ms). */
export async function probeTarget(target: Target, settings: ProbeSettings, deps: ProbeDeps): Promise<ProbeResult> {
  const url = new URL(target.url);
  const session = new ProbeSession(newResult(target, url, settings.insecure), deps.now, settings.onUpdate);
  const result = session.result;
  const tlsOptions: tls.ConnectionOptions = {
    rejectUnauthorized: !settings.insecure,
    ...(settings.ca ? { secureContext: contextFor(settings.ca) } : {}),
  };
  const proxyUrl = proxyFor(url.protocol, deps.env);
  const sockets: net.Socket[] = [];
  const transport: Transport = {
    session,
    lookup: deps.lookup,
    ...(settings.family ? { family: settings.family } : {}),
    tlsOptions,
    env: deps.env,
    headers: HEADERS,
    opened: (s) => sockets.push(s),
  };
  const abort = new AbortController();
  const stopWatchdog = startWatchdog({
    session,
    now: deps.now,
    stallTimeoutMs: settings.stallTimeoutMs,
    deadline: settings.deadline,
    abort,
    ...(deps.tcpInfo ? { tcpInfo: deps.tcpInfo } : {}),
    ...(deps.early ? { early: deps.early } : {}),
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
    const ends = { aborted, snapshot };
    end = { status: await fetchFinal(transport, url, ends, settings.maxBytes) };
  } catch (err) {
    if (result.bytes > 0) result.samples.push([session.elapsed(), result.bytes]);
    end = { thrown: describeThrown(err) };
  } finally {
    session.settled = true;
    stopWatchdog();
    // Every socket this probe opened, also those of a connection still being set up (the watchdog ended it).
    for (const s of [...sockets, session.socket, session.proxySocket]) s?.destroy();
  }
  // Through the proxy, unless NO_PROXY sent the request direct.
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
 * status; throws what ended it otherwise (the watchdog's ProbeError through `aborted`, a refused redirect, the
 * transport's error).
 */
async function fetchFinal(
  transport: Transport,
  url: URL,
  ends: { aborted: Promise<never>; snapshot: () => Promise<void> },
  maxBytes: number,
): Promise<number> {
  const { aborted } = ends;
  const session = transport.session;
  const result = session.result;
  let current = url;
  const visited = new Set<string>([current.toString()]);
  for (let hop = 0; ; hop++) {
    const res = await Promise.race([get(transport, current), aborted]);
    const statusCode = res.statusCode ?? 0;
    result.phases.ttfbMs = session.elapsed();
    result.status = statusCode;
    session.progress('body');
    if (statusCode >= 300 && statusCode < 400 && res.headers.location) {
      discard(res);
      const next = resolveRedirect(current, String(res.headers.location), visited, hop);
      (result.redirects ??= []).push(redactUrl(next.toString()));
      visited.add(next.toString());
      current = next;
      continue;
    }
    if (statusCode >= 400) {
      const ra = res.headers['retry-after'];
      if (ra) result.retryAfter = String(ra);
      discard(res);
      return statusCode;
    }
    await Promise.race([readBody(session, res, maxBytes, ends.snapshot), aborted]);
    result.samples.push([session.elapsed(), result.bytes]);
    return statusCode;
  }
}

/** Drain a body nobody reads (a redirect's, an error page's), ignoring how it ends. */
function discard(body: http.IncomingMessage): void {
  body.on('error', () => undefined);
  body.resume();
}

/** Count the body's bytes, sampled every SAMPLE_EVERY_MS, until it ends or maxBytes is reached. */
async function readBody(
  session: ProbeSession,
  body: http.IncomingMessage,
  maxBytes: number,
  snapshot: () => Promise<void>,
): Promise<void> {
  try {
    await countBody(session, body, maxBytes, snapshot);
  } catch (err) {
    throw bodyError(body, err as NodeJS.ErrnoException);
  }
}

async function countBody(
  session: ProbeSession,
  body: http.IncomingMessage,
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
