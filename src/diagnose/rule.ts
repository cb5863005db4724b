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

export { fmtBytes, fmtMs, fmtRate } from '../format.js';
