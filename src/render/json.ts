/**
 * The machine-readable report: the Report model as it is, pretty-printed (2 spaces, trailing newline).
 * Its shape is the public contract (`schemaVersion`, stable finding codes); consumers parse this, so
 * nothing here reshapes or drops fields. Strings are credential-masked on the way out, like every renderer's.
 */
import { maskSecrets } from '../util/redact.js';
import type { Report } from '../model/report.js';

export function renderJson(report: Report): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' ? maskSecrets(value) : value), 2) + '\n';
}
