/**
 * npm run bench: time to verdict per lab scenario, and the CLI's cold start.
 * Figures for notes and the README; never asserted in tests (the machine is shared and noisy).
 * Runs as root (it builds the same network namespaces as the lab tests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildProbeImageRootfs, importProbeImage, startNestedDockerd } from '../test/lab/harness/docker-lab.js';
import { createLab, type LabOptions } from '../test/lab/harness/lab.js';
import { CLI, runCli } from '../test/lab/cli.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const root = path.resolve(import.meta.dirname, '..');
execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs'), path.join(root, '.lab-tmp/dist')], { stdio: 'inherit' });

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
  ['healthy 1500', {}, (l) => ['--url', `https://${l.registryName}/big`, '--registries', 'none', '--ca-file', l.caFile, '--json']],
  ['black hole 1450, ICMP dropped', { bottleneckMtu: 1450, dropFragNeeded: true }, (l) => ['--url', `https://${l.registryName}/big`, '--registries', 'none', '--ca-file', l.caFile, '--json']],
  ['1450 with PMTUD working', { bottleneckMtu: 1450 }, (l) => ['--url', `https://${l.registryName}/big`, '--registries', 'none', '--ca-file', l.caFile, '--json']],
  ['dns failure', {}, (l) => ['--url', 'https://nowhere.lab.test/x', '--registries', 'none', '--ca-file', l.caFile, '--json']],
  ['connect refused', {}, (l) => ['--url', `https://${l.registryName}:9443/x`, '--registries', 'none', '--json']],
  ['npm+rubygems+pecl (lab DNS)', { names: ['registry.npmjs.org', 'rubygems.org', 'pecl.php.net'] }, (l) => ['--ca-file', l.caFile, '--json']],
];

for (const [name, opts, args] of scenarios) {
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
const dockerScenarios: Array<[string, LabOptions, number | undefined]> = [
  ['dind on flannel 1450, ICMP dropped', { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true }, undefined],
  ['dind behind Calico IP-in-IP 1480', { runnerMtu: 1480, bottleneckMtu: 1480, dropFragNeeded: true }, undefined],
  ['dind 1450, PMTUD working', { runnerMtu: 1450, bottleneckMtu: 1450 }, undefined],
  ['dind healthy 1500', {}, undefined],
  ['dind --mtu 1450 (fixed)', { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true }, 1450],
];
for (const [name, opts, mtu] of dockerScenarios) {
  const times: number[] = [];
  let verdict = '';
  for (let i = 0; i < ROUNDS; i++) {
    const lab = await createLab(opts);
    const d = await startNestedDockerd({ netns: lab.runnerNs, dns: [lab.dnsIp], ...(mtu ? { mtu } : {}) });
    try {
      await importProbeImage(d.host, IMAGE, rootfs);
      const r = await runCli(
        lab,
        ['--url', `https://${lab.registryName}/blob`, '--registries', 'none', '--ca-file', lab.caFile, '--probe-image', IMAGE, '--pull', 'never', '--json', '--no-lint'],
        { env: { DOCKER_HOST: d.host } },
      );
      times.push(r.ms);
      const f = r.report?.findings.find((x) => x.verified);
      verdict = `${r.report?.verdict ?? '?'} (exit ${r.code}; ${(r.report?.findings ?? []).map((x) => x.code).join(',') || 'no findings'}${f?.verified ? `; verified ${f.verified.mtu}: ${f.verified.detail}` : ''})`;
    } finally {
      await d.stop();
      await lab.close();
    }
  }
  console.log(`${name.padEnd(34)} ${stats(times)}  → ${verdict}`);
}
