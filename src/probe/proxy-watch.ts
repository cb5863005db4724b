/**
 * Through a proxy our connector is not used (undici tunnels with its own). The proxy's connection is watched
 * through the client factory, and the tunnel through undici's diagnostics channels, matched by socket: a proxy
 * that never answers is then a proxy-error, and a stall inside the tunnel is a stall with its phase.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type net from 'node:net';
import { Pool } from 'undici';
import type { ProbeSession } from './session.js';

type SocketCallback = (err: Error | null, s: net.Socket | null) => void;
type Connect = (o: unknown, cb: SocketCallback) => void;

export interface ProxyWatch {
  /** EnvHttpProxyAgent's clientFactory: the proxy's connection, timed as the connect phase. */
  clientFactory: (origin: URL, o: { connect: Connect }) => Pool;
  /** Stop listening on the diagnostics channels. */
  stop: () => void;
}

export function watchProxy(session: ProbeSession, protocol: string): ProxyWatch {
  const clientFactory = (origin: URL, o: { connect: Connect }) =>
    new Pool(origin, {
      ...o,
      connect: ((co: unknown, cb: SocketCallback) => {
        session.progress('connect');
        o.connect(co, (err, s) => {
          if (s) {
            session.proxySocket = s;
            s.on('error', session.noteSocketError);
            session.progress('proxy');
          }
          cb(err, s);
        });
      }) as never,
    });
  // The proxy answered CONNECT: the tunnel is up, the target's TLS (or, for http, its headers) come next.
  const onTunnel = (m: unknown) => {
    const proxySocket = session.proxySocket;
    if ((m as { socket?: unknown }).socket === proxySocket && proxySocket)
      session.progress(protocol === 'https:' ? 'tls' : 'headers');
  };
  // The target's TLS, on top of the tunnel's socket, is established.
  const onConnected = (m: unknown) => {
    const s = (m as { socket?: { _parent?: unknown } }).socket;
    if (session.proxySocket && s?._parent === session.proxySocket) {
      session.result.phases.tlsMs ??= session.elapsed();
      session.progress('headers');
    }
  };
  diagnosticsChannel.subscribe('undici:proxy:connected', onTunnel);
  diagnosticsChannel.subscribe('undici:client:connected', onConnected);
  return {
    clientFactory,
    stop: () => {
      diagnosticsChannel.unsubscribe('undici:proxy:connected', onTunnel);
      diagnosticsChannel.unsubscribe('undici:client:connected', onConnected);
    },
  };
}
