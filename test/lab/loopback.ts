/**
 * A registry stand-in on 127.0.0.1 for the tests that run the product the way a user or a runner does (npx from
 * the tarball, dist/action.js with INPUT_* variables, gitlab-ci-local): an HTTPS server with a certificate made
 * here by openssl (so --ca-file is exercised), and a TCP port that accepts and never speaks (a stalled TLS
 * handshake). Nothing leaves the loopback interface.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Loopback {
  /** https://127.0.0.1:PORT/ */
  origin: string;
  /** A port that accepts TCP and never sends a byte. */
  silentPort: number;
  /** The self-signed certificate (PEM) to pass as --ca-file. */
  caFile: string;
  dir: string;
  close(): Promise<void>;
}

/** Body served for any path: 4 MiB, more than the probes' default 2 MiB cap. */
const BODY = Buffer.alloc(4 * 1024 * 1024, 0x5a);

export async function startLoopback(): Promise<Loopback> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-loopback-'));
  const key = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'cert.pem');
  const gen = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  if (gen.status !== 0) throw new Error(`openssl could not make a test certificate: ${gen.stderr}`);

  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length });
    res.end(BODY);
  });
  const held = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
  });
  const listen = (s: net.Server) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
    });
  const port = await listen(server);
  const silentPort = await listen(silent);
  return {
    origin: `https://127.0.0.1:${port}/`,
    silentPort,
    caFile,
    dir,
    async close() {
      for (const s of held) s.destroy();
      server.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => silent.close(r))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a command to its end without blocking the event loop (the loopback server lives in this process). */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
  });
}

/** The environment of a CI job, minus anything that could send the probes elsewhere (proxies, extra CAs). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(https?_proxy|all_proxy|no_proxy|NODE_EXTRA_CA_CERTS|GITHUB_|RUNNER_|INPUT_|CI$|GITLAB_CI|DRONE|WOODPECKER|npm_)/i.test(
        k,
      )
    )
      continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}
