import type { Report } from './report.js';

/** 0 pass, 0 warn (1 with --strict), 1 fail. Usage errors (2) never reach a report. */
export function exitCodeFor(report: Report, strict: boolean): number {
  if (report.verdict === 'fail') return 1;
  if (report.verdict === 'warn' && strict) return 1;
  return 0;
}
