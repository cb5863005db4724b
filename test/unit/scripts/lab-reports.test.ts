/**
 * scripts/lab-reports: the normalisation removes exactly the run-to-run noise, and the diff names what changed.
 * Fixtures: two raw runs of the same scenario on the same code (the release before issue 9, be540ef), whose veth
 * peers, timings, temp dirs and duration units differ.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffJson, type Json } from '../../../scripts/lab-reports/diff.js';
import { normaliseRun, type LabRun, type NormalisedRun } from '../../../scripts/lab-reports/normalise.js';

const fixture = (n: 1 | 2): LabRun =>
  JSON.parse(
    readFileSync(
      new URL(`../../fixtures/lab-reports-be540ef/swarm-overlay-1500-on-1450.run${n}.json`, import.meta.url),
      'utf8',
    ),
  ) as LabRun;
type Report = {
  verdict: string;
  recommendedMtu?: number;
  layers: Array<{ id: string; mtu?: number; probes: Array<{ outcome: string }> }>;
  findings: Array<{ code: string }>;
};
const report = (r: NormalisedRun) => r.report as Report;

describe('lab reports: normalisation', () => {
  it('two runs of the same code differ as printed and compare equal once normalised', () => {
    const [a, b] = [fixture(1), fixture(2)];
    expect(diffJson(a.report as Json, b.report as Json).length).toBeGreaterThan(50);
    expect(diffJson(normaliseRun(a) as unknown as Json, normaliseRun(b) as unknown as Json)).toEqual([]);
  });

  it('keeps what a user checks: exit code, verdict, recommended MTU, finding codes, outcomes, MTUs, fixes', () => {
    const n = normaliseRun(fixture(1));
    const r = report(n);
    expect(n.exitCode).toBe(1);
    expect(r.verdict).toBe('fail');
    expect(r.recommendedMtu).toBe(1400);
    expect(r.findings.map((f) => f.code)).toEqual(['pmtu-blackhole', 'mtu-mismatch', 'mtu-mismatch']);
    expect(r.layers.find((l) => l.id === 'docker-net-ov1500')?.mtu).toBe(1450);
    expect(r.layers.find((l) => l.id === 'docker-container-bridge')?.probes.map((p) => p.outcome)).toEqual(['ok']);
    const text = JSON.stringify(n);
    expect(text).toContain('re-create docker_gwbridge with MTU 1450');
    // No random name or temp path survives.
    expect(text).not.toMatch(/mtudl-\d+|mtp\d+x\d+|veth[0-9a-f]{7}|br-[0-9a-f]{12}/);
  });
});

describe('lab reports: diff', () => {
  it('names a changed verdict, MTU and outcome by layer id and finding code, not by index', () => {
    const a = normaliseRun(fixture(1));
    const b = structuredClone(a);
    const rb = report(b);
    rb.verdict = 'warn';
    rb.recommendedMtu = 1450;
    rb.layers.find((l) => l.id === 'docker-container-bridge')!.probes[0]!.outcome = 'stall';
    expect(diffJson(a as unknown as Json, b as unknown as Json)).toEqual([
      '  report.verdict: "fail" -> "warn"',
      '  report.recommendedMtu: 1400 -> 1450',
      '  report.layers[docker-container-bridge].probes[url@10.213.2.2].outcome: "ok" -> "stall"',
    ]);
  });

  it('a removed layer shows as that layer removed, the layers after it unchanged', () => {
    const a = normaliseRun(fixture(1));
    const b = structuredClone(a);
    report(b).layers = report(b).layers.filter((l) => l.id !== 'docker-build');
    const lines = diffJson(a as unknown as Json, b as unknown as Json);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.startsWith('- report.layers[docker-build]'))).toBe(true);
  });
});
