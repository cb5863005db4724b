/**
 * Podman's scenarios (issue 12): Debian's Podman serving its Docker-compatible API in the runner namespace
 * (test/lab/harness/podman-lab.ts, as test/lab/podman.itg.test.ts has them), behind flannel's 1450 with the ICMP
 * dropped: its default network at 1500, one made with mtu=1450 as the default, and rootless-style behind a real
 * slirp4netns tap at 65520. One fresh lab and service per run.
 */
import { buildProbeImageRootfs } from '../../test/lab/harness/docker-lab.js';
import { createLab } from '../../test/lab/harness/lab.js';
import {
  importProbeImageToPodman,
  startPodmanService,
  startSlirpNamespace,
  type PodmanOptions,
} from '../../test/lab/harness/podman-lab.js';
import { BLACK_HOLE_1450 } from './docker.js';
import { dockerArgs } from '../../test/lab/cli.js';
import { measure, only, ROUNDS, Tally, type Bundle } from './lib.js';

const IMAGE = 'lab/probe:local';

const scenarios: Array<[string, { defaultNetwork?: PodmanOptions['defaultNetwork']; slirp?: boolean }]> = [
  ['podman, default network 1500 over 1450', {}],
  ['podman, default network made with mtu=1450', { defaultNetwork: { name: 'mtu1450', mtu: 1450 } }],
  ['podman behind slirp4netns (tap 65520)', { slirp: true }],
];

export async function benchPodman(bundles: Bundle[]): Promise<void> {
  const todo = scenarios.filter(([n]) => only(n));
  if (!todo.length) return;
  const rootfs = (await buildProbeImageRootfs()).tarball;
  for (const [name, sc] of todo) {
    const tally = new Tally();
    let version = '';
    for (let i = 0; i < ROUNDS; i++) {
      for (const b of bundles) {
        const lab = await createLab(BLACK_HOLE_1450);
        const slirp = sc.slirp ? await startSlirpNamespace(lab.runnerNs, `${lab.prefix}s`) : undefined;
        const svc = await startPodmanService({
          netns: slirp?.netns ?? lab.runnerNs,
          dns: lab.dnsIp,
          ...(sc.defaultNetwork ? { defaultNetwork: sc.defaultNetwork } : {}),
        });
        try {
          version ||= (await svc.podman(['version', '--format', '{{.Server.Version}}'])).stdout.trim();
          await importProbeImageToPodman(svc, IMAGE, rootfs);
          tally.add(b, await measure(lab, b, dockerArgs(lab, IMAGE), { DOCKER_HOST: svc.host }));
        } finally {
          await svc.stop();
          await slirp?.close();
          await lab.close();
        }
      }
    }
    tally.print(`${name} (Podman ${version || '?'})`, bundles);
  }
}
