// The Podman lab: a real Podman (Debian's podman 4.3, netavark, crun/runc, conmon) serving its Docker-compatible API
// from inside a lab's runner namespace, the way GitLab Runner's docker executor talks to Podman's socket, plus the
// probe image `podman import`ed from the same rootfs tarball the dockerd lab builds.
//
//   startPodmanService({netns, dns})   `podman system service --time=0 unix://<dir>/podman.sock` in that namespace
//   importProbeImageToPodman(p, tag)   `podman --remote import` of the tarball (stored as localhost/<tag>)
//   startSlirpNamespace(...)           a rootless engine's network: a namespace whose tap0 is slirp4netns's (65520)
//
// Why it is started the way it is (measured here, FIELD-NOTES "Podman 4.3"):
// - Podman hardcodes paths a lab must not touch (/run/netns for its containers' namespaces, /run/containers,
//   /run/libpod, /var/lib/containers, /etc/resolv.conf for the containers' DNS): the service runs in a private mount
//   namespace (`unshare --mount --propagation private`) with a tmpfs on /run and binds from the temp dir, so all of it
//   disappears with the service's last process and nothing is written outside the temp dir.
// - Its own containers.conf and storage.conf (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF): the machine's are not read;
//   netavark's network files go to the temp dir (network_config_dir), cgroupfs (no systemd here), events to a file,
//   and the containers' rlimits are the machine's hard limits (Podman's default nofile 1048576 fails without
//   CAP_SYS_RESOURCE above the hard limit).
// - `nsenter --net` (not `ip netns exec`, which remounts /sys), then the mount namespace.
// Must run as root. stop() removes the containers and networks through the API, stops the service, kills what is
// left (conmon double-forks away from it), removes podman0/podman<N> from the namespace, the cgroups and the temp dir.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { findTool, type CommandResult } from './docker-lab.js';

export interface PodmanService {
  /** DOCKER_HOST value: unix://<dir>/podman.sock. */
  host: string;
  socketPath: string;
  dir: string;
  netns: string;
  pid: number;
  /** Milliseconds from spawn to the API answering /_ping. */
  startMs: number;
  logFile: string;
  /** The podman CLI as a remote client of this service (`podman --remote --url ...`). */
  podman(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CommandResult>;
  /** Idempotent. Throws when something could not be removed (the temp dir is kept then). */
  stop(): Promise<{ ms: number }>;
}

export interface PodmanOptions {
  netns: string;
  /** The containers' resolver (the lab DNS): a resolv.conf bound over /etc/resolv.conf in the service's mounts. */
  dns: string;
  /**
   * Make a network created with `--opt mtu=<mtu>` the default one, the way the printed fix does it: create it, then
   * restart the service with containers.conf `[network] default_network = "<name>"`.
   */
  defaultNetwork?: { name: string; mtu: number };
}

const DIR_PATTERN = /^mtupl-(\d+)-[A-Za-z0-9]{6}$/;
const READY_TIMEOUT_MS = 30_000;
const live = new Set<() => void>();

function hardLimit(resource: 'n' | 'u'): string {
  const r = spawnSync('sh', ['-c', `ulimit -H${resource}`], { encoding: 'utf8' });
  const v = (r.stdout ?? '').trim();
  return /^\d+$/.test(v) ? v : '4096';
}

function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** The cgroup directories Podman's cgroupfs manager makes (libpod_parent), in every v1 hierarchy or v2. */
function libpodCgroups(): string[] {
  const top = '/sys/fs/cgroup';
  const roots = [top];
  try {
    for (const c of readdirSync(top)) roots.push(path.join(top, c));
  } catch {
    return [];
  }
  return roots.map((r) => path.join(r, 'libpod_parent')).filter((p) => existsSync(p));
}

function removeCgroupTree(top: string): void {
  const dirs: string[] = [];
  const walk = (d: string) => {
    dirs.push(d);
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      /* gone */
    }
  };
  walk(top);
  for (const d of dirs.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {
      /* busy: the caller's check reports it */
    }
  }
}

/** SIGKILL every process whose command line names `dir` (the service, conmon, slirp4netns of this lab). */
function killMentioning(dir: string): number[] {
  const pids = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => readText(`/proc/${e}/cmdline`).includes(dir))
    .map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const until = Date.now() + 5000;
  while (pids.some((p) => existsSync(`/proc/${p}`) && !/^State:\s+Z/m.test(readText(`/proc/${p}/status`))))
    if (Date.now() > until) break;
    else spawnSync('sleep', ['0.05']);
  return pids;
}

/** Podman's bridges in the namespace (podman0 for the default network, podman1... for user networks). */
function deletePodmanBridges(netns: string): void {
  if (!existsSync(`/var/run/netns/${netns}`)) return;
  const links = spawnSync('ip', ['-n', netns, '-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const [, name = ''] of links.matchAll(/^\d+: (podman\d+)[:@]/gm))
    spawnSync('ip', ['-n', netns, 'link', 'del', name], { stdio: 'ignore' });
}

function emergency(dir: string, netns: string, child?: ChildProcess): void {
  child?.kill('SIGKILL');
  killMentioning(dir);
  deletePodmanBridges(netns);
  rmSync(dir, { recursive: true, force: true });
}

function sweepStale(): void {
  for (const name of readdirSync(os.tmpdir())) {
    const m = DIR_PATTERN.exec(name);
    if (!m || Number(m[1]) === process.pid || existsSync(`/proc/${m[1]}`)) continue;
    const dir = path.join(os.tmpdir(), name);
    emergency(dir, readText(path.join(dir, 'netns-name')).trim());
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function ping(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

export function runCommand(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The containers.conf of the lab's service (containers-common's keys: docs/containers.conf.5.md). */
function containersConf(dir: string, defaultNetwork?: string): string {
  const nofile = hardLimit('n');
  const nproc = hardLimit('u');
  return [
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${JSON.stringify(path.join(dir, 'events.log'))}`,
    `tmp_dir = ${JSON.stringify(path.join(dir, 'libpod-tmp'))}`,
    `static_dir = ${JSON.stringify(path.join(dir, 'root', 'libpod'))}`,
    `volume_path = ${JSON.stringify(path.join(dir, 'root', 'volumes'))}`,
    '[network]',
    'network_backend = "netavark"',
    ...(defaultNetwork ? [`default_network = ${JSON.stringify(defaultNetwork)}`] : []),
    `network_config_dir = ${JSON.stringify(path.join(dir, 'networks'))}`,
    '',
  ].join('\n');
}

/** Start `podman system service` in `netns` and wait until its API answers. */
export async function startPodmanService(opts: PodmanOptions): Promise<PodmanService> {
  if (process.getuid?.() !== 0) throw new Error('startPodmanService needs root');
  const netnsPath = `/var/run/netns/${opts.netns}`;
  if (!existsSync(netnsPath)) throw new Error(`network namespace ${opts.netns} does not exist`);
  const podmanBin = findTool('podman');
  if (!podmanBin) throw new Error('podman not found (apt-get install podman netavark)');
  sweepStale();
  const cgroupsBefore = new Set(libpodCgroups());
  const dir = await mkdtemp(path.join(os.tmpdir(), `mtupl-${process.pid}-`));
  const f = (...p: string[]) => path.join(dir, ...p);
  for (const d of ['root', 'runroot', 'networks', 'libpod-tmp', 'home']) await mkdir(f(d), { recursive: true });
  // For sweepStale(): which namespace holds this service's bridges if the test process dies.
  await writeFile(f('netns-name'), opts.netns);
  await writeFile(f('containers.conf'), containersConf(dir));
  await writeFile(
    f('storage.conf'),
    `[storage]\ndriver = "overlay"\nrunroot = ${JSON.stringify(f('runroot'))}\ngraphroot = ${JSON.stringify(f('root'))}\n`,
  );
  await writeFile(f('resolv.conf'), `nameserver ${opts.dns}\n`);
  const socketPath = f('podman.sock');
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: f('home'),
    CONTAINERS_CONF: f('containers.conf'),
    CONTAINERS_STORAGE_CONF: f('storage.conf'),
    CONTAINERS_REGISTRIES_CONF: f('registries.conf'),
  };
  await writeFile(f('registries.conf'), 'unqualified-search-registries = []\n');
  // /run is a tmpfs of the service's own mount namespace; /run/netns inside it is where Podman binds its containers'
  // network namespaces. /var/lib is a tmpfs there too: only Podman's caches would go there (--root is in the dir).
  const script = [
    'set -e',
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mkdir -p /run/netns',
    // containers/image writes its blob-info cache to /var/lib/containers/cache whatever --root says.
    'mount -t tmpfs -o mode=755 tmpfs /var/lib',
    `mount --bind "$0/resolv.conf" /etc/resolv.conf`,
    `exec "$1" --root "$0/root" --runroot "$0/runroot" system service --time=0 "unix://$0/podman.sock"`,
  ].join('\n');
  const logFile = f('podman.log');
  const spawnService = (): ChildProcess => {
    const fd = openSync(logFile, 'a');
    try {
      return spawn(
        'nsenter',
        [`--net=${netnsPath}`, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, dir, podmanBin],
        { stdio: ['ignore', fd, fd], env },
      );
    } finally {
      closeSync(fd);
    }
  };
  const waitReady = async (c: ChildProcess): Promise<void> => {
    const until = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null)
        throw new Error(`podman system service exited (${c.exitCode ?? c.signalCode}):\n${readText(logFile)}`);
      if (await ping(socketPath)) return;
      if (Date.now() > until) throw new Error(`podman system service not ready:\n${readText(logFile)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const host = `unix://${socketPath}`;
  const podman = (args: string[], o: { timeoutMs?: number; input?: string } = {}) =>
    runCommand(podmanBin, ['--remote', '--url', host, ...args], { ...o, env });
  let child = spawnService();
  const kill = () => emergency(dir, opts.netns, child);
  live.add(kill);
  const t0 = performance.now();
  try {
    await waitReady(child);
    const dn = opts.defaultNetwork;
    if (dn) {
      const r = await podman(['network', 'create', '--opt', `mtu=${dn.mtu}`, dn.name]);
      if (r.code !== 0) throw new Error(`podman network create ${dn.name}: ${r.stderr.trim()}`);
      await terminate(child);
      rmSync(socketPath, { force: true });
      await writeFile(f('containers.conf'), containersConf(dir, dn.name));
      child = spawnService();
      await waitReady(child);
    }
  } catch (err) {
    kill();
    live.delete(kill);
    throw err;
  }
  const startMs = Math.round(performance.now() - t0);
  let stopping: Promise<{ ms: number }> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const s0 = performance.now();
      if (child.exitCode === null) {
        await podman(['rm', '-af', '-t', '0'], { timeoutMs: 60_000 });
        await podman(['network', 'prune', '-f'], { timeoutMs: 30_000 });
        for (const n of (await podman(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n'))
          if (n && n !== 'podman') await podman(['network', 'rm', '-f', n], { timeoutMs: 30_000 });
        await terminate(child);
      }
      killMentioning(dir);
      deletePodmanBridges(opts.netns);
      for (const cg of libpodCgroups()) if (!cgroupsBefore.has(cg)) removeCgroupTree(cg);
      rmSync(dir, { recursive: true, force: true });
      live.delete(kill);
      return { ms: Math.round(performance.now() - s0) };
    })());
  return { host, socketPath, dir, netns: opts.netns, pid: child.pid!, startMs, logFile, podman, stop };
}

/** `podman import` the probe rootfs: Podman stores it as localhost/<tag> and resolves the short name. */
export async function importProbeImageToPodman(p: PodmanService, tag: string, tarball: string): Promise<void> {
  const r = await p.podman(['import', '--message', 'mtu-preflight lab probe image', tarball, tag], {
    timeoutMs: 180_000,
  });
  if (r.code !== 0) throw new Error(`podman import ${tarball} ${tag}: ${r.stderr.trim()}`);
}

/** Podman's bridges and containers still in the service (for the leftovers assertion). */
export async function podmanLeftovers(p: PodmanService): Promise<string[]> {
  const c = await p.podman(['ps', '-a', '--format', '{{.Names}}']);
  const n = await p.podman(['network', 'ls', '--format', '{{.Name}}']);
  return [
    ...c.stdout.split('\n').filter(Boolean),
    ...n.stdout
      .split('\n')
      .filter(Boolean)
      .filter((x) => x !== 'podman'),
  ];
}

/** A directory is still there (the cleanup checks). */
export const exists = (p: string): boolean => {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
};

process.once('exit', () => {
  for (const k of live) k();
});

export interface SlirpNamespace {
  /** The namespace whose only way out is slirp4netns's tap0. */
  netns: string;
  tapMtu: number;
  close(): Promise<void>;
}

/**
 * A rootless engine's network, as rootlesskit --net=slirp4netns (dockerd-rootless.sh) and rootless Podman build it:
 * a namespace whose tap0 (MTU 65520, slirp4netns's default) is served by a real slirp4netns running in `parentNs`,
 * which ends every TCP connection there and opens its own from the parent's stack. Only the user namespace is missing
 * (the lab runs as root): the network path is the same.
 */
export async function startSlirpNamespace(parentNs: string, name: string, mtu = 65520): Promise<SlirpNamespace> {
  const slirp = findTool('slirp4netns');
  if (!slirp) throw new Error('slirp4netns not found (apt-get install slirp4netns)');
  const must = (args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  must(['netns', 'add', name]);
  const child = spawn(
    'nsenter',
    [
      `--net=/var/run/netns/${parentNs}`,
      slirp,
      '--configure',
      `--mtu=${mtu}`,
      '--disable-host-loopback',
      '--netns-type=path',
      `/var/run/netns/${name}`,
      'tap0',
    ],
    { stdio: 'ignore' },
  );
  const close = async () => {
    await terminate(child);
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  };
  const until = Date.now() + 10_000;
  for (;;) {
    const r = spawnSync('ip', ['-n', name, '-o', 'route', 'show', 'default'], { encoding: 'utf8' });
    if (/dev tap0/.test(r.stdout ?? '')) break;
    if (Date.now() > until || child.exitCode !== null) {
      await close();
      throw new Error(`slirp4netns did not configure tap0 in ${name}`);
    }
    await new Promise((r2) => setTimeout(r2, 50));
  }
  return { netns: name, tapMtu: mtu, close };
}
