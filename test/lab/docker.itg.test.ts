/**
 * Issue 3 end to end: the CLI (bundled from src by global-setup.ts) in a lab runner namespace, talking over
 * DOCKER_HOST to a real dockerd started in that same namespace (Docker-in-Docker in a CI pod), with a probe image
 * made by `docker import` (nothing is pulled). The registry stand-in answers DNS for the containers too.
 *
 * Each scenario asserts what a user reads: exit code, verdict, finding codes, the MTUs named, the verified fix, the
 * time to verdict; and that nothing carrying the tool's label is left on the daemon, even after SIGTERM.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelledLeftovers, type NestedDockerd } from './harness/docker-lab.js';
import { useDockerLab } from './harness/docker-fixture.js';
import type { Lab, LabOptions } from './harness/lab.js';
import { CLI, codes, dockerArgs, labEnv, runCli, type CliRun } from './cli.js';

const IMAGE = 'mtp-probe:lab';
const fixture = useDockerLab(IMAGE);

/** A lab, a dockerd in its runner namespace (containers resolve through the lab DNS), the probe image imported. */
const dind = (labOpts: LabOptions, mtu?: number) => fixture.dind(labOpts, mtu ? { daemon: { mtu } } : {});

const args = (l: Lab, extra: string[] = []) => dockerArgs(l, IMAGE, extra);

const cli = (l: Lab, d: NestedDockerd | { host: string }, extra: string[] = []) =>
  runCli(l, args(l, extra), { env: { DOCKER_HOST: d.host } });

const layer = (r: CliRun, id: string) => r.report?.layers.find((x) => x.id === id);
const finding = (r: CliRun, code: string) => r.report?.findings.find((f) => f.code === code);

/** One line per scenario for the issue's note (time to verdict, verification figures). */
function record(name: string, r: CliRun): void {
  const f = r.report?.findings.find((x) => x.verified) ?? r.report?.findings[0];
  const v = f?.verified ? ` verified ${f.verified.mtu} ${f.verified.ok ? 'ok' : 'NOT ok'}: ${f.verified.detail}` : '';
  console.log(
    `[docker-lab] ${name}: exit ${r.code}, ${r.report?.verdict}, ${(r.ms / 1000).toFixed(1)} s to verdict, codes ${codes(r).join(',') || '-'}, recommended ${r.report?.recommendedMtu ?? '-'}${v}`,
  );
}

describe('nested docker layer in the lab', () => {
  it('DinD on flannel (runner eth0 1450, ICMP frag-needed dropped, docker0 1500): fail at the bridge, 1450 recommended and verified, <= 15 s', async () => {
    const { l, d } = await dind({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await cli(l, d);
    record('dind-flannel-1450', r);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.report?.verdict).toBe('fail');
    expect(codes(r)).toEqual(['pmtu-blackhole']);
    const f = finding(r, 'pmtu-blackhole')!;
    expect(f.layer).toBe('docker-net-bridge');
    expect(f.summary).toMatch(
      /^docker network bridge \(docker0\) MTU 1500 exceeds the daemon's uplink eth0 MTU 1450: /,
    );
    expect(f.recommendedMtu).toBe(1450);
    expect(f.verified).toMatchObject({ mtu: 1450, ok: true });
    expect(f.verified!.detail).toMatch(/^a network with MTU 1450 fetched 2\.0 MB in \d+ ms$/);
    expect(r.report?.recommendedMtu).toBe(1450);
    // The layers, each with what it saw: the runner and the daemon's namespace download, the bridge and the build stall.
    expect(r.report!.layers.map((x) => [x.id, x.parent, x.mtu])).toEqual([
      ['host', undefined, 1450],
      ['docker', 'host', 1450],
      ['docker-net-bridge', 'docker', 1500],
      ['docker-container-bridge', 'docker-net-bridge', 1500],
      ['docker-build', 'docker-net-bridge', 1500],
      ['docker-net-verify-1450', 'docker', 1450],
      ['docker-container-verify-1450', 'docker-net-verify-1450', 1450],
    ]);
    expect(layer(r, 'host')!.probes[0]!.outcome).toBe('ok');
    expect(layer(r, 'docker')!.probes[0]!.outcome).toBe('ok');
    for (const id of ['docker-container-bridge', 'docker-build']) {
      const p = layer(r, id)!.probes[0]!;
      expect(p.outcome).toBe('stall');
      expect(p.phases.connectMs).toBeDefined(); // TCP connected: small packets pass
      expect(p.stall?.phase).toBe('tls');
    }
    expect(f.fix?.summary).toMatch(/dockerd --mtu=1450/);
    // dockerd 20.10 would refuse to start with default-network-opts (24.0+): the fix must not suggest it.
    expect(f.fix!.steps.map((s) => s.snippet).join('\n')).not.toMatch(/default-network-opt/);
    expect(r.ms).toBeLessThanOrEqual(15_000);
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('Calico IP-in-IP (runner eth0 1480 = 1500 - 20, ICMP dropped): fail, 1480 recommended and verified', async () => {
    // A veth on this kernel delivers frames above its MTU, so a silent L2 drop cannot be built from veths alone;
    // the router's 1480 link with its ICMP dropped is the same black hole seen from the registry.
    const { l, d } = await dind({ runnerMtu: 1480, bottleneckMtu: 1480, dropFragNeeded: true });
    const r = await cli(l, d);
    record('calico-ipip-1480', r);
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['pmtu-blackhole']);
    expect(finding(r, 'pmtu-blackhole')).toMatchObject({
      layer: 'docker-net-bridge',
      recommendedMtu: 1480,
      verified: { mtu: 1480, ok: true },
    });
    expect(finding(r, 'pmtu-blackhole')!.summary).toMatch(/MTU 1500 exceeds the daemon's uplink eth0 MTU 1480/);
    expect(r.ms).toBeLessThanOrEqual(15_000);
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('the same 1450 hop with ICMP passing (PMTUD repairs it): warn with the mismatch named, transfers fine', async () => {
    const { l, d } = await dind({ runnerMtu: 1450, bottleneckMtu: 1450 });
    const r = await cli(l, d);
    record('pmtud-1450', r);
    expect(r.code).toBe(0);
    expect(r.report?.verdict).toBe('warn');
    expect(codes(r)).toEqual(['mtu-mismatch']);
    const f = finding(r, 'mtu-mismatch')!;
    expect(f).toMatchObject({ layer: 'docker-net-bridge', recommendedMtu: 1450 });
    expect(f.summary).toMatch(
      /MTU 1500 exceeds the daemon's uplink eth0 MTU 1450: downloads from a container on it worked/,
    );
    expect(layer(r, 'docker-container-bridge')!.probes[0]!.outcome).toBe('ok');
    expect(layer(r, 'docker-build')!.probes[0]!.outcome).toBe('ok');
    expect(r.report!.layers.some((x) => x.facts?.purpose === 'verify')).toBe(false);
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('a 1280 tunnel where PMTUD works: warn, 1280 recommended', async () => {
    const { l, d } = await dind({ runnerMtu: 1280, bottleneckMtu: 1280 });
    const r = await cli(l, d);
    record('pmtud-1280', r);
    expect(r.code).toBe(0);
    expect(codes(r)).toEqual(['mtu-mismatch']);
    expect(finding(r, 'mtu-mismatch')).toMatchObject({ layer: 'docker-net-bridge', recommendedMtu: 1280 });
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('healthy (runner 1500): pass; leftovers of an earlier killed run are swept at start', async () => {
    const { l, d } = await dind({});
    // What a run killed with SIGKILL leaves: labelled, its expiry long past.
    const stale = [
      '--label',
      'io.mtu-preflight=1',
      '--label',
      'io.mtu-preflight.run=killed',
      '--label',
      'io.mtu-preflight.expires=1',
    ];
    expect((await d.docker(['network', 'create', ...stale, 'mtu-preflight-killed-mtu1450'])).code).toBe(0);
    expect(
      (await d.docker(['create', ...stale, '--network', 'mtu-preflight-killed-mtu1450', IMAGE, 'true'])).code,
    ).toBe(0);
    expect(await labelledLeftovers(d)).toHaveLength(2);
    const r = await cli(l, d);
    record('healthy-1500', r);
    expect(r.code).toBe(0);
    expect(r.report?.verdict).toBe('pass');
    expect(r.report?.findings).toEqual([]);
    expect(layer(r, 'docker-container-bridge')!.probes[0]!.outcome).toBe('ok');
    expect(layer(r, 'docker')!.notes).toContain(
      'removed 2 leftover(s) of an earlier, interrupted run (label io.mtu-preflight=1)',
    );
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('dockerd --mtu 1450 but a compose network left at 1500: flagged with the compose fix', async () => {
    const { l, d } = await dind({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true }, 1450);
    const created = await d.docker([
      'network',
      'create',
      '--label',
      'com.docker.compose.project=app',
      '--label',
      'com.docker.compose.network=default',
      'app_default',
    ]);
    expect(created.code).toBe(0);
    const r = await cli(l, d);
    record('dockerd-mtu-1450-user-network-1500', r);
    expect(r.code).toBe(0);
    expect(r.report?.verdict).toBe('warn');
    expect(codes(r)).toEqual(['mtu-mismatch']);
    const f = finding(r, 'mtu-mismatch')!;
    expect(f).toMatchObject({ layer: 'docker-net-app_default', severity: 'warning', recommendedMtu: 1450 });
    expect(f.summary).toMatch(/app_default \(br-[0-9a-f]{12}\) MTU 1500 exceeds the daemon's uplink eth0 MTU 1450/);
    expect(f.summary).toMatch(/dockerd --mtu=1450 applies to the default bridge only/);
    expect(f.fix?.steps[0]?.snippet).toMatch(/com.docker.network.driver.mtu: 1450/);
    // The default bridge got --mtu: its containers and build steps download.
    expect(layer(r, 'docker-net-bridge')!.mtu).toBe(1450);
    expect(layer(r, 'docker-container-bridge')!.probes[0]!.outcome).toBe('ok');
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('GitLab docker:dind style: DOCKER_HOST=tcp://…:2376 with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, same diagnosis', async () => {
    const lab = await fixture.lab({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true });
    const certs = makeDockerTls(path.join(lab.tmpDir, 'docker-tls'));
    // The daemon listens on the runner namespace's loopback only, with client certificates required (--tlsverify).
    const daemon = await fixture.daemon(lab, {
      daemon: {
        extraArgs: [
          '--host',
          'tcp://127.0.0.1:2376',
          '--tlsverify',
          '--tlscacert',
          certs.ca,
          '--tlscert',
          certs.serverCert,
          '--tlskey',
          certs.serverKey,
        ],
      },
    });
    const env = { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs.clientDir };
    const r = await runCli(lab, args(lab), { env });
    record('dind-tcp-tls-1450', r);
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['pmtu-blackhole']);
    expect(layer(r, 'docker')!.facts).toMatchObject({ endpoint: 'tcp://127.0.0.1:2376', source: 'DOCKER_HOST' });
    expect(finding(r, 'pmtu-blackhole')).toMatchObject({ recommendedMtu: 1450, verified: { mtu: 1450, ok: true } });
    expect(r.ms).toBeLessThanOrEqual(15_000);
    expect(await labelledLeftovers(daemon)).toEqual([]);
    // Without the client certificate the daemon refuses the TLS handshake: a clear note, not a crash.
    const noCert = await runCli(lab, args(lab, ['--docker', 'required']), {
      env: { ...env, DOCKER_CERT_PATH: path.join(lab.tmpDir, 'nowhere') },
    });
    expect(noCert.code).toBe(1);
    record('dind-tcp-tls-no-client-cert', noCert);
    // (The runner's own docker0, 1500 over a 1450 uplink, is flagged by the host rule now that nothing looks inside.)
    expect(codes(noCert)).toEqual(['docker-unreachable', 'mtu-mismatch']);
    expect(finding(noCert, 'docker-unreachable')!.summary).toMatch(
      /^docker: TLS to tcp:\/\/127\.0\.0\.1:2376 failed \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): check DOCKER_CERT_PATH .*; \/tmp\/\S+\/nowhere has no ca\.pem, cert\.pem, key\.pem/,
    );
  });

  it('no daemon at DOCKER_HOST: a note with auto, docker-unreachable (exit 1) with --docker required', async () => {
    const lab = await fixture.lab({});
    const missing = { host: `unix://${lab.tmpDir}/no-such-docker.sock` };
    const auto = await cli(lab, missing);
    record('unreachable-auto', auto);
    expect(auto.code).toBe(0);
    expect(auto.report?.verdict).toBe('pass');
    expect(layer(auto, 'host')!.notes).toContain(`docker: no daemon at ${missing.host} (the socket does not exist)`);
    expect(auto.report!.layers.map((x) => x.id)).toEqual(['host']);
    const req = await cli(lab, missing, ['--docker', 'required']);
    record('unreachable-required', req);
    if (!req.report)
      console.log(
        `[docker-lab] unreachable-required stdout: ${req.stdout.slice(0, 500)} stderr: ${req.stderr.slice(0, 1000)}`,
      );
    expect(req.code).toBe(1);
    expect(codes(req)).toEqual(['docker-unreachable']);
    expect(finding(req, 'docker-unreachable')!.summary).toContain(`no daemon at ${missing.host}`);
    expect(req.ms).toBeLessThan(3000);
  });

  /** Start the CLI, wait until `ready(names of running labelled containers)`, SIGTERM it 1 s later. */
  async function sigtermWhen(what: string, ready: (names: string[]) => boolean): Promise<void> {
    const { l, d } = await dind({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true });
    const child: ChildProcess = l.spawn(process.execPath, [CLI, ...args(l)], { env: labEnv({ DOCKER_HOST: d.host }) });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b));
    child.stdout!.on('data', (b: Buffer) => (stdout += b));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: performance.now() })),
    );
    const until = Date.now() + 20_000;
    let running: string[] = [];
    while (Date.now() < until) {
      running = (await d.docker(['ps', '--filter', 'label=io.mtu-preflight=1', '--format', '{{.Names}}'])).stdout
        .split('\n')
        .filter(Boolean);
      if (ready(running)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready(running)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    const t = performance.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    console.log(
      `[docker-lab] sigterm ${what}: ${running.join(', ')} running; exit ${code} ${Math.round(at - t)} ms after SIGTERM`,
    );
    expect(code).toBe(143);
    expect(stderr).toMatch(/SIGTERM, cleaning up/);
    expect(stdout).toBe(''); // no report of half-aborted probes
    expect(at - t).toBeLessThan(6000);
    expect(await labelledLeftovers(d)).toEqual([]);
  }

  it('SIGTERM mid-probe (bridge container stalling): exits 143 and nothing with the label remains', async () => {
    await sigtermWhen('mid-probe', (names) => names.some((n) => n.endsWith('-bridge')));
  });

  it('SIGTERM during the build step (its RUN container stalling): exits 143 and nothing with the label remains', async () => {
    // The RUN step's container has a daemon-chosen name; it carries the labels through the Dockerfile's LABEL.
    await sigtermWhen('mid-build', (names) => names.some((n) => !n.startsWith('mtu-preflight-')));
  });
});

/** A CA, a server certificate for 127.0.0.1 and docker (as docker:dind makes in /certs), a client certificate. */
function makeDockerTls(dir: string): { ca: string; serverCert: string; serverKey: string; clientDir: string } {
  const clientDir = path.join(dir, 'client');
  mkdirSync(clientDir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ssl = (...a: string[]) => execFileSync('openssl', a, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca-key.pem'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=mtu-preflight lab docker CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  const sign = (name: string, subj: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', '-new', ...ec, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`), '-subj', subj);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${name}-cert.pem`),
      '-extfile',
      f(`${name}.ext`),
    );
  };
  sign('server', '/CN=docker', 'subjectAltName=IP:127.0.0.1,DNS:docker\nextendedKeyUsage=serverAuth\n');
  sign('client', '/CN=client', 'extendedKeyUsage=clientAuth\n');
  // DOCKER_CERT_PATH holds ca.pem, cert.pem, key.pem (the layout docker:dind writes to /certs/client).
  writeFileSync(path.join(clientDir, 'ca.pem'), execFileSync('cat', [f('ca.pem')]));
  writeFileSync(path.join(clientDir, 'cert.pem'), execFileSync('cat', [f('client-cert.pem')]));
  writeFileSync(path.join(clientDir, 'key.pem'), execFileSync('cat', [f('client-key.pem')]));
  return { ca: f('ca.pem'), serverCert: f('server-cert.pem'), serverKey: f('server-key.pem'), clientDir };
}
