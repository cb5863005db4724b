/**
 * One way through, for the host probe and the in-container probe alike: Node's own net, tls and http, no bundled
 * HTTP client. Each request gets a fresh connection, direct (connector.ts) or through the proxy the environment
 * names (proxy-tunnel.ts), and Node's HTTP/1.1 parser reads the answer.
 *
 * Failures keep the codes the report has always given (they are the JSON contract and what users search for):
 * those of the HTTP client this replaced, undici, where Node's differ.
 */
import http from 'node:http';
import type net from 'node:net';
import { proxyFor, proxySettings } from '../model/proxy.js';
import { connectDirect, type ConnectorContext } from './connector.js';
import { connectViaProxy, shouldProxy } from './proxy-tunnel.js';

/** What a closed connection is called where the response is cut short (the report's codes since 0.1.0). */
export const TransportCode = {
  /** The connection closed before the response, or mid-body where no length was announced. */
  SOCKET: 'UND_ERR_SOCKET',
  /** The body ended before its content-length. */
  CONTENT_LENGTH_MISMATCH: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  /** The response's headers exceed Node's limit (16 KiB by default). */
  HEADERS_OVERFLOW: 'UND_ERR_HEADERS_OVERFLOW',
} as const;

export interface Transport extends ConnectorContext {
  env: NodeJS.ProcessEnv;
  headers: Record<string, string>;
  /** Receives every socket made for a request (to the target, to the proxy), to be torn down however the probe ends. */
  opened: (s: net.Socket) => void;
}

/** The proxy a request to this URL goes through (NO_PROXY applied), or undefined to go direct. */
export function proxyForUrl(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const proxy = proxyFor(url.protocol, env);
  if (!proxy || !shouldProxy(url, proxySettings(env).noProxy)) return undefined;
  return new URL(proxy);
}

const closed = (code: string, message: string) => Object.assign(new Error(message), { code });

/** A cut-short body, named as before: shorter than its content-length, or the other side closed. */
export function bodyError(res: http.IncomingMessage, err: NodeJS.ErrnoException): Error {
  if (err.code !== 'ECONNRESET' && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') return err;
  return res.headers['content-length'] !== undefined
    ? closed(TransportCode.CONTENT_LENGTH_MISMATCH, 'Response body length does not match content-length header')
    : closed(TransportCode.SOCKET, 'other side closed');
}

function requestError(err: NodeJS.ErrnoException): Error {
  if (err.code === 'HPE_HEADER_OVERFLOW') return closed(TransportCode.HEADERS_OVERFLOW, 'Headers Overflow Error');
  // Node's "socket hang up": closed before any response.
  if (err.code === 'ECONNRESET' && err.message === 'socket hang up')
    return closed(TransportCode.SOCKET, 'other side closed');
  return err;
}

/** GET `url` on a new connection; resolves with the response once its headers arrived. */
export async function get(t: Transport, url: URL): Promise<http.IncomingMessage> {
  const proxy = proxyForUrl(url, t.env);
  const sock = proxy ? await connectViaProxy(t, proxy, url) : await connectDirect(t, url);
  t.opened(sock);
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({
      method: 'GET',
      host: url.hostname,
      path: url.pathname + url.search,
      headers: { host: url.host, ...t.headers },
      createConnection: () => sock,
    });
    req.once('response', resolve);
    req.on('error', (err: NodeJS.ErrnoException) => reject(requestError(err)));
    req.end();
  });
}
