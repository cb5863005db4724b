/** The fixture reports (test/fixtures/reports/*.json): runs as a user would meet them. */
import { readFileSync } from 'node:fs';
import { fromReportJson, type Report, type ReportJson } from '../../../src/model/report.js';

export const REPORT_NAMES = [
  'healthy-pass',
  'host-pmtu-blackhole',
  'dns-failure',
  'mismatch-warning',
  'nested-docker-blackhole',
] as const;
/** A --lint-only run (assume-mtu 1450) over test/fixtures/ci-configs/{gitlab,github,compose,drone}/positive: the CI
 * report formats' lint side (JUnit, Code Quality, SARIF). Not in REPORT_NAMES, whose snapshots it would change. */
export const LINT_REPORT_NAMES = ['ci-config-lint'] as const;
export type ReportName = (typeof REPORT_NAMES)[number] | (typeof LINT_REPORT_NAMES)[number];

export function reportPath(name: ReportName): string {
  return new URL(`../../fixtures/reports/${name}.json`, import.meta.url).pathname;
}

/** The report as written (schema v1 JSON). */
export function loadReportJson(name: ReportName): ReportJson {
  return JSON.parse(readFileSync(reportPath(name), 'utf8')) as ReportJson;
}

/** A fresh copy each call, read back into the typed model, so a test may change it. */
export function loadReport(name: ReportName): Report {
  return fromReportJson(loadReportJson(name));
}
