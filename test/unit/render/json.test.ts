import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../../src/render/json.js';
import { fromReportJson, SCHEMA_VERSION } from '../../../src/model/report.js';
import { REPORT_NAMES, loadReport, loadReportJson, reportPath } from './fixtures.js';

describe('renderJson', () => {
  // The fixtures are stored as renderJson writes them: each one is its own snapshot.
  it.each(REPORT_NAMES)('%s is printed exactly as stored (2 spaces, trailing newline)', (name) => {
    expect(renderJson(loadReport(name))).toBe(readFileSync(reportPath(name), 'utf8'));
  });

  it.each(REPORT_NAMES)('%s parses back to the same report, schemaVersion first', (name) => {
    const report = loadReport(name);
    const json = renderJson(report);
    // The JSON (schema v1) carries each layer's typed fields as `facts`: read back, it is the report it came from.
    expect(JSON.parse(json)).toEqual(loadReportJson(name));
    expect(fromReportJson(JSON.parse(json))).toEqual(report);
    expect(json.startsWith(`{\n  "schemaVersion": ${SCHEMA_VERSION},\n`)).toBe(true);
  });
});
