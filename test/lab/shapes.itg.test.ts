/**
 * Issue 6 end to end: network shapes other than the default bridge, each in a real lab with a real nested dockerd
 * (the runner namespace's eth0 at 1450, the router's 1450 hop with ICMP frag-needed dropped: a black hole for
 * anything that advertises MSS 1460), the CLI run as users run it (see docker.itg.test.ts for the common setup).
 *
 *   - a single-node swarm: an attachable overlay given com.docker.network.driver.mtu=1500 (containers 1450: no room
 *     for VXLAN in the 1450 underlay) whose containers leave by docker_gwbridge, which Docker creates at 1500 on the
 *     node's first overlay container (dockerd --mtu does not reach it); and the same swarm set up right
 *   - a macvlan network on eth0 with com.docker.network.driver.mtu=1500: Docker ignores the option and the kernel
 *     refuses a macvlan above its parent's MTU, so containers get 1450 and download fine
 *   - dockerd --bridge=br0, a host bridge left at 1500 over the 1450 uplink
 *
 * Each scenario prints its findings and layers (for the issue's note) and asserts what a user reads, and that nothing
 * carrying the tool's label is left on the daemon.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildProbeImageRootfs,
  createGwbridge,
  importProbeImage,
  labelledLeftovers,
  mustDocker,
  mustExec,
  recreateIngress,
  startNestedDockerd,
  type NestedDockerd,
  type NestedDockerdOptions,
} from './harness/docker-lab.js';
import { createLab, labAvailable, RUNNER_LINK, type Lab, type LabOptions } from './harness/lab.js';
import { codes, dockerArgs, runCli, type CliRun } from './cli.js';

const IMAGE = 'mtp-probe:lab';
const MTU_OPT = 'com.docker.network.driver.mtu';
/** macvlan containers' addresses: on the runner link (RUNNER_LINK), clear of the runner (.2) and the router (.1). */
const MACVLAN_RANGE = '10.213.1.192/28';
/** dockerd --bridge=br0: a host bridge on a subnet the lab does not use. */
const BR0_ADDR = '172.31.77.1/24';

let rootfs: string;
let lab: Lab | undefined;
let daemon: NestedDockerd | undefined;
let swarm = false;
let br0 = false;

beforeAll(async () => {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
  rootfs = (await buildProbeImageRootfs()).tarball;
});

afterEach(async () => {
  // stop() removes containers and networks, the daemon's data root (swarm state included) goes with its temp dir;
  // leaving the swarm first lets dockerd tear its overlay sandboxes down itself.
  if (swarm && daemon) await daemon.docker(['swarm', 'leave', '--force'], { timeoutMs: 30_000 });
  await daemon?.stop();
  if (br0 && lab) await lab.exec('ip', ['link', 'del', 'br0']);
  await lab?.close();
  daemon = undefined;
  lab = undefined;
  swarm = false;
  br0 = false;
});

const BLACK_HOLE_1450: LabOptions = { runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true };

/** A lab, `before(lab)` in its runner namespace, a dockerd there (lab DNS for containers), the probe image imported. */
async function dind(
  daemonOpts: Omit<NestedDockerdOptions, 'netns' | 'dns'>,
  before?: (l: Lab) => Promise<void>,
): Promise<{ l: Lab; d: NestedDockerd }> {
  lab = await createLab(BLACK_HOLE_1450);
  await before?.(lab);
  daemon = await startNestedDockerd({ netns: lab.runnerNs, dns: [lab.dnsIp], ...daemonOpts });
  await importProbeImage(daemon.host, IMAGE, rootfs);
  return { l: lab, d: daemon };
}

const must = mustDocker;
const sh = mustExec;

/** `docker swarm init` on the runner's eth0 address: a single-node swarm, all of it inside the runner namespace. */
async function swarmInit(l: Lab, d: NestedDockerd): Promise<void> {
  swarm = true;
  await must(d, ['swarm', 'init', '--advertise-addr', l.runnerIp]);
  expect(await must(d, ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.NodeAddr}}'])).toBe(
    `active ${l.runnerIp}`,
  );
}

const args = (l: Lab, extra: string[] = []) => dockerArgs(l, IMAGE, extra);

const cli = (l: Lab, d: NestedDockerd) => runCli(l, args(l), { env: { DOCKER_HOST: d.host } });

const layer = (r: CliRun, id: string) => r.report?.layers.find((x) => x.id === id);
const findingOn = (r: CliRun, code: string, layerId: string) =>
  r.report?.findings.find((f) => f.code === code && f.layer === layerId);
const outcomes = (r: CliRun, id: string) => layer(r, id)?.probes.map((p) => p.outcome) ?? [];
const snippets = (f: { fix?: { steps: Array<{ snippet: string }> } } | undefined) =>
  (f?.fix?.steps ?? []).map((s) => s.snippet).join('\n');

/** One line per scenario for the issue's note (as docker.itg.test.ts prints). */
function record(name: string, r: CliRun): void {
  const f = r.report?.findings.find((x) => x.verified) ?? r.report?.findings[0];
  const v = f?.verified ? ` verified ${f.verified.mtu} ${f.verified.ok ? 'ok' : 'NOT ok'}: ${f.verified.detail}` : '';
  console.log(
    `[shapes-lab] ${name}: exit ${r.code}, ${r.report?.verdict}, ${(r.ms / 1000).toFixed(1)} s to verdict, codes ${codes(r).join(',') || '-'}, recommended ${r.report?.recommendedMtu ?? '-'}${v}`,
  );
}

/** The report's findings and layers, for a reader to check against the issue. */
function dump(name: string, r: CliRun): void {
  if (!r.report) {
    console.log(
      `[shapes-lab] ${name}: no JSON report; exit ${r.code ?? '?'}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`,
    );
    return;
  }
  const pick = [
    'driver',
    'bridge',
    'mtuOption',
    'containerMtu',
    'parent',
    'parentMtu',
    'gwbridge',
    'attachable',
    'ingress',
    'swarm',
    'swarmNodes',
    'overlay',
    'overlayIface',
    'overlayMtu',
    'egressIface',
    'variant',
  ];
  const facts = (f: Record<string, unknown> | undefined) =>
    pick
      .filter((k) => f?.[k] !== undefined)
      .map((k) => `${k}=${String(f![k])}`)
      .join(' ');
  const lines = [
    `[shapes-lab] ${name}: findings`,
    ...r.report.findings.map(
      (f) =>
        `  ${f.code} [${f.severity}] on ${f.layer}, recommended ${f.recommendedMtu ?? '-'}${f.verified ? `, verified ${f.verified.mtu} ${f.verified.ok}` : ''}\n    ${f.summary}${f.fix ? `\n    fix: ${f.fix.summary}` : ''}`,
    ),
    `[shapes-lab] ${name}: layers (id kind parent mtu probes facts)`,
    ...r.report.layers.map(
      (x) =>
        `  ${x.id} ${x.kind} ${x.parent ?? '-'} ${x.mtu ?? '-'} [${x.probes.map((p) => p.outcome + (p.stall ? `@${p.stall.phase}` : '')).join(',')}] ${facts(x.facts)}${x.notes.length ? `\n    notes: ${x.notes.join(' | ')}` : ''}`,
    ),
  ];
  console.log(lines.join('\n'));
}

describe('network shapes in the lab (issue 6)', () => {
  it('swarm overlay at 1500 on a 1450 underlay, docker_gwbridge left to Docker (1500): the way out stalls; fail with the gwbridge fix verified', async () => {
    const { l, d } = await dind({ mtu: 1450 }); // docker0 is fine: the shapes are the problem
    await swarmInit(l, d);
    await must(d, ['network', 'create', '-d', 'overlay', '--attachable', '--opt', `${MTU_OPT}=1500`, 'ov1500']);
    // docker_gwbridge does not exist yet: Docker creates it (bridge driver defaults, 1500) for the first overlay container.
    expect((await d.docker(['network', 'inspect', 'docker_gwbridge'])).code).not.toBe(0);

    const r = await cli(l, d);
    record('swarm-overlay-1500-gwbridge-1500', r);
    dump('swarm-overlay-1500-gwbridge-1500', r);
    expect(r.stderr).toBe('');
    expect(r.report).toBeDefined();

    // Mechanics: the daemon is a swarm node, the overlay was probed from a container that left by docker_gwbridge.
    expect(layer(r, 'docker')!.facts).toMatchObject({ swarm: 'active', swarmNodes: 1, swarmNodeAddr: l.runnerIp });
    expect(layer(r, 'docker')!.mtu).toBe(1450);
    expect(layer(r, 'docker-net-bridge')!.mtu).toBe(1450);
    expect(layer(r, 'docker-container-bridge')!.probes[0]!.outcome).toBe('ok'); // dockerd --mtu 1450: docker0 downloads
    const ov = layer(r, 'docker-net-ov1500')!;
    expect(ov).toMatchObject({ kind: 'docker-network', parent: 'docker', mtu: 1450 });
    expect(ov.facts).toMatchObject({ driver: 'overlay', mtuOption: 1500, attachable: true, ingress: false });
    const gw = layer(r, 'docker-net-docker_gwbridge')!;
    expect(gw).toMatchObject({ kind: 'docker-network', parent: 'docker', mtu: 1500 });
    expect(gw.facts).toMatchObject({ driver: 'bridge', gwbridge: true });
    const onOverlay = r.report!.layers.filter(
      (x) => x.kind === 'container' && x.parent === 'docker-net-docker_gwbridge',
    );
    expect(onOverlay).toHaveLength(1);
    expect(onOverlay[0]!.facts).toMatchObject({
      overlay: 'ov1500',
      overlayIface: 'eth0',
      overlayMtu: 1450,
      egressIface: 'eth1',
    });
    expect(onOverlay[0]!.mtu).toBe(1500);
    // Its download left by eth1 (docker_gwbridge, MSS 1460) through the black hole: TCP connects, TLS stalls.
    const p = onOverlay[0]!.probes[0]!;
    expect(p.outcome).toBe('stall');
    expect(p.phases.connectMs).toBeDefined();
    // The fix was measured: a network with MTU 1450 downloads.
    expect(outcomes(r, 'docker-container-verify-1450')).toEqual(['ok']);

    // The diagnosis (src/diagnose/rules): soft, so the mechanics above and the leftovers below are always checked.
    expect.soft(r.code).toBe(1);
    expect.soft(r.report!.verdict).toBe('fail');
    const mm = findingOn(r, 'mtu-mismatch', 'docker-net-ov1500');
    expect.soft(mm).toMatchObject({ severity: 'warning', recommendedMtu: 1400 });
    expect.soft(mm?.summary).toMatch(/1450/);
    expect.soft(mm?.summary).toMatch(/1400/);
    const bh = findingOn(r, 'pmtu-blackhole', 'docker-net-docker_gwbridge');
    expect.soft(bh).toMatchObject({ severity: 'error', recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect.soft(bh?.fix?.summary).toMatch(/docker_gwbridge/);

    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('swarm set up right (docker_gwbridge and the routing mesh created with 1450 first, overlay with 1450): pass, nothing flagged', async () => {
    const { l, d } = await dind({ mtu: 1450 });
    await createGwbridge(d, 1450);
    await swarmInit(l, d);
    await recreateIngress(d, 1450);
    await must(d, ['network', 'create', '-d', 'overlay', '--attachable', '--opt', `${MTU_OPT}=1450`, 'ov1450']);

    const r = await cli(l, d);
    record('swarm-fixed-1450', r);
    dump('swarm-fixed-1450', r);
    expect(r.stderr).toBe('');
    expect(r.report).toBeDefined();

    expect(layer(r, 'docker')!.facts).toMatchObject({ swarm: 'active' });
    expect(layer(r, 'docker-net-ov1450')).toMatchObject({ mtu: 1400, facts: { driver: 'overlay', mtuOption: 1450 } });
    expect(layer(r, 'docker-net-ingress')).toMatchObject({ mtu: 1400, facts: { ingress: true, mtuOption: 1450 } });
    expect(layer(r, 'docker-net-docker_gwbridge')).toMatchObject({
      mtu: 1450,
      facts: { gwbridge: true, mtuOption: 1450 },
    });
    const onOverlay = r.report!.layers.filter(
      (x) => x.kind === 'container' && x.parent === 'docker-net-docker_gwbridge',
    );
    expect(onOverlay).toHaveLength(1);
    expect(onOverlay[0]).toMatchObject({
      mtu: 1450,
      facts: { overlay: 'ov1450', overlayMtu: 1400, egressIface: 'eth1' },
    });
    expect(onOverlay[0]!.probes.map((x) => x.outcome)).toEqual(['ok']);
    expect(outcomes(r, 'docker-container-bridge')).toEqual(['ok']);
    expect(r.report!.layers.some((x) => x.facts?.purpose === 'verify')).toBe(false);

    expect.soft(r.code).toBe(0);
    expect.soft(r.report!.verdict).toBe('pass');
    const onDocker = r.report!.findings.filter(
      (f) => f.layer.startsWith('docker') && ['mtu-mismatch', 'pmtu-blackhole'].includes(f.code),
    );
    expect.soft(onDocker.map((f) => `${f.code} on ${f.layer}`)).toEqual([]);

    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('macvlan on eth0 with com.docker.network.driver.mtu=1500 over a 1450 parent: the option is ignored, containers get 1450 and download', async () => {
    const { l, d } = await dind({ mtu: 1450 });
    // What the kernel says to a macvlan above its parent's MTU (in the runner namespace, removed at once).
    const kernel = await l.exec('sh', [
      '-c',
      'ip link add link eth0 name mvk mtu 1500 type macvlan mode bridge; rc=$?; ip link del mvk 2>/dev/null; exit $rc',
    ]);
    console.log(
      `[shapes-lab] kernel: ip link add link eth0 (MTU 1450) type macvlan mtu 1500 -> exit ${kernel.code}: ${kernel.stderr.trim()}`,
    );
    expect(kernel.code).not.toBe(0);
    expect(kernel.stderr).toMatch(/Invalid argument/);

    await must(d, [
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
      MACVLAN_RANGE,
      'mv1500',
    ]);

    const r = await cli(l, d);
    record('macvlan-1500-on-1450', r);
    dump('macvlan-1500-on-1450', r);
    expect(r.stderr).toBe('');
    expect(r.report).toBeDefined();

    const mv = layer(r, 'docker-net-mv1500')!;
    expect(mv).toMatchObject({ kind: 'docker-network', parent: 'docker', mtu: 1450 });
    expect(mv.facts).toMatchObject({ driver: 'macvlan', mtuOption: 1500, parent: 'eth0', parentMtu: 1450 });
    const onMv = r.report!.layers.filter((x) => x.kind === 'container' && x.parent === 'docker-net-mv1500');
    expect(onMv).toHaveLength(1);
    expect(onMv[0]).toMatchObject({ mtu: 1450, facts: { variant: 'macvlan', network: 'mv1500' } });
    // Its own L2 on eth0 (an address of MACVLAN_RANGE, no NAT), routed by the lab router: the download completes.
    expect(onMv[0]!.probes.map((x) => x.outcome)).toEqual(['ok']);
    expect(onMv[0]!.probes[0]!.address).toBe(l.registryIp);

    expect.soft(r.code).toBe(0);
    const ignored = findingOn(r, 'mtu-option-ignored', 'docker-net-mv1500');
    expect.soft(ignored).toMatchObject({ severity: 'info' });
    expect.soft(ignored?.summary).toMatch(/1500/);
    expect.soft(ignored?.summary).toMatch(/1450/);
    expect.soft(codes(r)).not.toContain('pmtu-blackhole');

    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('dockerd --bridge=br0, a host bridge at 1500 over the 1450 uplink: fail at br0, 1450 recommended and verified, fixed on br0', async () => {
    const { l, d } = await dind({ bridge: 'br0' }, async (lab1) => {
      br0 = true;
      await sh(lab1, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
      await sh(lab1, 'ip', ['link', 'set', 'br0', 'mtu', '1500', 'up']);
      await sh(lab1, 'ip', ['addr', 'add', BR0_ADDR, 'dev', 'br0']);
    });

    const r = await cli(l, d);
    record('host-bridge-br0-1500', r);
    dump('host-bridge-br0-1500', r);
    expect(r.stderr).toBe('');
    expect(r.report).toBeDefined();

    const net = layer(r, 'docker-net-bridge')!;
    expect(net).toMatchObject({ kind: 'docker-network', parent: 'docker', mtu: 1500 });
    expect(net.facts).toMatchObject({ driver: 'bridge', bridge: 'br0', isDefault: true, subnets: '172.31.77.0/24' });
    expect(layer(r, 'docker')!.mtu).toBe(1450);
    expect(outcomes(r, 'docker')).toEqual(['ok']);
    const p = layer(r, 'docker-container-bridge')!.probes[0]!;
    expect(p.outcome).toBe('stall');
    expect(p.phases.connectMs).toBeDefined();
    expect(outcomes(r, 'docker-container-verify-1450')).toEqual(['ok']);

    expect.soft(r.code).toBe(1);
    expect.soft(r.report!.verdict).toBe('fail');
    const bh = findingOn(r, 'pmtu-blackhole', 'docker-net-bridge');
    expect.soft(bh).toMatchObject({ recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect.soft(bh?.summary).toMatch(/br0/);
    expect.soft(bh?.summary).toMatch(/1500/);
    expect.soft(bh?.summary).toMatch(/1450/);
    expect.soft(snippets(bh)).toContain('ip link set dev br0 mtu 1450');

    expect(await labelledLeftovers(d)).toEqual([]);
  });
});
