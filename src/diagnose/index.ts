import type { Finding, Verdict } from '../model/report.js';
import { withHops } from './hops.js';
import type { DiagnosisInput, Rule } from './rule.js';
import { buildxBuilder } from './rules/buildx-builder.js';
import { dockerBlackhole } from './rules/docker-blackhole.js';
import { dockerDaemon } from './rules/docker-daemon.js';
import { dockerNetworkMtu } from './rules/docker-network-mtu.js';
import { dockerOverlay } from './rules/docker-overlay.js';
import { dockerParent } from './rules/docker-parent.js';
import { hostView, scoped, withoutVerification } from './rules/docker-scope.js';
import { mtuMismatch } from './rules/mtu-mismatch.js';
import { pathState } from './rules/path-state.js';
import { podNetwork } from './rules/pod-network.js';
import { probeFailures } from './rules/probe-failures.js';
import { slowTransfer } from './rules/slow-transfer.js';
import { stall } from './rules/stall.js';

export type { DiagnosisInput, Rule } from './rule.js';

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
  scoped(pathState, hostView),
  dockerDaemon,
  dockerBlackhole,
  dockerNetworkMtu,
  dockerOverlay,
  dockerParent,
  buildxBuilder,
  podNetwork,
];

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export interface Diagnosis {
  findings: Finding[];
  verdict: Verdict;
  recommendedMtu?: number;
}

/** What the CI config lint hands diagnosis (src/lint's LintResult): its findings, listed after the rules' own. */
export interface LintFindings {
  findings: readonly Finding[];
}

export function diagnose(input: DiagnosisInput & { lint?: LintFindings }, rules: readonly Rule[] = RULES): Diagnosis {
  // The rules judge the layers; the lint's findings are its own, merged as they are.
  const { lint, ...measured } = input;
  const findings = withHops(
    [...rules.flatMap((r) => r.evaluate(measured)), ...(lint?.findings ?? [])],
    measured.layers,
  );
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const verdict: Verdict = findings.some((f) => f.severity === 'error')
    ? 'fail'
    : findings.some((f) => f.severity === 'warning')
      ? 'warn'
      : 'pass';
  const recommendedMtu = verdictMtu(findings, verdict);
  return { findings, verdict, ...(recommendedMtu !== undefined ? { recommendedMtu } : {}) };
}

/**
 * The report's recommendedMtu: the MTU of what the verdict is about. Of the findings whose severity made the verdict
 * (errors for fail, warnings for warn), the first that recommends one, in report order (severity, then rule order);
 * none on a pass, and none when those findings are not about the MTU (a DNS failure beside a lint warning).
 * Each finding carries its own recommendedMtu besides.
 */
export function verdictMtu(findings: readonly Finding[], verdict: Verdict): number | undefined {
  const severity = verdict === 'fail' ? 'error' : verdict === 'warn' ? 'warning' : undefined;
  return findings.find((f) => f.severity === severity && f.recommendedMtu !== undefined)?.recommendedMtu;
}
