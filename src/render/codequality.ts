/**
 * The lint's findings as a GitLab Code Quality report (`artifacts: reports: codequality:`): the fields GitLab
 * documents for a custom tool (docs/ci/testing/code_quality.md, "Implement a custom tool"): description,
 * check_name, fingerprint, severity (info, minor, major, critical, blocker), location.path and location.lines.begin.
 * Findings about the runner's network name no file of the repository and are left out (GitLab places each issue on
 * a file's line): JUnit and the metrics carry those.
 */
import type { Report, Severity } from '../model/report.js';
import { maskSecrets } from '../util/redact.js';
import { fileFindings, fingerprints, lineOf } from './lint-findings.js';

export interface CodeQualityIssue {
  description: string;
  check_name: string;
  fingerprint: string;
  severity: 'info' | 'minor' | 'major' | 'critical' | 'blocker';
  location: { path: string; lines: { begin: number } };
}

/** An error stalls the pipeline's downloads; a warning is a setting that will when the uplink is small. */
const SEVERITY: Record<Severity, CodeQualityIssue['severity']> = { error: 'critical', warning: 'major', info: 'info' };

export function codeQualityIssues(report: Report): CodeQualityIssue[] {
  const found = fileFindings(report.findings);
  const prints = fingerprints(found);
  return found.map((f, i) => ({
    description: maskSecrets(f.fix ? `${f.summary} Fix: ${f.fix.summary}` : f.summary),
    check_name: f.code,
    fingerprint: prints[i]!,
    severity: SEVERITY[f.severity],
    location: { path: f.file, lines: { begin: lineOf(f) } },
  }));
}

export function renderCodeQuality(report: Report): string {
  return JSON.stringify(codeQualityIssues(report), null, 2) + '\n';
}
