/**
 * Issue 11 end to end: where `docker buildx build` RUN steps really run. A real lab (the runner namespace's eth0 at
 * 1450, the router's 1450 hop with ICMP frag-needed dropped: a black hole for anything advertising MSS 1460), a real
 * nested dockerd with --mtu 1450 (docker0 is fine), the CLI run as users run it.
 *
 * STAND-INS (no image registry here, no buildx plugin, no BuildKit image; Debian bookworm has no docker-buildx):
 *   - the builder is a container made from the lab's probe image the way buildx's docker-container driver makes its
 *     buildkitd container (docker/buildx driver/docker-container/driver.go create): named buildx_buildkit_<builder>0,
 *     the <name>_state volume at /var/lib/buildkit, no labels, but not privileged (this machine's own sandbox refuses
 *     the capabilities --privileged asks for; nothing the tool reads depends on it), on the network `--driver-opt network=`
 *     names, its command `buildkitd <flags>` (here after a `sh -c 'exec sleep'` that keeps it running);
 *   - buildx's state is written as buildx writes it (store/nodegroup.go JSON: instances/<builder> and current) in a
 *     folder named by $BUILDX_CONFIG;
 *   - buildkitd's bridge mode is modelled by a bridge buildkit0 (MTU 1500, the CNI bridge plugin's default) with a
 *     veth port, created inside the builder's network namespace with `nsenter -t <pid> -n ip link add`.
 * The tool does not know these are stand-ins: it finds the builder by name, reads the state, and probes from the
 * builder's namespace with a container started with --network container:<builder>.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { labelledLeftovers, mustDocker, standInBuilder, type NestedDockerd } from './harness/docker-lab.js';
import { useDockerLab } from './harness/docker-fixture.js';
import type { Lab } from './harness/lab.js';
import { codes, dockerArgs, runCli, type CliRun } from './cli.js';

const IMAGE = 'mtp-probe:lab';
const BUILDER = 'lab';
const CONTAINER = `buildx_buildkit_${BUILDER}0`;
const MTU_OPT = 'com.docker.network.driver.mtu';

const fixture = useDockerLab(IMAGE);

const dind = () =>
  fixture.dind({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true }, { daemon: { mtu: 1450 } });

/** The builder stand-in, as buildx's docker-container driver creates it (see the header). */
const builder = (d: NestedDockerd, network: string | undefined, flags: string[], bridge = false) =>
  standInBuilder(d, { image: IMAGE, builder: BUILDER, ...(network ? { network } : {}), flags, bridge });

/** buildx's state for the builder, in buildx's on-disk format (store/nodegroup.go, store/store.go). */
async function writeBuildxState(l: Lab, driverOpts: Record<string, string>, flags: string[]): Promise<string> {
  const dir = path.join(l.tmpDir, 'buildx');
  await mkdir(path.join(dir, 'instances'), { recursive: true });
  const node = { Name: `${BUILDER}0`, Endpoint: 'unix:///var/run/docker.sock', Platforms: null };
  const ng = {
    Name: BUILDER,
    Driver: 'docker-container',
    Nodes: [{ ...node, DriverOpts: driverOpts, Flags: flags, Files: null }],
    Dynamic: false,
  };
  await writeFile(path.join(dir, 'instances', BUILDER), JSON.stringify(ng));
  await writeFile(
    path.join(dir, 'current'),
    JSON.stringify({ Key: 'unix:///var/run/docker.sock', Name: BUILDER, Global: false }),
  );
  return dir;
}

/** MTU_LAB_CAPTURE=1: the Engine's GET /containers/json for the stand-in, the unit tests' fixture. */
async function captureContainerList(d: NestedDockerd): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ name: [CONTAINER] }));
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ socketPath: d.socketPath, path: `/containers/json?filters=${filters}` }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  const dir = fileURLToPath(new URL('../fixtures/buildx-lab-stand-in/', import.meta.url));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'containers-json.json'), JSON.stringify(JSON.parse(body), null, 2) + '\n');
}

const cli = (l: Lab, d: NestedDockerd, buildxConfig: string) =>
  runCli(l, dockerArgs(l, IMAGE), { env: { DOCKER_HOST: d.host, BUILDX_CONFIG: buildxConfig }, timeoutMs: 90_000 });

const layer = (r: CliRun, id: string) => r.report?.layers.find((x) => x.id === id);
const findingOn = (r: CliRun, code: string, id: string) =>
  r.report?.findings.find((f) => f.code === code && f.layer === id);
const snippets = (f: { fix?: { steps: Array<{ snippet: string }> } } | undefined) =>
  (f?.fix?.steps ?? []).map((s) => s.snippet).join('\n');

/** MTU_LAB_CAPTURE=1: the run's JSON report, for the unit tests (read back layer for layer, rendered). */
async function captureReport(file: string, r: CliRun): Promise<void> {
  if (process.env.MTU_LAB_CAPTURE !== '1') return;
  const dir = fileURLToPath(new URL('../fixtures/buildx-lab-stand-in/', import.meta.url));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, file), r.stdout);
}

function record(name: string, r: CliRun): void {
  const f = r.report?.findings.find((x) => x.verified) ?? r.report?.findings[0];
  const v = f?.verified ? ` verified ${f.verified.mtu} ${f.verified.ok ? 'ok' : 'NOT ok'}: ${f.verified.detail}` : '';
  console.log(
    `[builders-lab] ${name}: exit ${r.code}, ${r.report?.verdict}, ${(r.ms / 1000).toFixed(1)} s to verdict, codes ${codes(r).join(',') || '-'}${v}`,
  );
  for (const x of r.report?.findings ?? []) console.log(`  ${x.severity} ${x.code} @${x.layer}: ${x.summary}`);
}

describe('buildx builders behind a 1450 black hole, dockerd --mtu 1450 (builder stand-ins, see the header)', () => {
  it('a builder on a user-defined network at 1500 fails, pmtu-blackhole names the builder, 1450 verified', async () => {
    const { l, d } = await dind();
    await mustDocker(d, ['network', 'create', 'buildnet']);
    await builder(d, 'buildnet', []);
    const state = await writeBuildxState(l, { network: 'buildnet' }, []);
    const r = await cli(l, d, state);
    record('builder on buildnet 1500', r);
    await captureReport('report-builder-on-1500-network.json', r);
    expect(r.report?.verdict, r.stderr).toBe('fail');
    const b = layer(r, `buildx-${BUILDER}0`);
    expect(b?.kind).toBe('buildx-builder');
    expect(b?.parent).toBe('docker-net-buildnet');
    expect(b?.facts).toMatchObject({
      builder: BUILDER,
      container: CONTAINER,
      network: 'buildnet',
      source: 'buildx-state',
      current: true,
    });
    expect(b?.probes.map((p) => p.outcome)).toEqual(['stall']);
    const f = findingOn(r, 'pmtu-blackhole', `buildx-${BUILDER}0`);
    expect(f?.summary).toContain(`buildx builder ${BUILDER}`);
    expect(f?.verified).toMatchObject({ mtu: 1450, ok: true });
    expect(f?.recommendedMtu).toBe(1450);
    expect(snippets(f)).toContain(
      `docker buildx create --name ${BUILDER} --driver docker-container --driver-opt network=host`,
    );
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('the same builder on a network created with MTU 1450 passes', async () => {
    const { l, d } = await dind();
    await mustDocker(d, ['network', 'create', '--opt', `${MTU_OPT}=1450`, 'buildnet']);
    await builder(d, 'buildnet', []);
    const state = await writeBuildxState(l, { network: 'buildnet' }, []);
    const r = await cli(l, d, state);
    record('builder on buildnet 1450', r);
    expect(r.report?.verdict, JSON.stringify(r.report?.findings)).toBe('pass');
    const b = layer(r, `buildx-${BUILDER}0`);
    expect(b?.mtu).toBe(1450);
    expect(b?.probes.map((p) => p.outcome)).toEqual(['ok']);
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it("a builder in bridge mode on the fixed docker0 fails, naming buildkitd's bridge buildkit0", async () => {
    const { l, d } = await dind();
    const flags = ['--oci-worker-net=bridge'];
    await builder(d, undefined, flags, true);
    const state = await writeBuildxState(l, {}, flags);
    if (process.env.MTU_LAB_CAPTURE === '1') await captureContainerList(d);
    const r = await cli(l, d, state);
    record('builder in bridge mode on docker0 1450', r);
    await captureReport('report-buildkit-bridge.json', r);
    expect(r.report?.verdict, r.stderr).toBe('fail');
    const b = layer(r, `buildx-${BUILDER}0`);
    expect(b?.parent).toBe('docker-net-bridge');
    expect(b?.mtu).toBe(1450);
    expect(b?.facts).toMatchObject({ workerNet: 'bridge' });
    expect(b?.probes.map((p) => p.outcome)).toEqual(['ok']);
    const br = layer(r, `buildx-${BUILDER}0-bridge`);
    expect(br).toMatchObject({ kind: 'buildkit-bridge', parent: b?.id, mtu: 1500 });
    expect(br?.facts).toMatchObject({ bridge: 'buildkit0', replicaMtu: 1500 });
    const f = findingOn(r, 'pmtu-blackhole', `buildx-${BUILDER}0-bridge`);
    expect(f?.summary).toContain('buildkit0');
    expect(f?.verified).toMatchObject({ mtu: 1450, ok: true });
    expect(snippets(f)).toContain('networkMode = "host"');
    // docker0 itself is fine: no finding blames the default bridge.
    expect(r.report?.findings.filter((x) => x.layer === 'docker-net-bridge')).toEqual([]);
    expect(await labelledLeftovers(d)).toEqual([]);
  });
});
