import type { CiFact, Finding, Layer } from '../types.js';

/** Everything the rules look at: collected and probed, nothing else. */
export interface Facts {
  layers: Layer[];
  ci: CiFact;
  stallTimeoutMs: number;
  minThroughput: number;
  timedOut: boolean;
}

/** A rule is pure: facts in, findings out. Its id is stable (kebab-case). */
export interface Rule {
  id: string;
  evaluate(facts: Facts): Finding[];
}

export const fmtMs = (ms: number | undefined): string => (ms === undefined ? '?' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

export const fmtRate = (bps: number | undefined): string => (bps === undefined ? '?' : `${fmtBytes(bps)}/s`);
