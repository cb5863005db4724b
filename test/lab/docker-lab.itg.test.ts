// The nested-dockerd lab, end to end: the flannel case of seed 001 rebuilt on this machine.
//
//   runner ns (the CI pod)                       router ns                              registry ns
//   dockerd ── docker0 1500 ── eth0 1450 ─veth─ to-runner 1450 │ to-registry 1500 ─veth─ eth0 1500 (real frames)
//     └ container eth0 1500 (MSS 1460)                         drops its own ICMP frag-needed
//
// Where the packet dies: the container advertises MSS 1460 in its SYN, the runner namespace forwards (and NATs) it
// without clamping, so the registry sends 1500-byte segments. The router cannot forward those into its 1450 link
// toward the runner; it drops them and its ICMP "fragmentation needed" is dropped too (nft, as an overlay hop sends
// none). The registry never learns the path MTU and retransmits full-size segments forever. The runner's own
// sockets (and `--network host` containers) use eth0's 1450 and advertise MSS 1410, which fits.
//
// Two labs, two daemons started at the same time: `plain` (no --mtu: the broken DinD) and `mtu1450` (dockerd
// --mtu 1450: the fix, which covers the default bridge and BuildKit RUN steps but not user-defined networks).
//
// MTU_LAB_CAPTURE=1 also writes the daemons' inspect outputs to test/fixtures/nested-dockerd-*/ (unit-test fixtures).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildProbeImageRootfs,
  FETCH_PROBE_SCRIPT,
  findTool,
  importProbeImage,
  liveDaemonCount,
  mountsUnder,
  parseFetchProbe,
  processesMentioning,
  runWithFiles,
  startNestedDockerd,
  type FetchProbeResult,
  type ImportedImage,
  type NestedDockerd,
  type ProbeRootfs,
  type StopTimings,
} from './harness/docker-lab.js';
import { createLab, labAvailable, type Lab } from './harness/lab.js';

const IMAGE = 'mtudl-probe:test';
const BODY_BYTES = 8 * 1024 * 1024;
/** How long a probe waits for 8 MiB: the healthy paths need ~0.2 s, the black hole never finishes. */
const STALL_DEADLINE_MS = 4000;
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const capture = process.env.MTU_LAB_CAPTURE === '1';

interface Side {
  name: 'plain' | 'mtu1450';
  lab: Lab;
  daemon: NestedDockerd;
  image: ImportedImage;
  stop?: StopTimings;
}

let rootfs: ProbeRootfs;
const sides: Partial<Record<Side['name'], Side>> = {};
const labs: Lab[] = [];
const daemons: NestedDockerd[] = [];
/** Measurements printed at the end (the numbers the field notes quote). */
const timings: Record<string, number | string> = {};

function side(name: Side['name']): Side {
  const s = sides[name];
  if (!s) throw new Error(`lab side ${name} did not start (see beforeAll)`);
  return s;
}

/** fetch-probe.cjs in a fresh container, files put in with docker cp. */
async function probe(
  s: Side,
  network?: string,
  url = `https://${s.lab.registryIp}/`,
): Promise<FetchProbeResult & { runMs: number }> {
  const r = await runWithFiles(s.daemon, {
    image: IMAGE,
    network,
    cmd: ['node', '/tmp/fetch-probe.cjs', url, '/tmp/ca.pem', String(STALL_DEADLINE_MS)],
    files: [
      { path: '/tmp/fetch-probe.cjs', source: FETCH_PROBE_SCRIPT },
      { path: '/tmp/ca.pem', source: s.lab.caFile },
    ],
    timeoutMs: STALL_DEADLINE_MS + 30_000,
  });
  expect(r.exit, r.stderr).toBe(0);
  return { ...parseFetchProbe(r.stdout), runMs: r.runMs };
}

/** The router's "frag-needed counter packets N": how many ICMP errors it generated and dropped. */
async function droppedFragNeeded(lab: Lab): Promise<number> {
  const nft = await lab.execIn('router', 'nft', ['list', 'ruleset']);
  return Number(/frag-needed counter packets (\d+)/.exec(nft.stdout)?.[1] ?? NaN);
}

async function inspectJson(s: Side, args: string[]): Promise<unknown> {
  const r = await s.daemon.docker(args, { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function bridgeMtuOption(network: unknown): string | undefined {
  const n = (Array.isArray(network) ? network[0] : network) as { Options?: Record<string, string> };
  return n.Options?.['com.docker.network.driver.mtu'];
}

/** A client that can drive the daemon's own BuildKit: a pre-23 CLI (built-in), or one with the buildx plugin. */
function buildkitClient(): { cli: string; args: string[]; env: Record<string, string> } {
  for (const cli of [findTool('docker'), '/usr/bin/docker'].filter((c): c is string => !!c && existsSync(c))) {
    const v = spawnSync(cli, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' }).stdout.trim();
    if (Number(v.split('.')[0]) < 23) return { cli, args: ['build'], env: { DOCKER_BUILDKIT: '1' } };
    if (spawnSync(cli, ['buildx', 'version']).status === 0)
      return { cli, args: ['buildx', 'build', '--load'], env: {} };
  }
  throw new Error(
    "no docker client with BuildKit support: need the docker.io package's /usr/bin/docker (20.10) or a buildx plugin",
  );
}

/** `docker build` of FROM probe + COPY + RUN fetch-probe; the RUN step's probe line is in the build log. */
async function buildProbe(
  s: Side,
  builder: 'classic' | 'buildkit',
): Promise<FetchProbeResult & { buildMs: number; log: string }> {
  const ctx = await mkdtemp(path.join(s.daemon.dir, `build-${builder}-`));
  await copyFile(FETCH_PROBE_SCRIPT, path.join(ctx, 'fetch-probe.cjs'));
  await copyFile(s.lab.caFile, path.join(ctx, 'ca.pem'));
  await writeFile(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${IMAGE}`,
      'COPY fetch-probe.cjs ca.pem /tmp/',
      `RUN node /tmp/fetch-probe.cjs https://${s.lab.registryIp}/ /tmp/ca.pem ${STALL_DEADLINE_MS}`,
      '',
    ].join('\n'),
  );
  const tag = `mtudl-built-${builder}:test`;
  const r =
    builder === 'classic'
      ? await s.daemon.docker(['build', '--no-cache', '-t', tag, ctx], {
          env: { DOCKER_BUILDKIT: '0' },
          timeoutMs: 120_000,
        })
      : await (() => {
          const bk = buildkitClient();
          return s.daemon.docker([...bk.args, '--no-cache', '--progress=plain', '-t', tag, ctx], {
            cli: bk.cli,
            env: bk.env,
            timeoutMs: 120_000,
          });
        })();
  const log = r.stdout + r.stderr;
  expect(r.code, log).toBe(0);
  return { ...parseFetchProbe(log), buildMs: r.ms, log };
}

/** Write a captured output as a fixture, with this run's temp paths replaced by stable ones. */
async function saveFixture(caseName: string, file: string, value: unknown, s: Side): Promise<void> {
  if (!capture) return;
  const dir = path.join(FIXTURES, `nested-dockerd-${caseName}`);
  await mkdir(dir, { recursive: true });
  const text = (typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`)
    .replaceAll(s.daemon.dir, '/tmp/mtudl-nested')
    .replaceAll(s.lab.prefix, 'mtplab');
  await writeFile(path.join(dir, file), text);
}

const caseOf = (s: Side) => (s.name === 'plain' ? 'flannel-1450' : 'flannel-1450-mtu-1450');

beforeAll(async () => {
  // Fail, never skip: a green lab run must prove the lab ran.
  expect(labAvailable()).toEqual({ ok: true });
  for (const tool of ['dockerd', 'containerd', 'docker', 'nsenter', 'busybox'])
    expect(findTool(tool), `${tool} on PATH`).toBeDefined();

  rootfs = await buildProbeImageRootfs();
  timings.rootfs = `${(rootfs.bytes / 1e6).toFixed(1)} MB, ${rootfs.cached ? 'cached' : 'built'} in ${rootfs.ms} ms`;

  const start = async (name: Side['name']): Promise<void> => {
    // The flannel pod: its eth0 is 1450 and so is the hop in front of it, which sends no ICMP.
    const lab = await createLab({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true });
    labs.push(lab);
    const daemon = await startNestedDockerd({
      netns: lab.runnerNs,
      dns: [lab.dnsIp],
      ...(name === 'mtu1450' ? { mtu: 1450 } : {}),
    });
    daemons.push(daemon);
    timings[`${name}.dockerdStartMs`] = daemon.startMs;
    const image = await importProbeImage(daemon.host, IMAGE, rootfs.tarball);
    timings[`${name}.importMs`] = image.ms;
    sides[name] = { name, lab, daemon, image };
  };
  // Both at once: two daemons in two namespaces must not collide (sockets, containerd, cgroups, bridges).
  await Promise.all([start('plain'), start('mtu1450')]);
}, 180_000);

afterAll(async () => {
  // Safety net when a test failed before the cleanup test ran: stop() and close() are idempotent.
  for (const d of daemons) await d.stop().catch((e: unknown) => console.error(`stop ${d.dir}: ${String(e)}`));
  for (const l of labs) await l.close();
  console.log(`nested-dockerd lab timings: ${JSON.stringify(timings, null, 2)}`);
});

describe('nested dockerd in a flannel-like pod (eth0 1450, no ICMP from the 1450 hop)', () => {
  it('is a real engine, answers on its own socket, and uses iptables (nft backend) inside the namespace only', async () => {
    const s = side('plain');
    const version = (await inspectJson(s, ['version', '--format', '{{json .}}'])) as {
      Server: { Version: string; ApiVersion: string };
    };
    expect(version.Server.Version).toMatch(/^\d+\.\d+\.\d+/);
    timings.engine = `${version.Server.Version} (API ${version.Server.ApiVersion})`;
    await saveFixture(caseOf(s), 'docker-version.json', version, s);
    const info = (await inspectJson(s, ['info', '--format', '{{json .}}'])) as {
      DockerRootDir: string;
      Driver: string;
    };
    expect(info.DockerRootDir.startsWith(s.daemon.dir)).toBe(true);
    timings.storageDriver = info.Driver;
    await saveFixture(caseOf(s), 'docker-info.json', info, s);

    // dockerd's NAT for docker0 went into the runner namespace's netfilter.
    const nat = await s.lab.exec('iptables', ['-t', 'nat', '-S', 'POSTROUTING']);
    expect(nat.stdout).toContain(`-s ${s.daemon.bip.replace(/\.1\/24$/, '.0/24')} ! -o docker0 -j MASQUERADE`);
    // The runner's eth0 is the 1450 layer; docker0 is not.
    expect((await s.lab.exec('cat', ['/sys/class/net/eth0/mtu'])).stdout.trim()).toBe('1450');
  });

  it('default bridge: the network lists com.docker.network.driver.mtu 1500 although the uplink is 1450', async () => {
    const s = side('plain');
    const bridge = await inspectJson(s, ['network', 'inspect', 'bridge']);
    expect(bridgeMtuOption(bridge)).toBe('1500');
    await saveFixture(caseOf(s), 'network-inspect-bridge.json', bridge, s);
  });

  it('container on docker0: TCP connects, the TLS handshake never completes, 0 bytes in 4 s', async () => {
    const s = side('plain');
    const before = await droppedFragNeeded(s.lab);
    const r = await probe(s);
    timings['plain.bridge.fetch'] = `${r.bytes} bytes in ${r.totalMs} ms (connect ${r.connectMs} ms)`;
    expect(r.interfaces.eth0).toBe(1500);
    expect(r.connectMs).not.toBeNull();
    expect(r.connectMs!).toBeLessThan(1000);
    expect(r).toMatchObject({ tlsMs: null, bytes: 0, complete: false, code: 'PROBE_DEADLINE' });
    // Where it died: the router could not forward the registry's 1500-byte segments into the 1450 link, and its
    // ICMP frag-needed (one per retransmission) went into the nft drop counter.
    expect(await droppedFragNeeded(s.lab)).toBeGreaterThan(before);
  });

  it("--network host: the same probe fetches 8 MiB (the runner's eth0 1450 gives MSS 1410)", async () => {
    const s = side('plain');
    const r = await probe(s, 'host');
    timings['plain.host.fetch'] = `${r.bytes} bytes in ${r.totalMs} ms`;
    expect(r.interfaces).toMatchObject({ eth0: 1450, docker0: 1500 });
    expect(r).toMatchObject({ status: 200, bytes: BODY_BYTES, complete: true, error: null });
  });

  it('user network with com.docker.network.driver.mtu=1450: 8 MiB; one without the option: eth0 1500 again', async () => {
    const s = side('plain');
    const ok = await s.daemon.docker(['network', 'create', '--opt', 'com.docker.network.driver.mtu=1450', 'mtu1450']);
    expect(ok.code, ok.stderr).toBe(0);
    const plainNet = await s.daemon.docker(['network', 'create', 'usernet']);
    expect(plainNet.code, plainNet.stderr).toBe(0);

    const r = await probe(s, 'mtu1450');
    timings['plain.usernet1450.fetch'] = `${r.bytes} bytes in ${r.totalMs} ms`;
    expect(r.interfaces.eth0).toBe(1450);
    expect(r).toMatchObject({ status: 200, bytes: BODY_BYTES, complete: true });

    const net1450 = await inspectJson(s, ['network', 'inspect', 'mtu1450']);
    expect(bridgeMtuOption(net1450)).toBe('1450');
    const userNet = await inspectJson(s, ['network', 'inspect', 'usernet']);
    // A user-defined network without the option carries no mtu key at all (and gets 1500).
    expect(bridgeMtuOption(userNet)).toBeUndefined();
    const mtu = await runWithFiles(s.daemon, {
      image: IMAGE,
      network: 'usernet',
      cmd: ['cat', '/sys/class/net/eth0/mtu'],
    });
    expect(mtu.stdout.trim()).toBe('1500');
    await saveFixture(caseOf(s), 'network-inspect-user-mtu-1450.json', net1450, s);
    await saveFixture(caseOf(s), 'network-inspect-user-default.json', userNet, s);
  });

  it('docker create + docker cp + docker start -a works without bind mounts; containers resolve lab names via --dns', async () => {
    const s = side('plain');
    const r = await runWithFiles(s.daemon, {
      image: IMAGE,
      cmd: ['node', '/tmp/check.cjs'],
      files: [
        {
          path: '/tmp/check.cjs',
          content: `require('node:dns').lookup(${JSON.stringify(s.lab.registryName)}, (e, a) => console.log(JSON.stringify({ node: process.version, resolved: e ? e.code : a, resolv: require('node:fs').readFileSync('/etc/resolv.conf', 'utf8') })));`,
        },
      ],
    });
    expect(r.exit, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { node: string; resolved: string; resolv: string };
    expect(out.node).toBe(rootfs.nodeVersion);
    expect(out.resolved).toBe(s.lab.registryIp);
    expect(out.resolv).toContain(`nameserver ${s.lab.dnsIp}`);
    timings['container.createMs'] = r.createMs;
    timings['container.cpMs'] = r.copyMs;
    timings['container.startAttachMs'] = r.runMs;
    const t = await s.daemon.docker(['run', '--rm', IMAGE, 'true'], { timeoutMs: 60_000 });
    expect(t.code, t.stderr).toBe(0);
    timings['container.runRmTrueMs'] = t.ms;
  });

  it('docker build, classic builder: the RUN step gets eth0 1500 on docker0 and stalls the same way', async () => {
    const s = side('plain');
    const r = await buildProbe(s, 'classic');
    timings['plain.build.classic'] =
      `RUN eth0 ${r.interfaces.eth0}, ${r.bytes} bytes in ${r.totalMs} ms; build ${r.buildMs} ms`;
    expect(r.interfaces.eth0).toBe(1500);
    expect(r).toMatchObject({ tlsMs: null, bytes: 0, code: 'PROBE_DEADLINE' });
  });

  it("docker build, the daemon's BuildKit: RUN on the default bridge, eth0 1500, stalls", async () => {
    const s = side('plain');
    const r = await buildProbe(s, 'buildkit');
    timings['plain.build.buildkit'] =
      `RUN eth0 ${r.interfaces.eth0}, ${r.bytes} bytes in ${r.totalMs} ms; build ${r.buildMs} ms`;
    expect(r.log).toMatch(/^#\d+ /m); // BuildKit's plain progress, not the classic builder's "Step 1/3"
    expect(r.interfaces.eth0).toBe(1500);
    expect(r).toMatchObject({ tlsMs: null, bytes: 0, code: 'PROBE_DEADLINE' });
  });

  it('container facts for fixtures: what /sys/class/net says inside each kind of network', async () => {
    const s = side('plain');
    const facts: Record<string, Record<string, number>> = {};
    for (const network of ['bridge', 'host', 'mtu1450', 'usernet']) {
      const r = await runWithFiles(s.daemon, {
        image: IMAGE,
        network,
        cmd: ['sh', '-c', 'for i in /sys/class/net/*; do echo "${i##*/} $(cat $i/mtu)"; done'],
      });
      expect(r.exit, r.stderr).toBe(0);
      facts[network] = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => {
            const [name = '', mtu] = l.split(' ');
            return [name, Number(mtu)];
          }),
      );
    }
    expect(facts).toMatchObject({
      bridge: { eth0: 1500 },
      host: { eth0: 1450 },
      mtu1450: { eth0: 1450 },
      usernet: { eth0: 1500 },
    });
    await saveFixture(caseOf(s), 'container-sys-class-net.json', facts, s);
  });
});

describe('the fix: dockerd --mtu 1450 in the same kind of pod', () => {
  it('the default bridge lists mtu 1450; its containers get eth0 1450 and fetch 8 MiB', async () => {
    const s = side('mtu1450');
    const bridge = await inspectJson(s, ['network', 'inspect', 'bridge']);
    expect(bridgeMtuOption(bridge)).toBe('1450');
    await saveFixture(caseOf(s), 'network-inspect-bridge.json', bridge, s);
    await saveFixture(caseOf(s), 'docker-info.json', await inspectJson(s, ['info', '--format', '{{json .}}']), s);
    await saveFixture(caseOf(s), 'docker-version.json', await inspectJson(s, ['version', '--format', '{{json .}}']), s);
    const r = await probe(s);
    timings['mtu1450.bridge.fetch'] = `${r.bytes} bytes in ${r.totalMs} ms`;
    expect(r.interfaces.eth0).toBe(1450);
    expect(r).toMatchObject({ status: 200, bytes: BODY_BYTES, complete: true });
  });

  it('--mtu does not reach user-defined networks: one created without the option is 1500 and stalls', async () => {
    const s = side('mtu1450');
    const created = await s.daemon.docker(['network', 'create', 'usernet']);
    expect(created.code, created.stderr).toBe(0);
    const userNet = await inspectJson(s, ['network', 'inspect', 'usernet']);
    expect(bridgeMtuOption(userNet)).toBeUndefined();
    await saveFixture(caseOf(s), 'network-inspect-user-default.json', userNet, s);
    const r = await probe(s, 'usernet');
    timings['mtu1450.usernet.fetch'] = `${r.bytes} bytes in ${r.totalMs} ms`;
    expect(r.interfaces.eth0).toBe(1500);
    expect(r).toMatchObject({ tlsMs: null, bytes: 0, code: 'PROBE_DEADLINE' });
  });

  it('BuildKit RUN steps follow --mtu: eth0 1450, 8 MiB', async () => {
    const s = side('mtu1450');
    const r = await buildProbe(s, 'buildkit');
    timings['mtu1450.build.buildkit'] =
      `RUN eth0 ${r.interfaces.eth0}, ${r.bytes} bytes in ${r.totalMs} ms; build ${r.buildMs} ms`;
    expect(r.interfaces.eth0).toBe(1450);
    expect(r).toMatchObject({ status: 200, bytes: BODY_BYTES, complete: true });
  });
});

describe('cleanup', () => {
  it('stop() leaves no daemon process, mount, cgroup or temp dir; close() leaves no namespace', async () => {
    for (const s of [side('plain'), side('mtu1450')]) {
      const { dir } = s.daemon;
      const pids = [s.daemon.dockerdPid, s.daemon.containerdPid];
      s.stop = await s.daemon.stop();
      timings[`${s.name}.stopMs`] = s.stop.ms;
      expect(processesMentioning(dir)).toEqual([]);
      for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid} gone`).toBe(false);
      expect(mountsUnder(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      const cgroups = readdirSync('/sys/fs/cgroup').filter((c) =>
        existsSync(path.join('/sys/fs/cgroup', c, path.basename(dir))),
      );
      expect(cgroups).toEqual([]);
      // The bridges dockerd made are gone from the (still existing) runner namespace.
      const links = await s.lab.exec('ip', ['-o', 'link', 'show']);
      expect(links.stdout).not.toMatch(/docker0|br-[0-9a-f]{12}/);
      await s.lab.close();
      const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => l.split(' ')[0]);
      for (const ns of [s.lab.runnerNs, s.lab.routerNs, s.lab.registryNs]) expect(left).not.toContain(ns);
    }
    expect(liveDaemonCount()).toBe(0);
  });
});
