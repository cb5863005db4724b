/**
 * Which Docker daemon the docker CLI of this job would talk to, found the way the CLI finds it but without the CLI
 * (job images such as node:24 have none): DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, as GitLab's
 * docker:dind service on tcp://docker:2376), else DOCKER_CONTEXT or the current context of ~/.docker/config.json,
 * else /var/run/docker.sock.
 * The parsers are pure; resolveDockerEndpoint() is the only part that reads files.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { EndpointError } from '../../model/errors.js';

export interface DockerTls {
  /** PEM contents (not paths): read once, here. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Verify the daemon's certificate (DOCKER_TLS_VERIFY, or a context without SkipTLSVerify). */
  verify: boolean;
}

export interface DockerEndpoint {
  /** As a user writes it: unix:///var/run/docker.sock, tcp://docker:2376. */
  host: string;
  /** Where it came from: 'DOCKER_HOST', 'docker context "ci"', 'default'. */
  source: string;
  /** For unix:// hosts. */
  socketPath?: string;
  /** Origin requests go to: http://localhost for a socket, http(s)://host:port for tcp. */
  origin: string;
  tls?: DockerTls;
  /** What looked wrong while resolving it (TLS files missing), for the message if the daemon cannot be reached. */
  notes?: string[];
}

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** Docker Desktop's and dockerd's pipe on Windows, the docker CLI's default there. */
export const DEFAULT_WINDOWS_DOCKER_HOST = 'npipe:////./pipe/docker_engine';

/**
 * Parse a DOCKER_HOST-style address. `tls` decides http vs https for tcp://. Throws EndpointError. `platform`: npipe://
 * is a Windows named pipe, reachable only from Windows (api.ts gives `socketPath` to http.request, whose net.connect
 * opens `\\.\pipe\NAME` as a named pipe there: Node's net docs, "Identifying paths for IPC connections").
 */
export function parseDockerHost(
  value: string,
  tls: DockerTls | undefined,
  source: string,
  platform: NodeJS.Platform = process.platform,
): DockerEndpoint {
  const v = value.trim();
  if (v.startsWith('unix://')) {
    const socketPath = v.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new EndpointError(`${source} '${v}' must be unix:///absolute/path`);
    return { host: v, source, socketPath, origin: 'http://localhost' };
  }
  // The CLI accepts a bare path, and `tcp://host` without a port (2376 with TLS, 2375 without).
  if (v.startsWith('/')) return { host: `unix://${v}`, source, socketPath: v, origin: 'http://localhost' };
  const m = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(v);
  if (m) {
    const scheme = m[1]!;
    const useTls = scheme === 'https' || (scheme === 'tcp' && tls !== undefined);
    const port = m[3] ?? (useTls ? '2376' : '2375');
    return {
      host: `tcp://${m[2]}:${port}`,
      source,
      origin: `${useTls ? 'https' : 'http'}://${m[2]}:${port}`,
      ...(useTls ? { tls: tls ?? { verify: true } } : {}),
    };
  }
  const scheme = /^([a-z]+):\/\//.exec(v)?.[1];
  if (scheme === 'ssh')
    throw new EndpointError(
      `${source} '${v}': ssh:// daemons are reached through the docker CLI, which this tool does not use; expose the daemon on a unix socket or tcp:// instead`,
    );
  if (scheme === 'npipe') {
    if (platform !== 'win32')
      throw new EndpointError(
        `${source} '${v}': Windows named pipes are reachable only from Windows (this is ${platform})`,
      );
    // npipe:////./pipe/docker_engine (the CLI's form) -> \\.\pipe\docker_engine
    const pipe = v.slice('npipe://'.length).replace(/\//g, '\\');
    if (!/^\\\\[\w.-]+\\pipe\\[^\\]+$/.test(pipe))
      throw new EndpointError(`${source} '${v}' is not npipe:////./pipe/NAME`);
    return { host: v, source, socketPath: pipe, origin: 'http://localhost' };
  }
  throw new EndpointError(`${source} '${v}' is not unix:///path or tcp://host:port`);
}

/** ~/.docker/config.json -> its currentContext ('default' and absent both mean: no context). */
export function parseDockerConfig(json: string): { currentContext?: string } {
  try {
    const c = JSON.parse(json) as { currentContext?: unknown };
    return typeof c.currentContext === 'string' && c.currentContext && c.currentContext !== 'default'
      ? { currentContext: c.currentContext }
      : {};
  } catch {
    return {};
  }
}

/** contexts/meta/<sha256(name)>/meta.json -> the docker endpoint's Host and SkipTLSVerify. */
export function parseContextMeta(json: string): { name?: string; host?: string; skipTlsVerify: boolean } {
  try {
    const m = JSON.parse(json) as {
      Name?: string;
      Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
    };
    const d = m.Endpoints?.docker;
    return {
      ...(m.Name ? { name: m.Name } : {}),
      ...(d?.Host ? { host: d.Host } : {}),
      skipTlsVerify: d?.SkipTLSVerify === true,
    };
  } catch {
    return { skipTlsVerify: false };
  }
}

/** The CLI stores a context under the sha256 of its name. */
export function contextDirName(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

export interface EndpointIo {
  env: NodeJS.ProcessEnv;
  homedir: string;
  /** Resolves to undefined when the file cannot be read. */
  readFile: (p: string) => Promise<string | undefined>;
  /** The OS this runs on (npipe:// only on Windows, where it is also the default); absent: process.platform. */
  platform?: NodeJS.Platform;
  /** Whether a socket exists there (the engines' default sockets); absent: none is looked for. */
  exists?: (p: string) => Promise<boolean>;
}

/**
 * The sockets looked for when nothing names one, in order: dockerd's, rootless Podman's ($XDG_RUNTIME_DIR/podman/
 * podman.sock, podman-system-service(1)), rootful Podman's (/run/podman/podman.sock), rootless dockerd's
 * ($XDG_RUNTIME_DIR/docker.sock, dockerd-rootless-setuptool.sh). The first that exists is used.
 */
export function defaultSockets(env: NodeJS.ProcessEnv): Array<{ path: string; source: string }> {
  const xdg = env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR.startsWith('/') ? env.XDG_RUNTIME_DIR : undefined;
  return [
    { path: '/var/run/docker.sock', source: 'default' },
    ...(xdg
      ? [{ path: path.join(xdg, 'podman', 'podman.sock'), source: 'rootless Podman socket ($XDG_RUNTIME_DIR)' }]
      : []),
    { path: '/run/podman/podman.sock', source: 'Podman socket (/run/podman)' },
    ...(xdg ? [{ path: path.join(xdg, 'docker.sock'), source: 'rootless Docker socket ($XDG_RUNTIME_DIR)' }] : []),
  ];
}

async function readTls(io: EndpointIo, dir: string, verify: boolean): Promise<DockerTls> {
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'cert.pem', 'key.pem'].map((f) => io.readFile(path.join(dir, f))),
  );
  return { verify, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** Resolve the endpoint the docker CLI would use. Throws EndpointError for addresses this tool cannot use. */
export async function resolveDockerEndpoint(io: EndpointIo): Promise<DockerEndpoint> {
  const { env } = io;
  const platform = io.platform ?? process.platform;
  const configDir = env.DOCKER_CONFIG || path.join(io.homedir, '.docker');
  if (env.DOCKER_HOST) {
    // The CLI: DOCKER_TLS_VERIFY (any non-empty value) verifies; DOCKER_TLS alone encrypts without verifying.
    const verify = !!env.DOCKER_TLS_VERIFY;
    const wantTls = verify || !!env.DOCKER_TLS;
    const certDir = env.DOCKER_CERT_PATH || configDir;
    const tls = wantTls ? await readTls(io, certDir, verify) : undefined;
    const ep = parseDockerHost(env.DOCKER_HOST, tls, 'DOCKER_HOST', platform);
    const missing = tls ? (['ca', 'cert', 'key'] as const).filter((k) => !tls[k]).map((k) => `${k}.pem`) : [];
    if (ep.tls && missing.length)
      ep.notes = [
        `${certDir} has no ${missing.join(', ')} (DOCKER_CERT_PATH${env.DOCKER_CERT_PATH ? '' : ' unset: ~/.docker'})`,
      ];
    return ep;
  }
  // Podman's remote clients read CONTAINER_HOST (podman-remote(1)); the docker CLI does not, so DOCKER_HOST wins.
  // ssh:// (podman's usual remote form) is refused by parseDockerHost with a sentence saying why.
  if (env.CONTAINER_HOST) return parseDockerHost(env.CONTAINER_HOST, undefined, 'CONTAINER_HOST');
  const contextName =
    env.DOCKER_CONTEXT ||
    parseDockerConfig((await io.readFile(path.join(configDir, 'config.json'))) ?? '{}').currentContext;
  if (contextName && contextName !== 'default') {
    const dir = contextDirName(contextName);
    const meta = parseContextMeta(
      (await io.readFile(path.join(configDir, 'contexts', 'meta', dir, 'meta.json'))) ?? '',
    );
    const source = `docker context "${contextName}"`;
    if (!meta.host)
      throw new EndpointError(
        `${source} has no docker endpoint (${path.join(configDir, 'contexts', 'meta', dir, 'meta.json')} missing or unreadable)`,
      );
    const tlsDir = path.join(configDir, 'contexts', 'tls', dir, 'docker');
    const tls = await readTls(io, tlsDir, !meta.skipTlsVerify);
    const hasTlsFiles = !!(tls.ca || tls.cert);
    const ctxTls = hasTlsFiles || meta.host.startsWith('https://') ? tls : undefined;
    return parseDockerHost(meta.host, ctxTls, source, platform);
  }
  // Windows: the CLI's default is the named pipe (Docker Desktop's, or dockerd's on Windows Server).
  if (platform === 'win32') return parseDockerHost(DEFAULT_WINDOWS_DOCKER_HOST, undefined, 'default', platform);
  if (io.exists) {
    for (const s of defaultSockets(env)) {
      if (await io.exists(s.path)) return parseDockerHost(`unix://${s.path}`, undefined, s.source);
    }
  }
  return parseDockerHost(DEFAULT_DOCKER_HOST, undefined, 'default');
}
