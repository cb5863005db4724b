/**
 * npm run bench: this checkout beside the previous release (BENCH_BASELINE, built from git) in the same run:
 * dist/ size, cold start beside a bare node, time to verdict and peak RSS per lab scenario, and the clients users
 * have (curl, wget, npm, pip, git, docker build) on the same black holes. Figures for notes and the README; never
 * asserted in tests (the machine is shared and noisy). Runs as root (it builds the lab's network namespaces).
 *
 *   BENCH_PARTS=host,peers        only these parts (footprint, host, docker, podman, peers; default all)
 *   BENCH_ONLY=<part of a name>   only the scenarios whose name contains it
 *   BENCH_ROUNDS=3                runs per scenario and bundle
 *   BENCH_BASELINE=<rev>|none     the release to compare against
 */
import { benchDocker } from './docker.js';
import { printColdStart, printDistSizes } from './footprint.js';
import { benchHost } from './host.js';
import { buildCurrent, extractBaseline, ROUNDS, type Bundle } from './lib.js';
import { benchPeersDind, benchPeersHost } from './peers.js';
import { benchPodman } from './podman.js';

const PARTS = (process.env.BENCH_PARTS ?? 'footprint,host,docker,podman,peers').split(',');
const part = (p: string) => PARTS.includes(p);

const current = buildCurrent();
const baseline = extractBaseline();
const bundles: Bundle[] = [current, ...(baseline ? [baseline] : [])];
console.log(
  `bench ${new Date().toISOString().slice(0, 10)}: ${bundles.map((b) => b.label).join(' vs ')}, ${ROUNDS} rounds`,
);

if (part('footprint')) {
  printDistSizes(bundles);
  printColdStart(bundles);
}
if (part('host')) await benchHost(bundles);
if (part('docker')) await benchDocker(bundles);
if (part('podman')) await benchPodman(bundles);
if (part('peers')) {
  await benchPeersHost(current);
  await benchPeersDind(current);
}
