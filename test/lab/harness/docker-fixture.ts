/**
 * What every nested-docker lab file shares, as vitest hooks: the lab must be able to run (the file fails, never
 * skips), the probe image's rootfs is built once per file, and the lab and dockerd a test started are torn down after
 * it (or before the next one it starts). Kept apart from docker-lab.ts, which scripts/bench and lab:reports import
 * outside vitest.
 */
import { afterEach, beforeAll } from 'vitest';
import {
  buildProbeImageRootfs,
  importProbeImage,
  startNestedDockerd,
  type NestedDockerd,
  type NestedDockerdOptions,
} from './docker-lab.js';
import { createLab, labAvailable, type Lab, type LabOptions } from './lab.js';

export interface DockerLab {
  l: Lab;
  d: NestedDockerd;
}

export interface DockerLabFixture {
  /**
   * A fresh lab (this test's earlier one torn down first) and a dockerd in its runner namespace, whose containers
   * resolve through the lab DNS, with the probe image imported unless `image: false`.
   */
  dind(labOpts: LabOptions, o?: DaemonOptions): Promise<DockerLab>;
  /** A fresh lab with no daemon. */
  lab(labOpts: LabOptions): Promise<Lab>;
  /** A dockerd in the runner namespace of `l` (a lab from `lab()`), as `dind` starts it. */
  daemon(l: Lab, o?: DaemonOptions): Promise<NestedDockerd>;
}

export interface DaemonOptions {
  daemon?: Pick<NestedDockerdOptions, 'mtu' | 'extraArgs'>;
  /** Import the probe image (default true). */
  image?: boolean;
}

export function useDockerLab(image: string): DockerLabFixture {
  let rootfs = '';
  let lab: Lab | undefined;
  let daemon: NestedDockerd | undefined;
  const teardown = async () => {
    await daemon?.stop();
    await lab?.close();
    daemon = undefined;
    lab = undefined;
  };
  beforeAll(async () => {
    const avail = labAvailable();
    if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
    rootfs = (await buildProbeImageRootfs()).tarball;
  });
  afterEach(teardown);
  const freshLab = async (labOpts: LabOptions) => {
    await teardown();
    lab = await createLab(labOpts);
    return lab;
  };
  const startDaemon = async (l: Lab, o: DaemonOptions = {}) => {
    daemon = await startNestedDockerd({ netns: l.runnerNs, dns: [l.dnsIp], ...o.daemon });
    if (o.image !== false) await importProbeImage(daemon.host, image, rootfs);
    return daemon;
  };
  return {
    lab: freshLab,
    daemon: startDaemon,
    async dind(labOpts, o = {}) {
      const l = await freshLab(labOpts);
      return { l, d: await startDaemon(l, o) };
    },
  };
}
