import type { CiFact, Finding, Layer, ProbeResult } from '../model/report.js';

/** Everything the rules look at: collected and probed, nothing else. */
export interface DiagnosisInput {
  layers: Layer[];
  ci: CiFact;
  stallTimeoutMs: number;
  minThroughput: number;
}

/** A rule is pure: input in, findings out. Its id is stable (kebab-case). */
export interface Rule {
  id: string;
  evaluate(input: DiagnosisInput): Finding[];
}

export { fmtBytes, fmtMs, fmtRate } from '../model/units.js';

/**
 * The host as a finding names it: with its address family when that is part of the story (an IPv6 address, or a
 * dual-stack target probed once per family, where one family's path may fail and the other's work).
 */
export function probeHost(p: ProbeResult, layerProbes: readonly ProbeResult[]): string {
  const perFamily = layerProbes.some(
    (q) => q !== p && q.url === p.url && q.family !== undefined && q.family !== p.family,
  );
  return p.family !== undefined && (perFamily || p.family === 6) ? `${p.host} over IPv${p.family}` : p.host;
}
