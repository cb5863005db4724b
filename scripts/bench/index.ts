/**
 * npm run bench: this checkout beside the previous release (BENCH_BASELINE, built from git) in the same run:
 * dist/ size, cold start beside a bare node, time to verdict and peak RSS per lab scenario, and the clients users
 * have (curl, wget, npm, pip, git, docker build) on the same black holes. Figures for notes and the README; never
 * asserted in tests (the machine is shared and noisy). Runs as root (it builds the lab's network namespaces).
 *
 *   BENCH_ONLY=<part of a name>   only those scenarios ("peers" for the peers, "footprint" for sizes and start)
 *   BENCH_ROUNDS=3                runs per scenario and bundle
 *   BENCH_BASELINE=<rev>|none     the release to compare against
 */
import { benchDocker } from './docker.js';
import { printColdStart, printDistSizes } from './footprint.js';
import { benchHost } from './host.js';
import { buildCurrent, extractBaseline, only, ROUNDS, type Bundle } from './lib.js';
import { benchPeersDind, benchPeersHost } from './peers.js';
import { benchPodman } from './podman.js';

const current = buildCurrent();
const baseline = extractBaseline();
const bundles: Bundle[] = [current, ...(baseline ? [baseline] : [])];
console.log(
  `bench ${new Date().toISOString().slice(0, 10)}: ${bundles.map((b) => b.label).join(' vs ')}, ${ROUNDS} rounds`,
);

if (only('footprint')) {
  printDistSizes(bundles);
  printColdStart(bundles);
}
await benchHost(bundles);
await benchDocker(bundles);
await benchPodman(bundles);
if (only('peers')) {
  await benchPeersHost(current);
  await benchPeersDind(current);
}
