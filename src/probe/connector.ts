/**
 * The direct connection to a target, so that DNS, TCP and TLS are timed separately and DNS never holds the run past
 * its deadline: getaddrinfo cannot be cancelled, we just stop waiting. The TLS step is shared with the proxy tunnel
 * (proxy-tunnel.ts), which runs the target's handshake over the proxy's socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ProbeCode, ProbeError } from '../model/errors.js';
import type { LookupAddress } from './download.js';
import type { ProbeSession } from './session.js';

export interface ConnectorContext {
  session: ProbeSession;
  lookup: (host: string) => Promise<LookupAddress[]>;
  /** Only this address family (the second probe of a dual-stack name). */
  family?: 4 | 6;
  tlsOptions: tls.ConnectionOptions;
}

/** The URL's host without the brackets of an IPv6 literal, and its port (the protocol's default if none). */
export function hostAndPort(url: URL): { host: string; port: number } {
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
  };
}

/** Resolve, connect, then TLS for https, each phase recorded in the session. */
export async function connectDirect(ctx: ConnectorContext, url: URL): Promise<net.Socket> {
  const { session } = ctx;
  const result = session.result;
  session.directUsed = true;
  const { host, port } = hostAndPort(url);
  session.remotePort = port;
  const addr = await resolveAddress(ctx, host);
  if (session.settled) throw new ProbeError(ProbeCode.ABORTED, 'probe ended');
  if (!net.isIP(host)) result.phases.dnsMs ??= session.elapsed();
  result.address = addr.address;
  result.family = addr.family;
  session.progress('connect');
  const sock = net.connect({ host: addr.address, port, family: addr.family });
  session.socket = sock;
  sock.setNoDelay(true);
  await connected(sock);
  result.phases.connectMs ??= session.elapsed();
  if (url.protocol !== 'https:') {
    session.progress('headers');
    sock.on('error', session.noteSocketError);
    return sock;
  }
  return startTls(ctx, sock, host);
}

/** Settles when the socket connects, or fails with its error (the listener is removed either way). */
export function connected(sock: net.Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.removeListener('error', onError);
      resolve();
    });
  });
}

async function resolveAddress(ctx: ConnectorContext, host: string): Promise<LookupAddress> {
  const ipFamily = net.isIP(host);
  if (ipFamily) return { address: host, family: ipFamily as 4 | 6 };
  ctx.session.progress('dns');
  const addrs = await ctx.lookup(host);
  const pick = ctx.family ? addrs.find((a) => a.family === ctx.family) : addrs[0];
  if (!pick) throw Object.assign(new Error(`${host} has no IPv${ctx.family ?? ''} address`), { code: 'ENOTFOUND' });
  return pick;
}

/** The target's TLS handshake on `sock` (ours, or the proxy's tunnel), timed as the tls phase. */
export function startTls(
  ctx: Pick<ConnectorContext, 'session' | 'tlsOptions'>,
  sock: net.Socket,
  host: string,
): Promise<tls.TLSSocket> {
  const { session } = ctx;
  session.progress('tls');
  const sni = net.isIP(host) ? undefined : host;
  // `host` too: with a socket given, it is what the certificate is checked against (default 'localhost'),
  // so an address literal is matched against the certificate's IP SANs.
  const tlsSock = tls.connect({
    ...ctx.tlsOptions,
    socket: sock,
    host,
    ...(sni ? { servername: sni } : {}),
    ALPNProtocols: ['http/1.1'],
  });
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    tlsSock.once('error', onError);
    sock.once('error', onError);
    tlsSock.once('secureConnect', () => {
      session.result.phases.tlsMs ??= session.elapsed();
      session.progress('headers');
      tlsSock.removeListener('error', onError);
      sock.removeListener('error', onError);
      tlsSock.on('error', session.noteSocketError);
      sock.on('error', session.noteSocketError);
      resolve(tlsSock);
    });
  });
}
