/**
 * Issue 12, Podman and rootless engines, end to end: the bundled CLI in a lab runner namespace, talking over
 * DOCKER_HOST to a real Podman (Debian's podman 4.3 + netavark) serving its Docker-compatible API from that namespace
 * (test/lab/harness/podman-lab.ts), the probe image `podman import`ed from the dockerd lab's rootfs.
 *
 * - Podman's default network (1500) behind a flannel-like 1450 hop that drops ICMP: fail at the network, 1450
 *   verified on a network Podman made with the MTU option, Podman's own fix (never daemon.json).
 * - The same hop with the default network replaced the way the fix says (a network created with --opt mtu=1450, made
 *   the default in containers.conf): pass.
 * - A rootless engine's network (real slirp4netns: tap0 MTU 65520 in its own namespace, the service inside it) behind
 *   the same black hole: no false mtu-mismatch, the probes' success stands, the report says why. Stand-in: Podman runs
 *   as root inside the slirp4netns namespace (rootlesskit's network half); the user namespace is not built.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildProbeImageRootfs } from './harness/docker-lab.js';
import { createLab, labAvailable, type Lab, type LabOptions } from './harness/lab.js';
import {
  importProbeImageToPodman,
  podmanLeftovers,
  startPodmanService,
  startSlirpNamespace,
  type PodmanService,
  type SlirpNamespace,
} from './harness/podman-lab.js';
import { codes, dockerArgs, runCli, type CliRun } from './cli.js';
import { existsSync } from 'node:fs';

const IMAGE = 'lab/probe:local';
const BLACK_HOLE: LabOptions = { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true };
let rootfs: string;
let lab: Lab | undefined;
let service: PodmanService | undefined;
let slirp: SlirpNamespace | undefined;

beforeAll(async () => {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`);
  rootfs = (await buildProbeImageRootfs()).tarball;
});

afterEach(async () => {
  const dir = service?.dir;
  await service?.stop();
  await slirp?.close();
  await lab?.close();
  // Nothing left behind: the service's temp dir (storage, sockets, its netns binds) and the slirp namespace.
  if (dir) expect(existsSync(dir)).toBe(false);
  if (slirp) expect(existsSync(`/var/run/netns/${slirp.netns}`)).toBe(false);
  expect(existsSync('/var/lib/containers')).toBe(false);
  service = slirp = lab = undefined;
});

async function podmanLab(opts: { defaultNetwork?: { name: string; mtu: number }; slirp?: boolean } = {}) {
  lab = await createLab(BLACK_HOLE);
  let netns = lab.runnerNs;
  if (opts.slirp) {
    slirp = await startSlirpNamespace(lab.runnerNs, `${lab.prefix}s`);
    netns = slirp.netns;
  }
  service = await startPodmanService({
    netns,
    dns: lab.dnsIp,
    ...(opts.defaultNetwork ? { defaultNetwork: opts.defaultNetwork } : {}),
  });
  await importProbeImageToPodman(service, IMAGE, rootfs);
  return { l: lab, p: service };
}

const cli = (l: Lab, p: PodmanService) => runCli(l, dockerArgs(l, IMAGE), { env: { DOCKER_HOST: p.host } });
const layer = (r: CliRun, id: string) => r.report?.layers.find((x) => x.id === id);

function record(name: string, r: CliRun): void {
  const f = r.report?.findings[0];
  console.log(
    `[podman-lab] ${name}: exit ${r.code}, ${r.report?.verdict}, durationMs ${r.report?.durationMs}, wall ${r.ms} ms, codes ${codes(r).join(',') || '-'}${f?.verified ? `, verified ${f.verified.mtu} ${f.verified.ok}` : ''}`,
  );
}

describe('Podman through its Docker-compatible API', () => {
  it("default network 1500 behind a 1450 hop dropping ICMP: fail at Podman's network, 1450 verified, Podman's fix", async () => {
    const { l, p } = await podmanLab();
    const r = await cli(l, p);
    record('podman-default-1500', r);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.report?.verdict).toBe('fail');
    const daemon = layer(r, 'docker')!;
    expect(daemon.name).toMatch(/^Podman 4\.\d+\.\d+ \(Docker-compatible API, unix:\/\//);
    expect(daemon.facts).toMatchObject({ engine: 'podman', engineVersion: expect.stringMatching(/^4\./) });
    const f = r.report!.findings.find((x) => x.code === 'pmtu-blackhole')!;
    expect(f.layer).toBe('docker-net-bridge');
    expect(f.summary).toMatch(/^podman network bridge \(podman0\) MTU 1500 exceeds the daemon's uplink eth0 MTU 1450/);
    expect(f.verified).toMatchObject({ mtu: 1450, ok: true });
    expect(r.report?.recommendedMtu).toBe(1450);
    const snippets = f.fix!.steps.map((s) => s.snippet).join('\n');
    expect(snippets).toMatch(/podman network create --opt mtu=1450 mtu1450/);
    expect(snippets).toMatch(/default_network = "mtu1450"/);
    expect(snippets).toMatch(/\[Network\]\nNetworkName=mtu1450\nOptions=mtu=1450/);
    // Never dockerd's knobs for Podman.
    expect(snippets).not.toMatch(/daemon\.json|dockerd|"mtu": 1450|default-network-opt/);
    expect(f.fix!.summary).not.toMatch(/dockerd|daemon\.json/);
    // The build step runs in the service's own namespace (compat /build: RUN with the host network).
    expect(layer(r, 'docker-build')?.parent).toBe('docker');
    // Its answer is read although the step exits non-zero after it (no commit): the probe's result, not an error.
    expect(layer(r, 'docker-build')!.probes.map((x) => x.outcome)).toEqual(['ok']);
    expect(layer(r, 'docker-build')!.notes.join('\n')).not.toMatch(/no probe result/);
    expect(await podmanLeftovers(p)).toEqual([]);
  });

  it('the default network replaced by one created with --opt mtu=1450 (containers.conf default_network): pass', async () => {
    const { l, p } = await podmanLab({ defaultNetwork: { name: 'mtu1450', mtu: 1450 } });
    const r = await cli(l, p);
    record('podman-default-mtu1450', r);
    expect(r.code).toBe(0);
    expect(r.report?.verdict).toBe('pass');
    expect(codes(r)).toEqual([]);
    const net = layer(r, 'docker-net-bridge')!;
    expect(net.mtu).toBe(1450);
    expect(net.facts).toMatchObject({ mtuOption: 1450 });
    expect(layer(r, 'docker-container-bridge')!.probes[0]!.outcome).toBe('ok');
  });
});

describe('rootless engines: a user-space stack (slirp4netns) ends TCP in the parent namespace', () => {
  it('tap0 65520 with a 1500 bridge above, behind the same 1450 black hole: no false mtu-mismatch, the probes stand', async () => {
    const { l, p } = await podmanLab({ slirp: true });
    const r = await cli(l, p);
    record('rootless-slirp4netns', r);
    expect(r.stderr).toBe('');
    const daemon = layer(r, 'docker')!;
    expect(daemon.mtu).toBe(65520);
    expect(daemon.facts).toMatchObject({ rootless: true, rootlessTap: 'tap0', rootlessTapMtu: 65520 });
    expect(daemon.notes.join('\n')).toMatch(/tap0 \(MTU 65520\), a user-space network stack .* ends TCP here/);
    // What the probes found stands: every probe fetched through slirp4netns, whose own sockets use the runner's MSS.
    for (const id of ['docker', 'docker-container-bridge'])
      expect(layer(r, id)!.probes.map((x) => x.outcome)).toEqual(['ok']);
    expect(codes(r)).not.toContain('mtu-mismatch');
    expect(codes(r)).not.toContain('pmtu-blackhole');
    expect(r.report?.verdict).toBe('pass');
    expect(r.code).toBe(0);
  });
});
