/**
 * Steady progress below the floor: a slow or congested link, not an MTU problem
 * (a black hole moves nothing after the first small packets; a slow link keeps moving).
 */
import type { Finding } from '../../model/report.js';
import { fmtBytes, fmtMs, fmtRate, probeHost, type DiagnosisInput, type Rule } from '../rule.js';

export const slowTransfer: Rule = {
  id: 'slow-transfer',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const layer of input.layers) {
      for (const p of layer.probes) {
        if (p.outcome !== 'ok' && p.outcome !== 'deadline') continue;
        if (p.bytes === 0) continue;
        const rate = p.throughputBps ?? 0;
        if (p.outcome === 'ok' && (rate >= input.minThroughput || !p.capped)) continue;
        findings.push({
          code: 'slow-transfer',
          severity: 'warning',
          layer: layer.id,
          summary: `${probeHost(p, layer.probes)}: ${fmtBytes(p.bytes)} in ${fmtMs((p.phases.doneMs ?? 0) - (p.phases.ttfbMs ?? 0))} (${fmtRate(rate)}), below the ${fmtRate(input.minThroughput)} floor${p.outcome === 'deadline' ? ', cut off by the deadline' : ''}. Bytes kept arriving, so this is a slow link, not an MTU black hole.`,
          evidence: [
            `${p.url}: ${p.samples.length} samples, last ${p.samples.at(-1)?.[1] ?? p.bytes} bytes at ${fmtMs(p.samples.at(-1)?.[0])}`,
            `no gap longer than the ${fmtMs(input.stallTimeoutMs)} stall timeout`,
          ],
          targets: [p.target],
          fix: {
            summary:
              'Check the link speed or congestion (or a rate-limiting proxy); raise --timeout if this is expected.',
            steps: [],
          },
        });
      }
    }
    return findings;
  },
};
