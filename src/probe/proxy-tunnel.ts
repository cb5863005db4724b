/**
 * Through a proxy: connect to it (the connect phase), ask it for a tunnel with CONNECT (the proxy phase: it has the
 * TCP connection and owes an answer), then the target's TLS over the tunnel (or, for http, the request itself).
 * Always a tunnel, also for http targets, as undici's ProxyAgent did and as npm's and pip's proxies expect.
 *
 * Which requests go through the proxy follows the rules undici's EnvHttpProxyAgent applied, which the report has
 * always described (src/model/proxy.ts picks the variable): NO_PROXY entries split on commas and white space, an
 * optional :port, a leading `.` or `*.` dropped, the name itself or any name under it, and `*` for every host.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { connected, hostAndPort, startTls, type ConnectorContext } from './connector.js';

/** undici's code for a refused tunnel: a report from before this file gave it, so it stays (the JSON contract). */
export const TUNNEL_REFUSED_CODE = 'UND_ERR_ABORTED';
/** undici's code for a failed TLS handshake with an https proxy (not with the target behind it). */
export const PROXY_TLS_CODE = 'UND_ERR_PRX_TLS';

interface NoProxyEntry {
  hostname: string;
  port: number;
}

function parseNoProxy(value: string): NoProxyEntry[] {
  return value
    .split(/[,\s]/)
    .filter(Boolean)
    .map((entry) => {
      const parsed = /^(.+):(\d+)$/.exec(entry);
      return {
        hostname: (parsed ? parsed[1]! : entry).replace(/^\*?\./, '').toLowerCase(),
        port: parsed ? Number.parseInt(parsed[2]!, 10) : 0,
      };
    });
}

/** Whether NO_PROXY lets a request to this URL go through the proxy. */
export function shouldProxy(url: URL, noProxy: string): boolean {
  const entries = parseNoProxy(noProxy);
  if (entries.length === 0) return true;
  if (noProxy === '*') return false;
  // url.host keeps an IPv6 literal's brackets, as NO_PROXY writes it.
  const hostname = url.host.replace(/:\d*$/, '').toLowerCase();
  const port = hostAndPort(url).port;
  return !entries.some(
    (e) =>
      (!e.port || e.port === port) &&
      (hostname === e.hostname || hostname.slice(-(e.hostname.length + 1)) === `.${e.hostname}`),
  );
}

/** Basic credentials from the proxy URL's user info (percent-decoded), as a Proxy-Authorization value. */
function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username || !proxy.password) return undefined;
  const pair = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/** The socket to the proxy, TLS to it for an https:// proxy. Its name is resolved like the target's. */
async function connectProxy(ctx: ConnectorContext, proxy: URL): Promise<net.Socket> {
  const { session } = ctx;
  session.progress('connect');
  const { host, port } = hostAndPort(proxy);
  const address = net.isIP(host) ? host : (await ctx.lookup(host))[0]?.address;
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  const sock = net.connect({ host: address, port });
  session.proxySocket = sock;
  sock.setNoDelay(true);
  await connected(sock);
  sock.on('error', session.noteSocketError);
  if (proxy.protocol !== 'https:') return sock;
  const tlsSock = tls.connect({
    ...ctx.tlsOptions,
    socket: sock,
    host,
    ...(net.isIP(host) ? {} : { servername: host }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tlsSock.once('error', reject);
      tlsSock.once('secureConnect', () => {
        tlsSock.removeListener('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw Object.assign(new Error(`TLS with the proxy ${host} failed: ${e.message}`), {
      code: PROXY_TLS_CODE,
      cause: err,
    });
  }
  tlsSock.on('error', session.noteSocketError);
  return tlsSock;
}

/** Ask the proxy for a tunnel to the target; resolves with the tunnel's socket once it answered 200. */
function requestTunnel(proxySock: net.Socket, target: URL, authorization: string | undefined): Promise<net.Socket> {
  const { host, port } = hostAndPort(target);
  const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  return new Promise<net.Socket>((resolve, reject) => {
    const req = http.request({
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...(authorization ? { 'proxy-authorization': authorization } : {}) },
      createConnection: () => proxySock,
    });
    req.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const message = `Proxy response (${res.statusCode}) !== 200 when HTTP Tunneling`;
        return reject(Object.assign(new Error(message), { code: TUNNEL_REFUSED_CODE }));
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', reject);
    req.end();
  });
}

/** Connect to the target through the proxy, each step recorded in the session. */
export async function connectViaProxy(ctx: ConnectorContext, proxy: URL, target: URL): Promise<net.Socket> {
  const { session } = ctx;
  const proxySock = await connectProxy(ctx, proxy);
  session.progress('proxy');
  const tunnel = await requestTunnel(proxySock, target, proxyAuthorization(proxy));
  if (target.protocol !== 'https:') {
    session.progress('headers');
    return tunnel;
  }
  // The proxy connected to the target: no address of ours to report, the handshake through the tunnel is timed.
  return startTls(ctx, tunnel, hostAndPort(target).host);
}
