/**
 * The nested Docker layer's scenarios: a real dockerd in the runner namespace, the probe image imported, one fresh
 * lab and daemon per run. Each bundle runs each scenario ROUNDS times, alternating.
 */
import {
  buildProbeImageRootfs,
  importProbeImage,
  mustDocker,
  standInBuilder,
  startNestedDockerd,
} from '../../test/lab/harness/docker-lab.js';
import { createLab, RUNNER_LINK, type LabOptions } from '../../test/lab/harness/lab.js';
import { measure, only, ROUNDS, Tally, type Bundle, type MeasuredRun } from './lib.js';

// The nested Docker layer: a real dockerd in the runner namespace, the probe image present (imported).
export const IMAGE = 'mtp-probe:bench';
type DockerLab = Awaited<ReturnType<typeof createLab>>;
export type Daemon = Awaited<ReturnType<typeof startNestedDockerd>>;
export interface DockerScenario {
  opts: LabOptions;
  daemon?: { mtu?: number; bridge?: string };
  /** In the runner namespace before dockerd starts (a host bridge for --bridge). */
  before?: (lab: DockerLab) => Promise<unknown>;
  /** On the daemon before the run (a swarm, a macvlan network). */
  setup?: (lab: DockerLab, d: Daemon) => Promise<unknown>;
  /** Before the daemon stops (leave the swarm, so dockerd tears its overlay sandboxes down itself). */
  teardown?: (d: Daemon) => Promise<unknown>;
}
export const BLACK_HOLE_1450: LabOptions = { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true };
/** A buildx builder stand-in (test/lab/harness/docker-lab.ts; test/lab/builders.itg.test.ts has the assertions). */
const standIn = (d: Daemon, network: string | undefined, flags: string[], bridge = false) =>
  standInBuilder(d, { image: IMAGE, builder: 'bench', ...(network ? { network } : {}), flags, bridge });
export const dockerScenarios: Array<[string, DockerScenario]> = [
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
        await mustDocker(d, ['swarm', 'init', '--advertise-addr', lab.runnerIp]);
        await mustDocker(d, [
          'network',
          'create',
          '-d',
          'overlay',
          '--attachable',
          '--opt',
          'com.docker.network.driver.mtu=1500',
          'ov1500',
        ]);
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
        mustDocker(d, [
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
    },
  ],
  [
    'buildx builder on a 1500 network',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: async (_lab, d) => {
        await mustDocker(d, ['network', 'create', 'buildnet']);
        await standIn(d, 'buildnet', []);
      },
    },
  ],
  [
    'buildx builder on a 1450 network',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: async (_lab, d) => {
        await mustDocker(d, ['network', 'create', '--opt', 'com.docker.network.driver.mtu=1450', 'buildnet']);
        await standIn(d, 'buildnet', []);
      },
    },
  ],
  [
    'buildx builder, BuildKit bridge 1500',
    {
      opts: BLACK_HOLE_1450,
      daemon: { mtu: 1450 },
      setup: (_lab, d) => standIn(d, undefined, ['--oci-worker-net=bridge'], true),
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

/** A fresh lab and daemon for one scenario, torn down after `use`. */
export async function withDockerLab<T>(
  sc: DockerScenario,
  rootfs: string,
  use: (lab: DockerLab, d: Daemon) => Promise<T>,
): Promise<T> {
  const lab = await createLab(sc.opts);
  let d: Daemon | undefined;
  try {
    await sc.before?.(lab);
    d = await startNestedDockerd({ netns: lab.runnerNs, dns: [lab.dnsIp], ...sc.daemon });
    await importProbeImage(d.host, IMAGE, rootfs);
    await sc.setup?.(lab, d);
    return await use(lab, d);
  } finally {
    if (d) {
      await sc.teardown?.(d);
      await d.stop();
    }
    await lab.close();
  }
}

/** As the lab's dockerArgs, with the registry's default body (the figures of earlier stops were taken so). */
export const nestedArgs = (lab: Pick<DockerLab, 'registryName' | 'caFile'>): string[] => [
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
];

export async function benchDocker(bundles: Bundle[]): Promise<void> {
  const rootfs = (await buildProbeImageRootfs()).tarball;
  for (const [name, sc] of dockerScenarios.filter(([n]) => only(n))) {
    const tally = new Tally();
    for (let i = 0; i < ROUNDS; i++) {
      for (const b of bundles) {
        const r: MeasuredRun = await withDockerLab(sc, rootfs, (lab, d) =>
          measure(lab, b, nestedArgs(lab), { DOCKER_HOST: d.host }),
        );
        tally.add(b, r);
      }
    }
    tally.print(name, bundles);
  }
}
