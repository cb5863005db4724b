/** The host layer's scenarios: one fresh lab per run (a run must not measure what an earlier one taught the kernel). */
import { createLab, type Lab, type LabOptions } from '../../test/lab/harness/lab.js';
import { measure, only, ROUNDS, Tally, type Bundle } from './lib.js';

const direct = (l: Lab, url = `https://${l.registryName}/big`): string[] => [
  '--url',
  url,
  '--registries',
  'none',
  '--ca-file',
  l.caFile,
  '--json',
];

/** The host-level black hole: a 1400 hop upstream of the runner, its ICMP dropped (the peers run here too). */
export const HOST_BLACK_HOLE: LabOptions = { bottleneckMtu: 1400, upstream: true, dropFragNeeded: true };

export const hostScenarios: Array<[string, LabOptions, (l: Lab) => string[]]> = [
  ['healthy 1500', {}, (l) => direct(l)],
  ['black hole 1400 upstream, ICMP dropped', HOST_BLACK_HOLE, (l) => direct(l)],
  ['black hole 1450, ICMP dropped', { bottleneckMtu: 1450, dropFragNeeded: true }, (l) => direct(l)],
  ['1450 with PMTUD working', { bottleneckMtu: 1450 }, (l) => direct(l)],
  ['dns failure', {}, (l) => direct(l, 'https://nowhere.lab.test/x')],
  ['connect refused', {}, (l) => ['--url', `https://${l.registryName}:9443/x`, '--registries', 'none', '--json']],
  [
    'npm+rubygems+pecl (lab DNS)',
    { names: ['registry.npmjs.org', 'rubygems.org', 'pecl.php.net'] },
    (l) => ['--ca-file', l.caFile, '--json'],
  ],
];

export async function benchHost(bundles: Bundle[]): Promise<void> {
  for (const [name, opts, args] of hostScenarios.filter(([n]) => only(n))) {
    const tally = new Tally();
    for (let i = 0; i < ROUNDS; i++) {
      for (const b of bundles) {
        const lab = await createLab(opts);
        try {
          tally.add(b, await measure(lab, b, args(lab)));
        } finally {
          await lab.close();
        }
      }
    }
    tally.print(name, bundles);
  }
}
