// The nested-dockerd lab: a real dockerd (Debian's docker.io) started inside a network namespace of a lab, the way
// Docker-in-Docker runs inside a CI pod, plus a minimal image to run probes in (busybox + node, imported from a
// rootfs tarball: no image registry is reachable from here, so nothing is ever pulled).
//
//   buildProbeImageRootfs()      rootfs tarball, cached under /var/cache/mtu-preflight-lab keyed by node version
//   startNestedDockerd({netns})  containerd + dockerd in that namespace, every path under one temp dir
//   importProbeImage(host, tag)  `docker import` of the tarball
//   runWithFiles(d, ...)         `docker create` + `docker cp` + `docker start -a` (no bind mounts), then `rm -f`
//
// Why the daemon is started the way it is:
// - `nsenter --net=/var/run/netns/NAME`, not `ip netns exec`: the latter remounts /sys for the namespace and dockerd
//   then fails with "Devices cgroup isn't mounted".
// - Our own containerd, started in the same namespace, passed with `--containerd`: dockerd 20.10 silently uses a
//   system containerd when /run/containerd/containerd.sock exists, and runc starts `--network host` containers in
//   containerd's network namespace. A containerd in the root namespace would put them on the machine's real network.
// - `--iptables=true` (the default) works in a namespace: Debian's iptables is iptables-nft, and netfilter is per
//   namespace, so dockerd's NAT (MASQUERADE from docker0 out of eth0) and FORWARD rules land in the lab namespace
//   only. The root namespace's ruleset is never touched.
// - `--dns`: containers otherwise inherit the machine's /etc/resolv.conf, a resolver outside the lab.
// - `--cgroup-parent /<temp dir name>`: every container process is findable (and killable) by cgroup if the test
//   process dies without stop().
//
// Must run as root. Everything a daemon creates lives under its temp dir (/tmp/mtudl-<pid>-XXXXXX) except two
// empty machine-wide directories that dockerd/containerd create and never remove: /run/docker/plugins (plugin
// discovery) and /run/containerd/s (shim sockets, each removed when its shim exits). Left to itself dockerd 20.10 also
// writes /etc/docker/key.json and its managed containerd /opt/containerd: both are redirected into the temp dir.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from './lab.js';

/** Where rootfs tarballs are cached between runs (and between sessions on the same machine). */
export const PROBE_IMAGE_CACHE_DIR = '/var/cache/mtu-preflight-lab';
/** Bump when the rootfs recipe changes: the cache key includes it. */
const ROOTFS_RECIPE = 1;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_NODE = path.join(REPO_ROOT, 'node_modules/node/bin/node');
/** The probe script containers run: prints one `MTU-LAB-PROBE {json}` line. */
export const FETCH_PROBE_SCRIPT = fileURLToPath(new URL('./docker/fetch-probe.cjs', import.meta.url));
/** Temp dirs of nested daemons: mtudl-<pid of the test process>-<random>. */
const DIR_PATTERN = /^mtudl-(\d+)-[A-Za-z0-9]{6}$/;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export interface CommandResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The probe image's rootfs

export interface ProbeRootfs {
  /** Absolute path of the tarball, ready for `docker import`. */
  tarball: string;
  /** Size of the tarball in bytes (≈ the image size). */
  bytes: number;
  /** `node --version` of the binary inside, e.g. 'v24.21.0'. */
  nodeVersion: string;
  /** True when an existing tarball was reused. */
  cached: boolean;
  /** Time spent: building, or only computing the cache key. */
  ms: number;
}

export interface RootfsOptions {
  /** The node binary to put in /usr/local/bin/node (default: the repo's node_modules/node/bin/node). */
  nodeBinary?: string;
  /** Rebuild even if the cached tarball exists. */
  force?: boolean;
}

/**
 * A minimal rootfs for `docker import`: busybox-static with its applets as symlinks in /bin, node in /usr/local/bin
 * with the shared libraries `ldd` lists and the dynamic loader, the machine's CA bundle, /etc/passwd, /etc/group,
 * /etc/nsswitch.conf and a world-writable /tmp. Node is stripped of debug info and symbols (≈108 MB instead of
 * ≈127 MB; .dynsym stays, so native addons would still link).
 *
 * Cached as `<dir>/probe-rootfs-<node version>-<hash>.tar`; the hash covers the recipe version and the identity (size,
 * mtime) of every input, so upgrading node, busybox, glibc or the CA bundle builds a new one.
 */
export async function buildProbeImageRootfs(
  dir: string = PROBE_IMAGE_CACHE_DIR,
  opts: RootfsOptions = {},
): Promise<ProbeRootfs> {
  const started = performance.now();
  const busybox = findTool('busybox');
  if (!busybox) throw new Error('busybox not found (apt-get install busybox-static)');
  if (!/statically linked/.test(await describeElf(busybox))) {
    throw new Error(
      `${busybox} is dynamically linked; the probe image needs busybox-static (apt-get install busybox-static)`,
    );
  }
  const nodeBinary = await realpath(opts.nodeBinary ?? DEFAULT_NODE);
  const nodeVersion = (await mustRun(nodeBinary, ['--version'])).trim();
  const libs = await sharedLibraries(nodeBinary);
  const caBundle = '/etc/ssl/certs/ca-certificates.crt';

  const key = createHash('sha256');
  key.update(`recipe ${ROOTFS_RECIPE}\n`);
  for (const f of [nodeBinary, busybox, caBundle, ...libs.map((l) => l.source)]) {
    const s = await stat(f);
    key.update(`${f} ${s.size} ${s.mtimeMs}\n`);
  }
  const tarball = path.join(dir, `probe-rootfs-${nodeVersion}-${key.digest('hex').slice(0, 12)}.tar`);
  if (!opts.force && existsSync(tarball)) {
    return {
      tarball,
      bytes: statSync(tarball).size,
      nodeVersion,
      cached: true,
      ms: Math.round(performance.now() - started),
    };
  }

  await mkdir(dir, { recursive: true });
  const staging = await mkdtemp(path.join(dir, '.staging-'));
  try {
    const root = path.join(staging, 'rootfs');
    for (const d of ['bin', 'etc/ssl/certs', 'usr/local/bin', 'usr/bin', 'root', 'proc', 'sys', 'dev', 'tmp']) {
      await mkdir(path.join(root, d), { recursive: true });
    }
    await chmod(path.join(root, 'tmp'), 0o1777);
    await copyFile(busybox, path.join(root, 'bin/busybox'));
    await chmod(path.join(root, 'bin/busybox'), 0o755);
    const applets = (await mustRun(busybox, ['--list']))
      .split('\n')
      .map((a) => a.trim())
      .filter((a) => a && a !== 'busybox');
    for (const a of applets) await symlink('busybox', path.join(root, 'bin', a));
    // `#!/usr/bin/env node` scripts.
    await symlink('/bin/busybox', path.join(root, 'usr/bin/env'));

    const node = path.join(root, 'usr/local/bin/node');
    const strip = findTool('strip');
    if (strip) await mustRun(strip, ['--strip-all', '-o', node, nodeBinary]);
    else await copyFile(nodeBinary, node);
    await chmod(node, 0o755);
    for (const lib of libs) {
      const dest = path.join(root, lib.target);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(lib.source, dest);
      await chmod(dest, 0o755);
    }

    await copyFile(caBundle, path.join(root, 'etc/ssl/certs/ca-certificates.crt'));
    await writeFile(
      path.join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    );
    await writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await writeFile(path.join(root, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    await writeFile(
      path.join(root, 'etc/os-release'),
      `ID=mtu-preflight-lab\nNAME="mtu-preflight lab probe image (busybox + node ${nodeVersion})"\n`,
    );

    // Deterministic tar: same inputs, same bytes.
    const partial = path.join(staging, 'rootfs.tar');
    await mustRun(findTool('tar') ?? 'tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-C',
      root,
      '-cf',
      partial,
      '.',
    ]);
    await rename(partial, tarball);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // Older tarballs (another node version or CA bundle) are ~110 MB each: drop those not touched for a day.
  for (const f of await readdir(dir)) {
    const p = path.join(dir, f);
    if (f.startsWith('probe-rootfs-') && p !== tarball && Date.now() - statSync(p).mtimeMs > 86_400_000)
      await rm(p, { force: true });
  }
  return {
    tarball,
    bytes: statSync(tarball).size,
    nodeVersion,
    cached: false,
    ms: Math.round(performance.now() - started),
  };
}

/** `ldd` output as (library file, path inside the image): the loader and every `=> /path` entry. */
async function sharedLibraries(binary: string): Promise<Array<{ source: string; target: string }>> {
  const out = await mustRun(findTool('ldd') ?? 'ldd', [binary]);
  const libs: Array<{ source: string; target: string }> = [];
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (!m?.[1]) continue;
    libs.push({ source: await realpath(m[1]), target: m[1] });
  }
  if (!libs.some((l) => /ld-linux/.test(l.target)))
    throw new Error(`ldd ${binary}: no dynamic loader in its output:\n${out}`);
  return libs;
}

async function describeElf(file: string): Promise<string> {
  const fileTool = findTool('file');
  if (fileTool) return mustRun(fileTool, ['-L', file]);
  // Without file(1): a static binary has no PT_INTERP, so ldd says so.
  const r = await run(findTool('ldd') ?? 'ldd', [file]);
  return /not a dynamic executable|statically linked/.test(r.stdout + r.stderr)
    ? 'statically linked'
    : 'dynamically linked';
}

// ---------------------------------------------------------------------------------------------------------------
// 2. A dockerd in a network namespace

export interface NestedDockerdOptions {
  /** Name of an existing network namespace (/var/run/netns/<netns>). */
  netns: string;
  /** `--mtu` for the default bridge; omitted: dockerd's default (1500). */
  mtu?: number;
  /** `--bip`, default 172.30.<k>.1/24 with k counting daemons of this process (user networks: 172.30.128.0/17). */
  bip?: string;
  /**
   * `--bridge` instead of `--bip` (dockerd refuses both): the default network uses this existing bridge of the
   * namespace, as `dockerd --bridge=br0` does on a host with routable container IPs. The caller creates and owns it.
   */
  bridge?: string;
  /** `--dns` for containers (default 127.0.0.1: containers resolve nothing rather than ask a resolver outside the lab). */
  dns?: string[];
  /** More dockerd arguments, e.g. ['--default-network-opt=...'] on newer engines. */
  extraArgs?: string[];
}

export interface NestedDockerd {
  /** DOCKER_HOST value: unix://<dir>/docker.sock. */
  host: string;
  socketPath: string;
  /** The temp dir that holds data-root, exec-root, sockets, logs. Removed by stop(). */
  dir: string;
  netns: string;
  /** The `--bip` it was given. */
  bip: string;
  dockerdPid: number;
  containerdPid: number;
  /** dockerd's log (stdout + stderr); containerd's is beside it. */
  logFile: string;
  /** Milliseconds from spawning containerd to dockerd answering /_ping. */
  startMs: number;
  /** Run the docker CLI against this daemon. */
  docker(args: string[], opts?: DockerRunOptions): Promise<CommandResult>;
  /**
   * Remove all containers and user networks, stop dockerd then containerd (waiting for both to exit), kill what is
   * left in the daemon's cgroup, unmount everything under the temp dir, remove the bridges it made in the
   * namespace, the cgroups and the temp dir. Idempotent.
   */
  stop(): Promise<StopTimings>;
}

export interface StopTimings {
  /** Total time of stop(). */
  ms: number;
  /** `docker rm -f` of all containers + network prune. */
  removeMs: number;
  /** SIGTERM to exit of dockerd and containerd. */
  daemonExitMs: number;
  /** Mounts that were still there after the daemons exited (and were unmounted). */
  leftoverMounts: string[];
}

export interface DockerRunOptions {
  /** Written to the CLI's stdin. */
  input?: string | Buffer;
  /** SIGKILL the CLI after this long. */
  timeoutMs?: number;
  /** Extra environment (e.g. DOCKER_BUILDKIT). */
  env?: Record<string, string>;
  /** Which docker client binary (default: `docker` on PATH). */
  cli?: string;
}

let daemonCounter = 0;
const liveDaemons = new Set<() => void>();

/** Start containerd + dockerd in `netns` and wait until `/_ping` answers. */
export async function startNestedDockerd(opts: NestedDockerdOptions): Promise<NestedDockerd> {
  if (process.getuid?.() !== 0) throw new Error('startNestedDockerd needs root');
  const netnsPath = `/var/run/netns/${opts.netns}`;
  if (!existsSync(netnsPath)) throw new Error(`network namespace ${opts.netns} does not exist (${netnsPath})`);
  const tools = { dockerd: findTool('dockerd'), containerd: findTool('containerd'), nsenter: findTool('nsenter') };
  for (const [name, p] of Object.entries(tools))
    if (!p) throw new Error(`${name} not found (apt-get install docker.io util-linux)`);
  sweepStaleDaemons();

  const k = daemonCounter++ % 64;
  const bip = opts.bip ?? `172.30.${k}.1/24`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `mtudl-${process.pid}-`));
  const cgroupParent = `/${path.basename(dir)}`;
  const f = (...p: string[]) => path.join(dir, ...p);
  const socketPath = f('docker.sock');
  const containerdSock = f('containerd', 'containerd.sock');
  const children: ChildProcess[] = [];
  const emergency = (): void => emergencyCleanup(dir, children, opts.netns);
  liveDaemons.add(emergency);

  const started = performance.now();
  try {
    await mkdir(f('containerd'), { recursive: true });
    // Every path containerd would put under /run/containerd, /var/lib/containerd or /opt/containerd, in the temp dir.
    await writeFile(
      f('containerd', 'config.toml'),
      [
        'version = 2',
        `root = ${JSON.stringify(f('containerd', 'root'))}`,
        `state = ${JSON.stringify(f('containerd', 'state'))}`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = ${JSON.stringify(containerdSock)}`,
        '[ttrpc]',
        `  address = ${JSON.stringify(`${containerdSock}.ttrpc`)}`,
        '[debug]',
        `  address = ${JSON.stringify(f('containerd', 'debug.sock'))}`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = ${JSON.stringify(f('containerd', 'opt'))}`,
        '',
      ].join('\n'),
    );
    // For sweepStaleDaemons(): which namespace holds this daemon's bridges if the test process dies.
    await writeFile(f('netns'), opts.netns);
    // Our own daemon.json: the machine's /etc/docker/daemon.json must not leak in. dockerd 20.10 writes its identity
    // key to /etc/docker/key.json unless told otherwise, and only daemon.json can tell it (no flag).
    await writeFile(f('daemon.json'), `${JSON.stringify({ 'deprecated-key-path': f('key.json') }, null, 2)}\n`);

    const containerd = spawnLogged(
      tools.nsenter!,
      [`--net=${netnsPath}`, tools.containerd!, '--config', f('containerd', 'config.toml')],
      f('containerd.log'),
    );
    children.push(containerd);
    await waitFor(`containerd in ${opts.netns}`, containerd, f('containerd.log'), async () =>
      existsSync(containerdSock),
    );

    const args = [
      `--net=${netnsPath}`,
      tools.dockerd!,
      '--host',
      `unix://${socketPath}`,
      '--data-root',
      f('data'),
      '--exec-root',
      f('exec'),
      '--pidfile',
      f('docker.pid'),
      '--config-file',
      f('daemon.json'),
      '--containerd',
      containerdSock,
      ...(opts.bridge ? ['--bridge', opts.bridge] : ['--bip', bip]),
      '--default-address-pool',
      'base=172.30.128.0/17,size=24',
      '--cgroup-parent',
      cgroupParent,
      '--iptables=true',
      ...(opts.dns ?? ['127.0.0.1']).flatMap((d) => ['--dns', d]),
      ...(opts.mtu === undefined ? [] : ['--mtu', String(opts.mtu)]),
      ...(opts.extraArgs ?? []),
    ];
    const dockerd = spawnLogged(tools.nsenter!, args, f('dockerd.log'));
    children.push(dockerd);
    await waitFor(`dockerd in ${opts.netns}`, dockerd, f('dockerd.log'), () => ping(socketPath));
  } catch (err) {
    emergency();
    liveDaemons.delete(emergency);
    throw err;
  }
  const startMs = Math.round(performance.now() - started);
  const [containerd, dockerd] = children as [ChildProcess, ChildProcess];
  const host = `unix://${socketPath}`;
  const docker = (a: string[], o: DockerRunOptions = {}) => dockerCli(host, a, o);

  let stopping: Promise<StopTimings> | undefined;
  const stop = (): Promise<StopTimings> => {
    stopping ??= (async () => {
      const t0 = performance.now();
      const alive = dockerd.exitCode === null && dockerd.signalCode === null;
      const bridges = alive ? await bridgeNames(docker) : ['docker0'];
      if (alive) {
        const ids = (await docker(['ps', '-aq'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
        if (ids.length) await docker(['rm', '-f', '-v', ...ids], { timeoutMs: 60_000 });
        await docker(['network', 'prune', '-f'], { timeoutMs: 30_000 });
      }
      const removeMs = Math.round(performance.now() - t0);
      const t1 = performance.now();
      // dockerd first: on SIGTERM it stops its containers and detaches from containerd, which must still answer.
      await terminate(dockerd, STOP_TIMEOUT_MS);
      await terminate(containerd, STOP_TIMEOUT_MS);
      const daemonExitMs = Math.round(performance.now() - t1);
      killProcessesOf(dir, cgroupParent);
      const leftoverMounts = mountsUnder(dir);
      unmountAll(dir);
      const still = mountsUnder(dir);
      if (still.length)
        throw new Error(`nested dockerd ${dir}: still mounted after umount: ${still.join(', ')} (temp dir kept)`);
      for (const b of bridges) spawnSync(ipTool(), ['-n', opts.netns, 'link', 'del', b], { stdio: 'ignore' });
      removeCgroups(cgroupParent);
      rmSync(dir, { recursive: true, force: true });
      liveDaemons.delete(emergency);
      return { ms: Math.round(performance.now() - t0), removeMs, daemonExitMs, leftoverMounts };
    })();
    return stopping;
  };

  return {
    host,
    socketPath,
    dir,
    netns: opts.netns,
    bip,
    dockerdPid: dockerd.pid!,
    containerdPid: containerd.pid!,
    logFile: f('dockerd.log'),
    startMs,
    docker,
    stop,
  };
}

/** docker0 and the br-<id> bridges of user networks: what dockerd leaves in the namespace when it exits. */
async function bridgeNames(docker: NestedDockerd['docker']): Promise<string[]> {
  const r = await docker(['network', 'ls', '--filter', 'driver=bridge', '--format', '{{.ID}} {{.Name}}'], {
    timeoutMs: 30_000,
  });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', name] = l.split(' ');
      return name === 'bridge' ? 'docker0' : `br-${id.slice(0, 12)}`;
    });
}

/** Spawn with stdout + stderr appended to a log file (a pipe would fill up and block the daemon). */
function spawnLogged(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    // nsenter execs the program (only --net is entered, no fork needed), so the child's pid is the daemon's.
    return spawn(cmd, args, { stdio: ['ignore', fd, fd], env: daemonEnv() });
  } finally {
    closeSync(fd);
  }
}

async function waitFor(
  what: string,
  child: ChildProcess,
  logFile: string,
  ready: () => Promise<boolean> | boolean,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logFile)}`);
    }
    if (await ready()) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${READY_TIMEOUT_MS} ms:\n${tail(logFile)}`);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET /_ping on the daemon's socket: true once the API answers OK. */
function ping(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL every process still tied to the daemon: by cgroup (container processes) and by command line (shims). */
function killProcessesOf(dir: string, cgroupParent: string): number[] {
  const pids = new Set<number>();
  for (const controller of cgroupControllers()) {
    for (const procs of walk(path.join(controller, cgroupParent), 'cgroup.procs')) {
      for (const p of readText(procs).split('\n').filter(Boolean)) pids.add(Number(p));
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (readText(`/proc/${entry}/cmdline`).includes(dir)) pids.add(Number(entry));
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  // Give the kernel a moment to reap them, so their mounts (overlay rootfs) can go.
  const until = Date.now() + 5000;
  while ([...pids].some(isAlive) && Date.now() < until) spawnSync('sleep', ['0.05']);
  return [...pids];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still "exists"; it holds no mounts.
    return !/^State:\s+Z/m.test(readText(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

/** Mount points at or below `dir`, deepest first (as /proc/self/mountinfo spells them, octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  const points = readText('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function unmountAll(dir: string): void {
  for (let pass = 0; pass < 3; pass++) {
    const points = mountsUnder(dir);
    if (!points.length) return;
    for (const p of points) {
      if (spawnSync('umount', [p], { stdio: 'ignore' }).status !== 0)
        spawnSync('umount', ['-l', p], { stdio: 'ignore' });
    }
  }
}

function cgroupControllers(): string[] {
  try {
    return readdirSync('/sys/fs/cgroup')
      .map((c) => path.join('/sys/fs/cgroup', c))
      .filter((p) => {
        try {
          return statSync(p).isDirectory();
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** rmdir the daemon's cgroup parent in every hierarchy, children first (cgroup dirs can only be rmdir'ed). */
function removeCgroups(cgroupParent: string): void {
  for (const controller of cgroupControllers()) {
    const top = path.join(controller, cgroupParent);
    if (!existsSync(top)) continue;
    const dirs = [...walk(top, null)].sort((a, b) => b.length - a.length);
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch {
        /* busy or gone: reported by the test's cleanup check */
      }
    }
  }
}

/** Directories below `top` (inclusive), or the paths of a given file name in them. */
function* walk(top: string, file: string | null): Generator<string> {
  let entries;
  try {
    entries = readdirSync(top, { withFileTypes: true });
  } catch {
    return;
  }
  if (file === null) yield top;
  else if (entries.some((e) => e.name === file)) yield path.join(top, file);
  for (const e of entries) if (e.isDirectory()) yield* walk(path.join(top, e.name), file);
}

/** Synchronous last resort (process exit, failed start, stale dirs of a dead test process). */
function emergencyCleanup(dir: string, children: ChildProcess[], netns?: string): void {
  const cgroupParent = `/${path.basename(dir)}`;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  killProcessesOf(dir, cgroupParent);
  unmountAll(dir);
  const ns = netns ?? readText(path.join(dir, 'netns')).trim();
  if (ns && existsSync(`/var/run/netns/${ns}`)) {
    // Every docker0 / br-<network id> in the namespace it was given is this daemon's.
    const links = spawnSync(ipTool(), ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
    for (const [, name = ''] of links.matchAll(/^\d+: (docker0|br-[0-9a-f]{12})[:@]/gm)) {
      spawnSync(ipTool(), ['-n', ns, 'link', 'del', name], { stdio: 'ignore' });
    }
  }
  removeCgroups(cgroupParent);
  if (!mountsUnder(dir).length) rmSync(dir, { recursive: true, force: true });
}

/** Temp dirs of daemons whose test process is gone: kill, unmount, remove. */
function sweepStaleDaemons(): void {
  let entries: string[];
  try {
    entries = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of entries) {
    const m = DIR_PATTERN.exec(name);
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) emergencyCleanup(path.join(os.tmpdir(), name), []);
  }
}

process.once('exit', () => {
  for (const cleanup of liveDaemons) cleanup();
});

/** Nested daemons still running in this process (for tests' cleanup assertions). */
export function liveDaemonCount(): number {
  return liveDaemons.size;
}

/** Processes whose command line mentions `dir` (dockerd, containerd, shims of a daemon). */
export function processesMentioning(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => readText(`/proc/${e}/cmdline`).includes(dir))
    .map(Number);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Images and containers

export interface ImportedImage {
  tag: string;
  /** sha256:... */
  id: string;
  /** Size as the daemon reports it. */
  size: number;
  /** Time of `docker import`. */
  ms: number;
}

/** `docker import` the probe rootfs (built or reused from the cache when `tarball` is omitted). */
export async function importProbeImage(dockerHost: string, tag: string, tarball?: string): Promise<ImportedImage> {
  const file = tarball ?? (await buildProbeImageRootfs()).tarball;
  const r = await dockerCli(dockerHost, ['import', '--message', 'mtu-preflight lab probe image', file, tag], {
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`docker import ${file} ${tag} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  const size = await dockerCli(dockerHost, ['image', 'inspect', '--format', '{{.Size}}', tag], { timeoutMs: 30_000 });
  return { tag, id: r.stdout.trim(), size: Number(size.stdout.trim()), ms: r.ms };
}

export interface ContainerFile {
  /** Absolute path inside the container; its directory must exist in the image (docker cp does not create it). */
  path: string;
  /** Content, or a file on this machine to copy. */
  content?: string | Buffer;
  source?: string;
}

export interface RunWithFilesOptions {
  image: string;
  cmd: string[];
  files?: ContainerFile[];
  /** --network (default: the default bridge). */
  network?: string;
  /** Extra `docker create` arguments. */
  createArgs?: string[];
  /** SIGKILL the attached CLI and remove the container after this long (default 60 s). */
  timeoutMs?: number;
}

export interface RunWithFilesResult extends CommandResult {
  /** Exit code of the container (docker start -a exits with it). */
  exit: number | null;
  createMs: number;
  copyMs: number;
  /** docker start -a until exit. */
  runMs: number;
}

/**
 * Run a command in a fresh container with files put in by `docker cp` (no bind mount: the daemon may not share this
 * machine's file system, as with a DinD service), then remove it.
 */
export async function runWithFiles(
  d: Pick<NestedDockerd, 'docker' | 'dir'>,
  o: RunWithFilesOptions,
): Promise<RunWithFilesResult> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const created = await d.docker(
    ['create', ...(o.network ? ['--network', o.network] : []), ...(o.createArgs ?? []), o.image, ...o.cmd],
    { timeoutMs },
  );
  if (created.code !== 0) throw new Error(`docker create failed: ${created.stderr.trim()}`);
  const id = created.stdout.trim();
  try {
    const t = performance.now();
    for (const file of o.files ?? []) {
      let source = file.source;
      if (source === undefined) {
        source = path.join(d.dir, `cp-${process.hrtime.bigint()}-${path.basename(file.path)}`);
        await writeFile(source, file.content ?? '');
      }
      const cp = await d.docker(['cp', source, `${id}:${file.path}`], { timeoutMs });
      if (cp.code !== 0) throw new Error(`docker cp ${source} ${id}:${file.path} failed: ${cp.stderr.trim()}`);
    }
    const copyMs = Math.round(performance.now() - t);
    const started = await d.docker(['start', '-a', id], { timeoutMs });
    return { ...started, exit: started.code, createMs: created.ms, copyMs, runMs: started.ms };
  } finally {
    await d.docker(['rm', '-f', id], { timeoutMs: 30_000 });
  }
}

/** The `MTU-LAB-PROBE {json}` line of fetch-probe.cjs, from container or build output. */
export interface FetchProbeResult {
  url: string;
  /** The container's /sys/class/net/<name>/mtu. */
  interfaces: Record<string, number>;
  status: number;
  bytes: number;
  connectMs: number | null;
  tlsMs: number | null;
  headersMs: number | null;
  totalMs: number;
  complete: boolean;
  error: string | null;
  code: string | null;
}

export function parseFetchProbe(output: string): FetchProbeResult {
  const m = /MTU-LAB-PROBE (\{.*\})/.exec(output);
  if (!m?.[1]) throw new Error(`no MTU-LAB-PROBE line in output:\n${output.slice(-2000)}`);
  return JSON.parse(m[1]) as FetchProbeResult;
}

/** Run the docker CLI against `host` (DOCKER_HOST is set, any DOCKER_CONTEXT dropped). */
export function dockerCli(host: string, args: string[], o: DockerRunOptions = {}): Promise<CommandResult> {
  const cli = o.cli ?? findTool('docker');
  if (!cli) throw new Error('docker CLI not found (apt-get install docker.io)');
  return run(cli, ['--host', host, ...args], {
    input: o.input,
    timeoutMs: o.timeoutMs,
    env: { ...daemonEnv(), ...o.env },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

/** This process's environment without proxy or docker settings: a lab daemon must not learn the machine's proxy. */
function daemonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^((https?|all|no|ftp)_proxy|npm_config_(https_)?proxy|node_use_env_proxy|docker_.*)$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

function run(
  cmd: string,
  args: string[],
  o: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: o.env ?? process.env,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Math.round(performance.now() - started),
      });
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

async function mustRun(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const toolCache = new Map<string, string | undefined>();
/** Absolute path of a tool: root's PATH usually has /usr/sbin, a CI user's may not. */
export function findTool(name: string): string | undefined {
  if (!toolCache.has(name)) {
    const dirs = [
      ...(process.env.PATH ?? '').split(':'),
      '/usr/local/sbin',
      '/usr/local/bin',
      '/usr/sbin',
      '/usr/bin',
      '/sbin',
      '/bin',
    ].filter(Boolean);
    toolCache.set(
      name,
      dirs
        .map((d) => path.join(d, name))
        .find((p) => {
          try {
            accessSync(p, fsConstants.X_OK);
            return true;
          } catch {
            return false;
          }
        }),
    );
  }
  return toolCache.get(name);
}

function ipTool(): string {
  const ip = findTool('ip');
  if (!ip) throw new Error('ip (iproute2) not found');
  return ip;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Everything on a daemon that carries the tool's label (io.mtu-preflight=1): containers, networks and images, as
 * "container <id>" lines. The lab tests assert this is empty after every run, killed ones included.
 */
export async function labelledLeftovers(d: Pick<NestedDockerd, 'docker'>): Promise<string[]> {
  const list = async (what: string[]) =>
    (await d.docker([...what, '--filter', 'label=io.mtu-preflight=1', '-q'])).stdout.split('\n').filter(Boolean);
  const [c, n, i] = await Promise.all([list(['ps', '-a']), list(['network', 'ls']), list(['images', '-a'])]);
  return [...c.map((x) => `container ${x}`), ...n.map((x) => `network ${x}`), ...i.map((x) => `image ${x}`)];
}

/** A docker command that must succeed (a scenario's setup): its stdout, or an error naming the command. */
export async function mustDocker(d: NestedDockerd, args: string[], input?: string): Promise<string> {
  const r = await d.docker(args, { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} -> exit ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * A buildx builder STAND-IN (no BuildKit image can be had here): a container of `image` made as buildx's
 * docker-container driver makes its builder (the name `buildx_buildkit_<builder>0`, the state volume, `buildkitd
 * <flags>` as its command), asleep. With `bridge`, BuildKit's bridge mode is modelled in its namespace: buildkit0 at
 * 1500 (the CNI bridge plugin's default) with one veth port. Returns the container's pid.
 */
export async function standInBuilder(
  d: NestedDockerd,
  o: { image: string; builder: string; network?: string; flags?: string[]; bridge?: boolean },
): Promise<number> {
  const name = `buildx_buildkit_${o.builder}0`;
  await mustDocker(d, [
    'run',
    '-d',
    '--name',
    name,
    ...(o.network ? ['--network', o.network] : []),
    '-v',
    `${name}_state:/var/lib/buildkit`,
    '--entrypoint',
    '/bin/sh',
    o.image,
    '-c',
    'exec sleep 86400',
    'buildkitd',
    ...(o.flags ?? []),
  ]);
  const pid = Number(await mustDocker(d, ['inspect', '-f', '{{.State.Pid}}', name]));
  if (!o.bridge) return pid;
  for (const a of [
    ['link', 'add', 'buildkit0', 'type', 'bridge'],
    ['link', 'add', 'bkstep0', 'type', 'veth', 'peer', 'name', 'bkstep0p'],
    ['link', 'set', 'bkstep0', 'master', 'buildkit0'],
    ['link', 'set', 'bkstep0', 'up'],
    ['link', 'set', 'bkstep0p', 'up'],
    ['addr', 'add', '10.10.0.1/16', 'dev', 'buildkit0'],
    ['link', 'set', 'buildkit0', 'up'],
  ]) {
    const r = spawnSync('nsenter', ['-t', String(pid), '-n', 'ip', ...a], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nsenter ip ${a.join(' ')}: ${r.stderr}`);
  }
  return pid;
}

/** A command in the lab's runner namespace that must succeed (a scenario's setup). */
export async function mustExec(l: Lab, cmd: string, args: string[]): Promise<string> {
  const r = await l.exec(cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} -> exit ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * The swarm set up right, before `docker swarm init`: docker_gwbridge takes an MTU only when it is created, so it is
 * created by hand, with the options Docker would give it, before the node joins a swarm.
 */
export async function createGwbridge(d: NestedDockerd, mtu: number): Promise<void> {
  await mustDocker(d, [
    'network',
    'create',
    '--opt',
    'com.docker.network.bridge.name=docker_gwbridge',
    '--opt',
    'com.docker.network.bridge.enable_icc=false',
    '--opt',
    'com.docker.network.bridge.enable_ip_masquerade=true',
    '--opt',
    `com.docker.network.driver.mtu=${mtu}`,
    'docker_gwbridge',
  ]);
}

/**
 * The swarm set up right, after `docker swarm init`, which has no MTU option: the routing mesh is re-created with
 * one (it would otherwise give containers 1450 on a 1450 underlay, as any overlay without the option does).
 */
export async function recreateIngress(d: NestedDockerd, mtu: number): Promise<void> {
  await mustDocker(d, ['network', 'rm', 'ingress'], 'y\n');
  for (const until = Date.now() + 20_000; (await d.docker(['network', 'inspect', 'ingress'])).code === 0;) {
    if (Date.now() > until) throw new Error('ingress still there 20 s after docker network rm');
    await new Promise((res) => setTimeout(res, 200));
  }
  await mustDocker(d, [
    'network',
    'create',
    '--driver',
    'overlay',
    '--ingress',
    '--opt',
    `com.docker.network.driver.mtu=${mtu}`,
    'ingress',
  ]);
}
