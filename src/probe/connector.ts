/**
 * Our own connector for direct connections, so that DNS, TCP and TLS are timed separately and DNS never
 * holds the run past its deadline: getaddrinfo cannot be cancelled, we just stop waiting.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ProbeCode, ProbeError } from '../model/errors.js';
import type { LookupAddress } from './download.js';
import type { ProbeSession } from './session.js';

export interface ConnectOptions {
  hostname: string;
  host?: string;
  protocol: string;
  port: string;
  servername?: string;
}
export type ConnectCallback = (err: Error | null, socket: net.Socket | tls.TLSSocket | null) => void;

export interface ConnectorContext {
  session: ProbeSession;
  lookup: (host: string) => Promise<LookupAddress[]>;
  /** Only this address family (the second probe of a dual-stack name). */
  family?: 4 | 6;
  tlsOptions: tls.ConnectionOptions;
}

/** undici's `connect` option: resolve, connect, then TLS for https, each phase recorded in the session. */
export function createConnector(ctx: ConnectorContext): (opts: ConnectOptions, cb: ConnectCallback) => void {
  const { session } = ctx;
  const result = session.result;
  return (opts, cb) => {
    session.directUsed = true;
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    session.remotePort = port;
    resolveAddress(ctx, host)
      .then((addr) => {
        if (session.settled) return cb(new ProbeError(ProbeCode.ABORTED, 'probe ended'), null);
        if (!net.isIP(host)) result.phases.dnsMs ??= session.elapsed();
        result.address = addr.address;
        result.family = addr.family;
        session.progress('connect');
        const sock = net.connect({ host: addr.address, port, family: addr.family });
        session.socket = sock;
        sock.setNoDelay(true);
        sock.once('error', (err) => cb(err, null));
        sock.once('connect', () => {
          result.phases.connectMs ??= session.elapsed();
          if (opts.protocol !== 'https:') {
            session.progress('headers');
            sock.removeAllListeners('error');
            sock.on('error', session.noteSocketError);
            return cb(null, sock);
          }
          startTls(ctx, sock, host, opts.servername, cb);
        });
      })
      .catch((err: Error) => cb(err, null));
  };
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

function startTls(
  ctx: ConnectorContext,
  sock: net.Socket,
  host: string,
  servername: string | undefined,
  cb: ConnectCallback,
): void {
  const { session } = ctx;
  session.progress('tls');
  const sni = servername || (net.isIP(host) ? undefined : host);
  // `host` too: with a socket given, it is what the certificate is checked against (default 'localhost'),
  // so an address literal is matched against the certificate's IP SANs.
  const tlsSock = tls.connect({
    ...ctx.tlsOptions,
    socket: sock,
    host,
    ...(sni ? { servername: sni } : {}),
    ALPNProtocols: ['http/1.1'],
  });
  tlsSock.once('error', (err) => cb(err, null));
  tlsSock.once('secureConnect', () => {
    session.result.phases.tlsMs ??= session.elapsed();
    session.progress('headers');
    tlsSock.removeAllListeners('error');
    sock.removeAllListeners('error');
    tlsSock.on('error', session.noteSocketError);
    sock.on('error', session.noteSocketError);
    cb(null, tlsSock);
  });
}
