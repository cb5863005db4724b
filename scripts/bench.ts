/**
 * npm run bench: time to verdict per lab scenario, and the CLI's cold start.
 * Figures for notes and the README; never asserted in tests (the machine is shared and noisy).
 * Runs as root (it builds the same network namespaces as the lab tests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildProbeImageRootfs, importProbeImage, startNestedDockerd } from '../test/lab/harness/docker-lab.js';
import { createLab, RUNNER_LINK, type LabOptions } from '../test/lab/harness/lab.js';
import { CLI, LAB_DIST, runCli } from '../test/lab/cli.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_ONLY=buildx: only the scenarios whose name contains it. */
const only = (name: string) => !process.env.BENCH_ONLY || name.includes(process.env.BENCH_ONLY);
const root = path.resolve(import.meta.dirname, '..');
// Into the lab's bundle folder (MTU_LAB_DIST, as the lab tests): a session's bench never overwrites another's bundle.
execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs'), LAB_DIST], {
  stdio: 'inherit',
});

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)]!;
  return `median ${med.toFixed(0)} ms  min ${s[0]!.toFixed(0)}  max ${s.at(-1)!.toFixed(0)}  (n=${s.length})`;
}

// Cold start: a fresh node process printing --help.
const cold: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  spawnSync(process.execPath, [CLI, '--help'], { stdio: 'ignore' });
  cold.push(performance.now() - t);
}
console.log(`cli cold start (--help)            ${stats(cold)}`);

const scenarios: Array<[string, LabOptions, (l: Awaited<ReturnType<typeof createLab>>) => string[]]> = [
  [
    'healthy 1500',
    {},
    (l) => ['--url', `https://${l.registryName}/big`, '--registries', 'none', '--ca-file', l.caFile, '--json'],
  ],
  [
    'black hole 1450, ICMP dropped',
    { bottleneckMtu: 1450, dropFragNeeded: true },
    (l) => ['--url', `https://${l.registryName}/big`, '--registries', 'none', '--ca-file', l.caFile, '--json'],
  ],
  [
    '1450 with PMTUD working',
    { bottleneckMtu: 1450 },
    (l) => ['--url', `https://${l.registryName}/big`, '--registries', 'none', '--ca-file', l.caFile, '--json'],
  ],
  [
    'dns failure',
    {},
    (l) => ['--url', 'https://nowhere.lab.test/x', '--registries', 'none', '--ca-file', l.caFile, '--json'],
  ],
  ['connect refused', {}, (l) => ['--url', `https://${l.registryName}:9443/x`, '--registries', 'none', '--json']],
  [
    'npm+rubygems+pecl (lab DNS)',
    { names: ['registry.npmjs.org', 'rubygems.org', 'pecl.php.net'] },
    (l) => ['--ca-file', l.caFile, '--json'],
  ],
];

for (const [name, opts, args] of scenarios.filter(([n]) => only(n))) {
  const times: number[] = [];
  let verdict = '';
  for (let i = 0; i < ROUNDS; i++) {
    const lab = await createLab(opts);
    try {
      const r = await runCli(lab, args(lab));
      times.push(r.ms);
      verdict = `${r.report?.verdict ?? '?'} (exit ${r.code}; ${(r.report?.findings ?? []).map((f) => f.code).join(',') || 'no findings'})`;
    } finally {
      await lab.close();
    }
  }
  console.log(`${name.padEnd(34)} ${stats(times)}  → ${verdict}`);
}

// The nested Docker layer: a real dockerd in the runner namespace, the probe image present (imported).
const IMAGE = 'mtp-probe:bench';
const rootfs = (await buildProbeImageRootfs()).tarball;
type DockerLab = Awaited<ReturnType<typeof createLab>>;
type Daemon = Awaited<ReturnType<typeof startNestedDockerd>>;
interface DockerScenario {
  opts: LabOptions;
  daemon?: { mtu?: number; bridge?: string };
  /** In the runner namespace before dockerd starts (a host bridge for --bridge). */
  before?: (lab: DockerLab) => Promise<unknown>;
  /** On the daemon before the run (a swarm, a macvlan network). */
  setup?: (lab: DockerLab, d: Daemon) => Promise<unknown>;
  /** Before the daemon stops (leave the swarm, so dockerd tears its overlay sandboxes down itself). */
  teardown?: (d: Daemon) => Promise<unknown>;
}
const BLACK_HOLE_1450: LabOptions = { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true };
const must = async (p: Promise<{ code: number | null; stderr: string }>) => {
  const r = await p;
  if (r.code !== 0) throw new Error(r.stderr);
};
/**
 * Issue 11: a buildx builder STAND-IN (no BuildKit image here), made as buildx's docker-container driver makes its
 * container (name, state volume, `buildkitd <flags>` command), and BuildKit's bridge modelled by buildkit0 created
 * in its namespace (test/lab/builders.itg.test.ts has the assertions).
 */
async function standInBuilder(d: Daemon, network: string | undefined, flags: string[], bridge = false): Promise<void> {
  const name = 'buildx_buildkit_bench0';
  await must(
    d.docker([
      'run',
      '-d',
      '--name',
      name,
      ...(network ? ['--network', network] : []),
      '-v',
      `${name}_state:/var/lib/buildkit`,
      '--entrypoint',
      '/bin/sh',
      IMAGE,
      '-c',
      'exec sleep 86400',
      'buildkitd',
      ...flags,
    ]),
  );
  if (!bridge) return;
  const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim();
  for (const a of [
    ['link', 'add', 'buildkit0', 'type', 'bridge'],
    ['link', 'add', 'bkstep0', 'type', 'veth', 'peer', 'name', 'bkstep0p'],
    ['link', 'set', 'bkstep0', 'master', 'buildkit0'],
    ['link', 'set', 'bkstep0', 'up'],
    ['link', 'set', 'buildkit0', 'up'],
  ])
    execFileSync('nsenter', ['-t', pid, '-n', 'ip', ...a]);
}
const dockerScenarios: Array<[string, DockerScenario]> = [
  ['dind on flannel 1450, ICMP dropped', { opts: BLACK_HOLE_1450 }],
  ['dind behind Calico IP-in-IP 1480', { opts: { runnerMtu: 1480, bottleneckMtu: 1480, dropFragNeeded: true } }],
  ['dind 1450, PMTUD working', { opts: { runnerMtu: 1450, bottleneckMtu: 1450 } }],
  ['dind healthy 1500', { opts: {} }],
  ['dind --mtu 1450 (fixed)', { opts: BLACK_HOLE_1450, daemon: { mtu: 1450 } }],
  // Issue 6, the network shapes (test/lab/shapes.itg.test.ts has the assertions).
  [
    'swarm overlay 1500, docker_gwbridge',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: async (lab, d) => {
        await must(d.docker(['swarm', 'init', '--advertise-addr', lab.runnerIp]));
        await must(
          d.docker([
            'network',
            'create',
            '-d',
            'overlay',
            '--attachable',
            '--opt',
            'com.docker.network.driver.mtu=1500',
            'ov1500',
          ]),
        );
      },
      teardown: (d) => d.docker(['swarm', 'leave', '--force']),
    },
  ],
  [
    'macvlan, option 1500 on a 1450 parent',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: (_lab, d) =>
        must(
          d.docker([
            'network',
            'create',
            '-d',
            'macvlan',
            '-o',
            'parent=eth0',
            '-o',
            'com.docker.network.driver.mtu=1500',
            '--subnet',
            RUNNER_LINK.subnet,
            '--gateway',
            RUNNER_LINK.router,
            '--ip-range',
            '10.213.1.192/28',
            'mv1500',
          ]),
        ),
    },
  ],
  [
    'buildx builder on a 1500 network',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: async (_lab, d) => {
        await must(d.docker(['network', 'create', 'buildnet']));
        await standInBuilder(d, 'buildnet', []);
      },
    },
  ],
  [
    'buildx builder on a 1450 network',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: async (_lab, d) => {
        await must(d.docker(['network', 'create', '--opt', 'com.docker.network.driver.mtu=1450', 'buildnet']));
        await standInBuilder(d, 'buildnet', []);
      },
    },
  ],
  [
    'buildx builder, BuildKit bridge 1500',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: (_lab, d) => standInBuilder(d, undefined, ['--oci-worker-net=bridge'], true),
    },
  ],
  [
    'dockerd --bridge=br0 1500 over 1450',
    {
      opts: BLACK_HOLE_1450,
      daemon: { bridge: 'br0' },
      before: async (lab) => {
        await lab.exec('ip', ['link', 'add', 'br0', 'type', 'bridge']);
        await lab.exec('ip', ['link', 'set', 'br0', 'mtu', '1500', 'up']);
        await lab.exec('ip', ['addr', 'add', '172.31.77.1/24', 'dev', 'br0']);
      },
    },
  ],
];
for (const [name, sc] of dockerScenarios.filter(([n]) => only(n))) {
  const times: number[] = [];
  let verdict = '';
  for (let i = 0; i < ROUNDS; i++) {
    const lab = await createLab(sc.opts);
    await sc.before?.(lab);
    const d = await startNestedDockerd({ netns: lab.runnerNs, dns: [lab.dnsIp], ...sc.daemon });
    try {
      await importProbeImage(d.host, IMAGE, rootfs);
      await sc.setup?.(lab, d);
      const r = await runCli(
        lab,
        [
          '--url',
          `https://${lab.registryName}/blob`,
          '--registries',
          'none',
          '--ca-file',
          lab.caFile,
          '--probe-image',
          IMAGE,
          '--pull',
          'never',
          '--json',
          '--no-lint',
        ],
        { env: { DOCKER_HOST: d.host } },
      );
      times.push(r.ms);
      const f = r.report?.findings.find((x) => x.verified);
      verdict = `${r.report?.verdict ?? '?'} (exit ${r.code}; ${(r.report?.findings ?? []).map((x) => x.code).join(',') || 'no findings'}${f?.verified ? `; verified ${f.verified.mtu}: ${f.verified.detail}` : ''})`;
    } finally {
      await sc.teardown?.(d);
      await d.stop();
      await lab.close();
    }
  }
  console.log(`${name.padEnd(34)} ${stats(times)}  → ${verdict}`);
}
