/**
 * The clients users have, at their default settings, on the same black holes as mtu-preflight, in the same run:
 * curl, wget, npm, pip and git on the host-level black hole, `docker build` with `RUN curl` on DinD over flannel.
 * Each is capped at PEER_CAP_MS; what each prints last and how long it took to fail are what a user would see.
 * tracepath and `ping -M do` run beside them: what they conclude is printed too (they see only one direction).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildProbeImageRootfs, findTool, type CommandResult } from '../../test/lab/harness/docker-lab.js';
import { createLab, type ExecResult, type Lab } from '../../test/lab/harness/lab.js';
import { BLACK_HOLE_1450, IMAGE, nestedArgs, withDockerLab, type Daemon } from './docker.js';
import { HOST_BLACK_HOLE } from './host.js';
import { measure, ratio, verdictOf, type Bundle } from './lib.js';

const PEER_CAP_MS = Number(process.env.BENCH_PEER_CAP_MS ?? 120_000);

interface PeerResult {
  name: string;
  ms: number;
  code: number | null;
  timedOut: boolean;
  lastLine: string;
}

/** What a user sees last: the client's last error line, else the last line it printed. */
const lastLine = (r: Pick<ExecResult, 'stdout' | 'stderr'>): string => {
  const last = (t: string) =>
    t
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1);
  return (last(r.stderr) ?? last(r.stdout) ?? '(no output)').slice(0, 140);
};

function peerResult(name: string, r: ExecResult | CommandResult, stdoutOnly = false): PeerResult {
  // timeout(1) exits 137 after its SIGKILL.
  const timedOut = r.code === 137 || r.code === null;
  return { name, ms: r.ms, code: r.code, timedOut, lastLine: lastLine(stdoutOnly ? { ...r, stderr: '' } : r) };
}

/**
 * A clean environment: this machine sets PIP_DEFAULT_TIMEOUT, find-links and a global npmrc, none of which a user's
 * runner has. `env -i` drops them; the config-file variables point pip and npm past the machine-wide files.
 */
const defaultsOnly = (home: string): string[] => [
  '-i',
  `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
  `HOME=${home}`,
  'PIP_CONFIG_FILE=/dev/null',
  'NPM_CONFIG_GLOBALCONFIG=/dev/null',
  'GIT_CONFIG_NOSYSTEM=1',
];

/**
 * coreutils timeout kills the peer's whole process group at the cap: git's remote helper and pyenv's shim children
 * would otherwise hold the output pipe open past it.
 */
const capped = (cmd: string, args: string[]): string[] => [
  'timeout',
  '-s',
  'KILL',
  `${PEER_CAP_MS / 1000}`,
  cmd,
  ...args,
];

/** Each peer as a user runs it: only the lab registry's address and CA differ from their defaults. */
function hostPeers(lab: Lab): Array<[string, string, string[]]> {
  const base = `https://${lab.registryName}`;
  return [
    ['curl', 'curl', ['-sS', '-o', '/dev/null', '--cacert', lab.caFile, `${base}/big`]],
    ['wget', 'wget', ['-q', '-O', '/dev/null', `--ca-certificate=${lab.caFile}`, `${base}/big`]],
    ['npm view', 'npm', ['view', 'left-pad', `--registry=${base}/`, `--cafile=${lab.caFile}`]],
    ['npm ping', 'npm', ['ping', `--registry=${base}/`, `--cafile=${lab.caFile}`]],
    [
      'pip download',
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '-d',
        path.join(lab.tmpDir, 'pip'),
        '--index-url',
        `${base}/simple/`,
      ].concat(['--cert', lab.caFile, 'six']),
    ],
    ['git ls-remote', 'git', ['-c', `http.sslCAInfo=${lab.caFile}`, 'ls-remote', `${base}/repo.git`]],
  ];
}

function printPeers(title: string, ours: { ms: number; verdict: string }, peers: PeerResult[]): void {
  console.log(`\npeers: ${title} (each at its defaults, capped at ${PEER_CAP_MS / 1000} s)`);
  console.log(`  ${'mtu-preflight'.padEnd(18)} ${(ours.ms / 1000).toFixed(1).padStart(6)} s  → ${ours.verdict}`);
  for (const p of peers) {
    const t = p.timedOut ? `still stalled at ${(PEER_CAP_MS / 1000).toFixed(0)} s` : `${(p.ms / 1000).toFixed(1)} s`;
    console.log(
      `  ${p.name.padEnd(18)} ${t.padStart(6)} (exit ${p.code ?? 'killed'}; ${ratio(p.ms, ours.ms)} of ours)  last line: ${p.lastLine}`,
    );
  }
}

async function pathTools(lab: Lab): Promise<void> {
  const tracepath = findTool('tracepath');
  const tp = tracepath
    ? await lab.exec(tracepath, ['-n', '-m', '6', lab.registryIp], { timeoutMs: 30_000 })
    : undefined;
  const ping = await lab.exec('ping', ['-M', 'do', '-s', '1472', '-c', '3', '-W', '1', lab.registryIp], {
    timeoutMs: 15_000,
  });
  console.log(`  ${'tracepath'.padEnd(18)} ${tp ? lastLine(tp) : 'not installed (apt-get install iputils-tracepath)'}`);
  console.log(
    `  ${'ping -M do -s 1472'.padEnd(18)} ${lastLine({
      stdout: ping.stdout
        .split('\n')
        .filter((l) => /transmitted|too long|frag/i.test(l))
        .join('\n'),
      stderr: ping.stderr,
    })}`,
  );
}

export async function benchPeersHost(bundle: Bundle): Promise<void> {
  const ours = await (async () => {
    const lab = await createLab(HOST_BLACK_HOLE);
    try {
      return await measure(
        lab,
        bundle,
        ['--url', `https://${lab.registryName}/big`, '--registries', 'none'].concat([
          '--ca-file',
          lab.caFile,
          '--json',
        ]),
      );
    } finally {
      await lab.close();
    }
  })();
  // All peers at once in one fresh lab: with the ICMP dropped nothing is learned that one could pass to another.
  const lab = await createLab(HOST_BLACK_HOLE);
  try {
    const home = path.join(lab.tmpDir, 'home');
    mkdirSync(home, { recursive: true });
    const peers = await Promise.all(
      hostPeers(lab).map(async ([name, cmd, args]) =>
        peerResult(
          name,
          await lab.exec('env', [...defaultsOnly(home), ...capped(cmd, args)], { timeoutMs: PEER_CAP_MS + 5000 }),
        ),
      ),
    );
    printPeers(
      'host-level black hole, 1400 hop upstream, ICMP dropped',
      { ms: ours.ms, verdict: verdictOf(ours) },
      peers,
    );
    await pathTools(lab);
  } finally {
    await lab.close();
  }
}

/** A context holding curl, the libraries `ldd` lists for it and the lab CA, layered on the probe image. */
function curlImageContext(dir: string, caFile: string): string {
  const curl = findTool('curl');
  if (!curl) throw new Error('bench: curl not found (apt-get install curl)');
  const fs = path.join(dir, 'fs');
  const put = (src: string, dest: string) => {
    mkdirSync(path.join(fs, path.dirname(dest)), { recursive: true });
    copyFileSync(realpathSync(src), path.join(fs, dest));
  };
  put(curl, '/usr/bin/curl');
  for (const m of execFileSync('ldd', [curl], { encoding: 'utf8' }).matchAll(/(\/\S+)\s+\(0x/g)) put(m[1]!, m[1]!);
  put(caFile, '/lab-ca.pem');
  writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${IMAGE}\nCOPY fs/ /\n`);
  return dir;
}

export async function benchPeersDind(bundle: Bundle): Promise<void> {
  const rootfs = (await buildProbeImageRootfs()).tarball;
  const sc = { opts: BLACK_HOLE_1450 };
  const ours = await withDockerLab(sc, rootfs, (lab, d) =>
    measure(lab, bundle, nestedArgs(lab), { DOCKER_HOST: d.host }),
  );
  const peer = await withDockerLab(sc, rootfs, async (lab, d: Daemon) => {
    const env = { DOCKER_BUILDKIT: '0' };
    const base = await d.docker(
      ['build', '-q', '-t', 'mtp-peer-curl', curlImageContext(path.join(lab.tmpDir, 'ctx'), lab.caFile)],
      { env },
    );
    if (base.code !== 0) throw new Error(`bench: could not build the curl image: ${base.stderr}`);
    const step = path.join(lab.tmpDir, 'step');
    mkdirSync(step);
    writeFileSync(
      path.join(step, 'Dockerfile'),
      `FROM mtp-peer-curl\nRUN curl -sS -o /dev/null --cacert /lab-ca.pem https://${lab.registryName}/blob\n`,
    );
    return peerResult(
      'docker build, RUN curl',
      await d.docker(['build', '--no-cache', step], { env, timeoutMs: PEER_CAP_MS }),
      // Its stderr holds only the CLI's notice that the legacy builder is deprecated, printed first.
      true,
    );
  });
  printPeers(
    'DinD on flannel 1450, ICMP dropped, containers on docker0 at 1500',
    { ms: ours.ms, verdict: verdictOf(ours) },
    [peer],
  );
}
