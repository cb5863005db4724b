/**
 * The lab scenarios whose JSON reports `npm run lab:reports` records: the CLI-level cases of
 * test/lab/preflight.itg.test.ts, docker.itg.test.ts and shapes.itg.test.ts, built the same way (same lab options,
 * same daemon flags, same setup commands, same CLI arguments). The assertions stay in those tests; here each case
 * only has to be rebuilt faithfully, so that a report before and after a change can be compared.
 */
import {
  createGwbridge,
  mustDocker,
  mustExec,
  recreateIngress,
  type NestedDockerd,
  type NestedDockerdOptions,
} from '../../test/lab/harness/docker-lab.js';
import { RUNNER_LINK, type Lab, type LabOptions } from '../../test/lab/harness/lab.js';
import { dockerArgs } from '../../test/lab/cli.js';

/** The image the docker scenarios import (never pulled). */
export const PROBE_IMAGE = 'mtp-probe:lab';
const MTU_OPT = 'com.docker.network.driver.mtu';
const BLACK_HOLE_1450: LabOptions = { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true };

export interface Scenario {
  /** File name of its report: `<name>.json`. */
  name: string;
  lab: LabOptions;
  /** Present: a nested dockerd in the runner namespace, the probe image imported. */
  daemon?: Omit<NestedDockerdOptions, 'netns' | 'dns'>;
  /** In the runner namespace, before dockerd starts (a host bridge for --bridge). */
  before?: (lab: Lab) => Promise<unknown>;
  /** On the daemon, before the CLI runs (a swarm, a macvlan network, a compose network). */
  setup?: (lab: Lab, d: NestedDockerd) => Promise<unknown>;
  /** Before the daemon stops (leave the swarm, so dockerd tears its overlay sandboxes down itself). */
  teardown?: (d: NestedDockerd) => Promise<unknown>;
  /** The CLI's arguments; `--format json` is added. */
  args: (lab: Lab) => string[];
}

const must = mustDocker;
const sh = mustExec;

/** preflight.itg.test.ts: a capped download of the lab registry's /big.tgz, no catalog targets. */
const big = (l: Lab) => ['--url', `https://${l.registryName}/big.tgz`, '--registries', 'none', '--ca-file', l.caFile];
/** docker.itg.test.ts / shapes.itg.test.ts: dockerArgs without its `--json` (we pass `--format json`). */
const docker = (l: Lab) => dockerArgs(l, PROBE_IMAGE).filter((a) => a !== '--json');

async function swarmInit(l: Lab, d: NestedDockerd): Promise<void> {
  await must(d, ['swarm', 'init', '--advertise-addr', l.runnerIp]);
}
const leaveSwarm = (d: NestedDockerd) => d.docker(['swarm', 'leave', '--force'], { timeoutMs: 30_000 });

export const SCENARIOS: Scenario[] = [
  // preflight.itg.test.ts
  { name: 'healthy', lab: {}, args: big },
  { name: 'blackhole-1450-icmp-dropped', lab: { bottleneckMtu: 1450, dropFragNeeded: true }, args: big },
  { name: 'pmtud-1450', lab: { bottleneckMtu: 1450 }, args: big },
  {
    name: 'dns-failure',
    lab: { bottleneckMtu: 1450, dropFragNeeded: true },
    args: (l) => ['--url', 'https://rubygems.org/downloads/x.gem', '--registries', 'none', '--ca-file', l.caFile],
  },
  {
    name: 'connect-refused',
    lab: {},
    args: (l) => ['--url', `https://${l.registryName}:9443/x`, '--registries', 'none'],
  },
  {
    name: 'catalog',
    lab: { names: ['registry.npmjs.org', 'rubygems.org', 'pecl.php.net'] },
    args: (l) => ['--registries', 'npm,rubygems,pecl', '--ca-file', l.caFile],
  },
  // The first bug as a lab sees it: the default catalog where rubygems.org does not resolve.
  {
    name: 'catalog-rubygems-unresolvable',
    lab: { names: ['registry.npmjs.org', 'pecl.php.net'] },
    args: (l) => ['--ca-file', l.caFile],
  },

  // docker.itg.test.ts
  { name: 'dind-flannel-1450', lab: BLACK_HOLE_1450, daemon: {}, args: docker },
  {
    name: 'dind-calico-ipip-1480',
    lab: { runnerMtu: 1480, bottleneckMtu: 1480, dropFragNeeded: true },
    daemon: {},
    args: docker,
  },
  { name: 'dind-pmtud-1450', lab: { runnerMtu: 1450, bottleneckMtu: 1450 }, daemon: {}, args: docker },
  {
    name: 'dind-healthy-1500',
    lab: {},
    daemon: {},
    // What a run killed with SIGKILL leaves: labelled, its expiry long past; the run sweeps it and says so.
    setup: async (_l, d) => {
      const stale = [
        '--label',
        'io.mtu-preflight=1',
        '--label',
        'io.mtu-preflight.run=killed',
        '--label',
        'io.mtu-preflight.expires=1',
      ];
      await must(d, ['network', 'create', ...stale, 'mtu-preflight-killed-mtu1450']);
      await must(d, ['create', ...stale, '--network', 'mtu-preflight-killed-mtu1450', PROBE_IMAGE, 'true']);
    },
    args: docker,
  },
  {
    name: 'dind-mtu-1450-compose-1500',
    lab: BLACK_HOLE_1450,
    daemon: { mtu: 1450 },
    setup: (_l, d) =>
      must(d, [
        'network',
        'create',
        '--label',
        'com.docker.compose.project=app',
        '--label',
        'com.docker.compose.network=default',
        'app_default',
      ]),
    args: docker,
  },

  // shapes.itg.test.ts
  {
    name: 'swarm-overlay-1500-on-1450',
    lab: BLACK_HOLE_1450,
    daemon: { mtu: 1450 },
    setup: async (l, d) => {
      await swarmInit(l, d);
      await must(d, ['network', 'create', '-d', 'overlay', '--attachable', '--opt', `${MTU_OPT}=1500`, 'ov1500']);
    },
    teardown: leaveSwarm,
    args: docker,
  },
  {
    name: 'swarm-fixed-1450',
    lab: BLACK_HOLE_1450,
    daemon: { mtu: 1450 },
    setup: async (l, d) => {
      await createGwbridge(d, 1450);
      await swarmInit(l, d);
      await recreateIngress(d, 1450);
      await must(d, ['network', 'create', '-d', 'overlay', '--attachable', '--opt', `${MTU_OPT}=1450`, 'ov1450']);
    },
    teardown: leaveSwarm,
    args: docker,
  },
  {
    name: 'macvlan-1500-on-1450',
    lab: BLACK_HOLE_1450,
    daemon: { mtu: 1450 },
    setup: (_l, d) =>
      must(d, [
        'network',
        'create',
        '-d',
        'macvlan',
        '-o',
        'parent=eth0',
        '-o',
        `${MTU_OPT}=1500`,
        '--subnet',
        RUNNER_LINK.subnet,
        '--gateway',
        RUNNER_LINK.router,
        '--ip-range',
        '10.213.1.192/28',
        'mv1500',
      ]),
    args: docker,
  },
  {
    name: 'host-bridge-br0-1500',
    lab: BLACK_HOLE_1450,
    daemon: { bridge: 'br0' },
    before: async (l) => {
      await sh(l, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
      await sh(l, 'ip', ['link', 'set', 'br0', 'mtu', '1500', 'up']);
      await sh(l, 'ip', ['addr', 'add', '172.31.77.1/24', 'dev', 'br0']);
    },
    args: docker,
  },
];
