import type { Finding, Verdict } from '../model/report.js';
import type { Facts, Rule } from './rule.js';
import { dockerBlackhole } from './rules/docker-blackhole.js';
import { dockerDaemon } from './rules/docker-daemon.js';
import { dockerNetworkMtu } from './rules/docker-network-mtu.js';
import { dockerOverlay } from './rules/docker-overlay.js';
import { dockerParent } from './rules/docker-parent.js';
import { hostView, scoped, withoutVerification } from './rules/docker-scope.js';
import { mtuMismatch } from './rules/mtu-mismatch.js';
import { probeFailures } from './rules/probe-failures.js';
import { slowTransfer } from './rules/slow-transfer.js';
import { stall } from './rules/stall.js';

export type { Facts, Rule } from './rule.js';

/**
 * The rules, in the order their findings are listed. The host-level rules see the docker layers through
 * hostView/withoutVerification (src/diagnose/rules/docker-scope.ts): inner layers are judged across layers by the
 * docker-* rules, and the temporary verification networks are evidence, not findings.
 */
export const RULES: Rule[] = [
  scoped(stall, hostView),
  scoped(mtuMismatch, hostView),
  scoped(probeFailures, withoutVerification),
  scoped(slowTransfer, withoutVerification),
  dockerDaemon,
  dockerBlackhole,
  dockerNetworkMtu,
  dockerOverlay,
  dockerParent,
];

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export interface Diagnosis {
  findings: Finding[];
  verdict: Verdict;
  recommendedMtu?: number;
}

export function diagnose(facts: Facts, rules: readonly Rule[] = RULES): Diagnosis {
  const findings = rules.flatMap((r) => r.evaluate(facts));
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const verdict: Verdict = findings.some((f) => f.severity === 'error') ? 'fail' : findings.some((f) => f.severity === 'warning') ? 'warn' : 'pass';
  const mtus = findings.map((f) => f.recommendedMtu).filter((m): m is number => m !== undefined);
  return { findings, verdict, ...(mtus.length ? { recommendedMtu: Math.min(...mtus) } : {}) };
}
