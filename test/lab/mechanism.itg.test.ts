/**
 * Issue 10: what the preflight sees and what it changes. Every scenario on freshly built namespaces: a run leaves a
 * learned path MTU (a route exception, `ip route get` ... `cache expires 596sec mtu 1400`) in the runner namespace
 * for net.ipv4.route.mtu_expires (600 s), and the next run would measure that instead of the path.
 *
 * The upstream hole: a 1400 hop that both directions cross (LabOptions.upstream), its ICMP "fragmentation needed"
 * reaching the runner but not the registry. The CLI's Node 24 ClientHello (~1.6 KB) teaches the runner 1400; the
 * registry's 1500-byte segments still vanish.
 */
import { describe, expect, it } from 'vitest';
import { useDockerLab } from './harness/docker-fixture.js';
import type { Lab, LabOptions } from './harness/lab.js';
import { codes, dockerArgs, runCli, type CliRun } from './cli.js';

const IMAGE = 'mtp-probe:lab';
const UPSTREAM: LabOptions = { bottleneckMtu: 1400, upstream: true, dropFragNeeded: 'toward-registry' };
const fixture = useDockerLab(IMAGE);

async function freshLab(opts: LabOptions, docker = false): Promise<{ l: Lab; env: Record<string, string> }> {
  if (!docker) return { l: await fixture.lab(opts), env: {} };
  const { l, d } = await fixture.dind(opts);
  return { l, env: { DOCKER_HOST: d.host } };
}

const run = (l: Lab, env: Record<string, string>, extra: string[] = []) =>
  runCli(l, dockerArgs(l, IMAGE, ['--stall-timeout', '3', ...extra]), { env });
const finding = (r: CliRun, code: string, layer?: string) =>
  r.report?.findings.find((f) => f.code === code && (layer === undefined || f.layer === layer));
const hostUplink = (r: CliRun) => r.report!.layers.find((x) => x.id === 'host')!.uplinks[0]!;

/** One line per scenario for the note: verdict, codes, recommended MTU, the evidence line that names why. */
function record(name: string, r: CliRun, evidence: RegExp): void {
  const line = r.report?.findings.flatMap((f) => f.evidence).find((e) => evidence.test(e)) ?? '-';
  console.log(
    `[mechanism] ${name}: ${r.report?.verdict}, codes ${codes(r).join(',') || '-'}, recommended ${r.report?.recommendedMtu ?? '-'}; ${line}`,
  );
}

describe('what the probes teach the kernel, and which mechanism repaired a path', () => {
  it('upstream 1400 hop, ICMP toward the server dropped, nested dockerd: three fresh runs, one verdict, the path blamed', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { l, env } = await freshLab(UPSTREAM, true);
      const r = await run(l, env);
      record(`upstream-1400-dind run ${i + 1}`, r, /PMTUD works only on the way out/);
      expect(r.code).toBe(1);
      seen.push(JSON.stringify([r.report?.verdict, codes(r), r.report?.recommendedMtu]));
      expect(r.report?.recommendedMtu).toBe(1400);
      // The route exception this run taught, with its expiry, named.
      expect(hostUplink(r)).toMatchObject({ ifaceMtu: 1500, cachedPmtu: 1400, pmtuLearned: 'this-run' });
      const learned = finding(r, 'path-mtu-learned', 'host')!;
      expect(learned.summary).toMatch(/learned path MTU of 1400 .*learned during this run; eth0 itself is 1500/);
      expect(learned.evidence).toContainEqual(
        expect.stringMatching(/^ip route get 10\.213\.2\.2: cache expires \d+sec mtu 1400$/),
      );
      // No finding blames docker0: the hole is the path's.
      for (const f of r.report!.findings) {
        expect(f.layer).not.toMatch(/^docker-net-/);
        expect(f.summary).not.toMatch(/docker0\) MTU 1500 exceeds/);
        expect(f.summary).not.toMatch(/MTU (\d+) exceeds .*MTU \1\b/);
      }
      const hole = finding(r, 'pmtu-blackhole', 'host')!;
      expect(hole.summary).toMatch(/path MTU is 1400, learned from ICMP by this machine \(eth0 itself is 1500\)/);
      expect(hole.fix!.steps.map((s) => s.snippet).join('\n')).toMatch(/clamp-mss-to-pmtu/);
      expect(hole.fix!.steps.map((s) => s.snippet).join('\n')).toMatch(/"mtu": 1400/);
    }
    expect(new Set(seen).size).toBe(1);
  });

  it('the same hole with --docker off: the path MTU named as learned, eth0 as 1500, never "PMTUD is working"', async () => {
    const { l } = await freshLab(UPSTREAM);
    const r = await run(l, {}, ['--docker', 'off']);
    record('upstream-1400-docker-off', r, /PMTUD works only on the way out/);
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['pmtu-blackhole', 'path-mtu-learned']);
    const hole = finding(r, 'pmtu-blackhole')!;
    expect(hole.summary).toMatch(/path MTU is 1400, learned from ICMP by this machine \(eth0 itself is 1500\)/);
    expect(hole.evidence).toContainEqual(
      expect.stringMatching(/^registry\.lab\.test: PMTUD works only on the way out/),
    );
    expect(JSON.stringify(r.report)).not.toMatch(/PMTUD is working/);
  });

  it('a router clamping the MSS, no ICMP at all: pass with the clamp named, never PMTUD', async () => {
    const { l } = await freshLab({ bottleneckMtu: 1400, upstream: true, dropFragNeeded: true, clampMss: true });
    const r = await run(l, {}, ['--docker', 'off']);
    record('upstream-1400-mss-clamp', r, /MSS clamping/);
    expect(r.code).toBe(0);
    expect(['pass', 'warn']).toContain(r.report?.verdict);
    const clamp = finding(r, 'mss-clamped')!;
    expect(clamp.severity).toBe('info');
    expect(clamp.evidence).toContainEqual(
      expect.stringMatching(/MSS clamping on the path: the server sends with MSS 1348, below the 1448/),
    );
    expect(JSON.stringify(r.report!.findings)).not.toMatch(/PMTUD repaired|PMTUD works/);
    expect(hostUplink(r).cachedPmtu).toBeUndefined();
  });

  it('a 1280 tunnel where PMTUD works both ways: the nested docker warning still says PMTUD', async () => {
    const { l, env } = await freshLab({ runnerMtu: 1280, bottleneckMtu: 1280 }, true);
    const r = await run(l, env);
    record('pmtud-1280-dind', r, /PMTUD/);
    expect(codes(r)).toEqual(['mtu-mismatch']);
    const f = finding(r, 'mtu-mismatch')!;
    expect(f.summary).toMatch(/PMTUD/);
    expect(f.summary).not.toMatch(/exceeds .*MTU 1500\b/);
  });

  it('a route exception left by an earlier run: the second run says so and does not call the path healthy', async () => {
    const { l } = await freshLab(UPSTREAM);
    const first = await run(l, {}, ['--docker', 'off']);
    expect(first.code).toBe(1);
    const second = await run(l, {}, ['--docker', 'off']);
    record('upstream-1400-second-run', second, /left by an earlier run|earlier run or job/);
    expect(hostUplink(second)).toMatchObject({ cachedPmtu: 1400, pmtuLearned: 'earlier' });
    expect(second.report?.verdict).not.toBe('pass');
    const learned = finding(second, 'path-mtu-learned')!;
    expect(learned.summary).toMatch(/left by an earlier run/);
    expect(learned.evidence).toContainEqual(expect.stringMatching(/^it was there before any probe ran/));
  });
});
