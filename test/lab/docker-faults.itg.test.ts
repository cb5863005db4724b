/**
 * Issue 5: Docker faults, with the nested dockerd of test/lab/harness/docker-lab.ts in the runner namespace (as in
 * test/lab/docker.itg.test.ts): the daemon dies mid-probe; the probe image is missing and may not be pulled
 * (air-gapped, --pull never); SIGINT mid-run. Each ends by its deadline with a clear finding or exit code, never an
 * internal error, and nothing carrying the tool's label is left on a daemon that is still there.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { labelledLeftovers, type NestedDockerd } from './harness/docker-lab.js';
import { useDockerLab } from './harness/docker-fixture.js';
import type { Lab, LabOptions } from './harness/lab.js';
import { CLI, codes, dockerArgs, labEnv, runCli } from './cli.js';
import type { ReportJson as Report } from '../../src/model/report.js';

const IMAGE = 'mtp-probe:lab';
const STARTUP_SLACK_MS = 1500;
const fixture = useDockerLab(IMAGE);

const dind = (labOpts: LabOptions, withImage = true) => fixture.dind(labOpts, { image: withImage });

const args = (l: Lab, extra: string[] = []) => dockerArgs(l, IMAGE, extra);

/** Start the CLI in the runner namespace; resolves when a labelled container of ours runs on `d`. */
async function startWhenProbing(l: Lab, d: NestedDockerd, extra: string[] = []) {
  const child: ChildProcess = l.spawn(process.execPath, [CLI, ...args(l, extra)], {
    env: labEnv({ DOCKER_HOST: d.host }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b));
  child.stderr!.on('data', (b: Buffer) => (stderr += b));
  const started = performance.now();
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const until = Date.now() + 20_000;
  let running: string[] = [];
  while (Date.now() < until) {
    running = (await d.docker(['ps', '--filter', 'label=io.mtu-preflight=1', '--format', '{{.Names}}'])).stdout
      .split('\n')
      .filter(Boolean);
    if (running.some((n) => n.endsWith('-bridge'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(
    running.some((n) => n.endsWith('-bridge')),
    `no probe container ran: ${stderr}`,
  ).toBe(true);
  return { child, exited, started, out: () => ({ stdout, stderr }) };
}

describe('docker faults', () => {
  it('SIGINT mid-probe: exits 130 within 5 s, nothing with the label remains', async () => {
    const { l, d } = await dind({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true });
    const run = await startWhenProbing(l, d);
    await new Promise((r) => setTimeout(r, 500));
    const t = performance.now();
    run.child.kill('SIGINT');
    const { code, at } = await run.exited;
    expect(code).toBe(130);
    expect(run.out().stderr).toMatch(/SIGINT, cleaning up/);
    expect(at - t).toBeLessThan(5000);
    expect(await labelledLeftovers(d)).toEqual([]);
  });

  it('the daemon dies mid-probe: the run ends at once with a report; the layers it could not probe say why', async () => {
    const { l, d } = await dind({ runnerMtu: 1450, bottleneckMtu: 1450, dropFragNeeded: true });
    const timeout = 20;
    const run = await startWhenProbing(l, d, ['--timeout', String(timeout)]);
    process.kill(d.dockerdPid, 'SIGKILL');
    const { code, at } = await run.exited;
    const { stdout, stderr } = run.out();
    expect(stderr).not.toMatch(/internal error/);
    expect(at - run.started).toBeLessThanOrEqual(timeout * 1000 + STARTUP_SLACK_MS);
    const report = JSON.parse(stdout) as Report;
    // --docker auto: a daemon that goes away is reported like one that is not there (notes), and the runner's own
    // layer is still judged: its probe worked, its docker0 (1500 over a 1450 uplink) is a latent mismatch.
    expect(code).toBe(0);
    expect(report.verdict).toBe('warn');
    expect(report.layers[0]!.probes[0]!.outcome).toBe('ok');
    expect(report.findings.map((f) => f.code)).toEqual(['mtu-mismatch']);
    const inner = report.layers.filter((x) => x.kind === 'container' || x.kind === 'build-step');
    expect(inner.length).toBeGreaterThan(0);
    for (const x of inner) expect(x.notes.join('\n')).toMatch(/^no probe result: /);
    console.log(
      `[docker-faults] daemon killed mid-probe: exit ${code} after ${Math.round(at - run.started)} ms; ${inner.map((x) => `${x.id}: ${x.notes.join('; ')}`).join(' | ')}`,
    );
  });

  it('the probe image is missing and --pull never (air-gapped): probe-image-missing, clear, nothing left', async () => {
    const { l, d } = await dind({}, false);
    const r = await runCli(l, args(l, ['--timeout', '15']), { env: { DOCKER_HOST: d.host } });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(codes(r)).toContain('probe-image-missing');
    const f = r.report!.findings.find((x) => x.code === 'probe-image-missing')!;
    expect(f.summary).toContain(IMAGE);
    expect(r.ms).toBeLessThanOrEqual(15_000 + STARTUP_SLACK_MS);
    expect(await labelledLeftovers(d)).toEqual([]);
  });
});
