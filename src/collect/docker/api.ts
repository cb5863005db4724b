/**
 * The Docker Engine API, spoken directly over the daemon's socket (or tcp+TLS) with Node's own http and https (one
 * keep-alive agent per daemon): no docker CLI needed. Every call is bounded by an absolute deadline, and every call
 * in flight can be aborted at once (SIGTERM). Failures carry a stable `code`: the socket's errno (ENOENT,
 * ECONNREFUSED, EACCES), a connect that got no answer in 5 s (UND_ERR_CONNECT_TIMEOUT, the code it has always had),
 * DEADLINE, CLOSED, or HTTP_<status> with the daemon's message.
 */
import http from 'node:http';
import https from 'node:https';
import { DockerApiError, DockerCode, dockerHttpCode, isTlsCode } from '../../model/errors.js';
import type { DockerEndpoint } from './endpoint.js';

const CONNECT_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_CODE = 'UND_ERR_CONNECT_TIMEOUT';

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A raw body, e.g. a tar archive. */
  body?: Buffer;
  contentType?: string;
  /** Absolute deadline in now() terms. */
  deadline: number;
  /** Allowed after abortAll(): the cleanup's own calls. */
  cleanup?: boolean;
  /** Each piece of the body as it arrives (a followed log, a build's stream); the whole body still resolves. */
  onChunk?: (chunk: Buffer) => void;
}

export interface DockerResponse {
  status: number;
  body: Buffer;
  contentType: string;
}

export interface DockerClient {
  readonly endpoint: DockerEndpoint;
  /** Any status is returned; only transport failures and the deadline throw. */
  raw(method: string, path: string, opts: CallOptions): Promise<DockerResponse>;
  /** Throws DockerApiError HTTP_<status> for status >= 400; parses JSON bodies (undefined when empty). */
  call<T = unknown>(method: string, path: string, opts: CallOptions): Promise<T>;
  /** Abort everything in flight and refuse new calls (they throw CLOSED) except the cleanup's. */
  abortAll(): void;
  close(): Promise<void>;
}

export function createDockerClient(endpoint: DockerEndpoint, now: () => number): DockerClient {
  const origin = new URL(endpoint.origin);
  const secure = origin.protocol === 'https:';
  // No timeout on the agent: the deadline (an abort signal) bounds every call, also long waits such as
  // POST /containers/{id}/wait.
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ...(endpoint.tls?.ca ? { ca: endpoint.tls.ca } : {}),
        ...(endpoint.tls?.cert ? { cert: endpoint.tls.cert } : {}),
        ...(endpoint.tls?.key ? { key: endpoint.tls.key } : {}),
        ...(endpoint.tls ? { rejectUnauthorized: endpoint.tls.verify } : {}),
      })
    : new http.Agent({ keepAlive: true });
  const inflight = new Set<AbortController>();
  let closed = false;
  let destroyed = false;

  const raw = async (method: string, path: string, opts: CallOptions): Promise<DockerResponse> => {
    if ((closed && !opts.cleanup) || destroyed)
      throw new DockerApiError(
        DockerCode.CLOSED,
        `docker API call ${method} ${path} refused: the run is being cleaned up`,
      );
    const ms = Math.floor(opts.deadline - now());
    if (ms <= 0) throw new DockerApiError(DockerCode.DEADLINE, `no time left for ${method} ${path}`);
    const ctl = new AbortController();
    inflight.add(ctl);
    const timer = setTimeout(
      () => ctl.abort(new DockerApiError(DockerCode.DEADLINE, `${method} ${path} did not finish by the deadline`)),
      ms,
    );
    timer.unref?.();
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const target = `${path}${qs.size ? `?${qs}` : ''}`;
    const headers: Record<string, string> = {};
    let body: Buffer | string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body) {
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
      body = opts.body;
    }
    try {
      const options: http.RequestOptions = {
        method,
        path: target,
        headers,
        agent,
        signal: ctl.signal,
        ...(endpoint.socketPath
          ? { socketPath: endpoint.socketPath }
          : { host: origin.hostname.replace(/^\[|\]$/g, ''), port: Number(origin.port) || (secure ? 443 : 80) }),
      };
      return await send(secure, options, body, opts.onChunk);
    } catch (err) {
      if (ctl.signal.aborted) {
        const reason = ctl.signal.reason;
        throw reason instanceof DockerApiError
          ? reason
          : new DockerApiError(DockerCode.ABORTED, `${method} ${path} aborted`);
      }
      const e = err as { code?: string; message?: string };
      throw new DockerApiError(e.code ?? DockerCode.ERROR, e.message ?? String(err));
    } finally {
      clearTimeout(timer);
      inflight.delete(ctl);
    }
  };

  return {
    endpoint,
    raw,
    async call<T>(method: string, path: string, opts: CallOptions): Promise<T> {
      const r = await raw(method, path, opts);
      const text = r.body.toString('utf8');
      if (r.status >= 400) {
        let message = text.trim();
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          /* plain text error */
        }
        throw new DockerApiError(dockerHttpCode(r.status), `${method} ${path}: ${r.status} ${message}`, r.status);
      }
      if (!text.trim()) return undefined as T;
      if (!r.contentType.includes('json')) return text as T;
      return JSON.parse(text) as T;
    },
    abortAll() {
      closed = true;
      for (const c of inflight) c.abort(new DockerApiError(DockerCode.CLOSED, 'aborted: the run is being cleaned up'));
    },
    async close() {
      closed = true;
      destroyed = true;
      agent.destroy();
    },
  };
}

/** One request; resolves with the whole body. A connect that gets no answer in 5 s fails. */
function send(
  secure: boolean,
  options: http.RequestOptions,
  body: Buffer | string | undefined,
  onChunk?: (chunk: Buffer) => void,
): Promise<DockerResponse> {
  return new Promise<DockerResponse>((resolve, reject) => {
    const req = (secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        onChunk?.(c);
      });
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          contentType: String(res.headers['content-type'] ?? ''),
        }),
      );
    });
    req.once('error', reject);
    req.once('socket', (sock) => {
      // A socket the agent kept alive is already connected.
      if (!sock.connecting) return;
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect got no answer in ${CONNECT_TIMEOUT_MS / 1000} s`), {
          code: CONNECT_TIMEOUT_CODE,
        });
        req.destroy(err);
      }, CONNECT_TIMEOUT_MS);
      timer.unref?.();
      sock.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      sock.once('close', () => clearTimeout(timer));
    });
    req.end(body);
  });
}

/** Why a daemon could not be reached, in a user's words (by code, never by message text). */
export function describeUnreachable(err: unknown, host: string): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ENOENT':
      return `docker: no daemon at ${host} (the socket does not exist)`;
    case 'ECONNREFUSED':
      return `docker: no daemon at ${host} (connection refused)`;
    case 'EACCES':
    case 'EPERM':
      return `docker: cannot open ${host} (permission denied: this user is not in the docker group)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `docker: no daemon at ${host} (the host name does not resolve)`;
    case CONNECT_TIMEOUT_CODE:
    case 'ETIMEDOUT':
    case DockerCode.DEADLINE:
      return `docker: no answer from ${host} (timed out)`;
    case DockerCode.HOST_UNSUPPORTED:
      return `docker: ${e.message}`;
    default:
      if (e.code && isTlsCode(e.code))
        return `docker: TLS to ${host} failed (${e.code}): check DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) and DOCKER_TLS_VERIFY`;
      return `docker: no daemon at ${host} (${e.code ?? 'error'}: ${e.message ?? ''})`;
  }
}
