/**
 * The machine-readable report: the Report model, pretty-printed (2 spaces, trailing newline), each layer's
 * kind-specific fields flattened into `facts` (src/model/layers.ts). Its shape is the public contract
 * (`schemaVersion`, stable finding codes); consumers parse this. Strings are credential-masked on the way out, like every renderer's.
 */
import { maskSecrets } from '../util/redact.js';
import { toLayerJson } from '../model/layer-json.js';
import type { Report, ReportJson } from '../model/report.js';

/** The report in its JSON shape (schema v1): the typed layers with their fields as `facts`. */
export function toReportJson(report: Report): ReportJson {
  return { ...report, layers: report.layers.map(toLayerJson) };
}

export function renderJson(report: Report): string {
  return (
    JSON.stringify(
      toReportJson(report),
      (_key, value: unknown) => (typeof value === 'string' ? maskSecrets(value) : value),
      2,
    ) + '\n'
  );
}
