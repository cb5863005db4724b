/** Fixture access and a compact view of lint findings (file:line and the summary) for table assertions. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Finding } from '../../../src/model/report.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/ci-configs/', import.meta.url));

export const fixture = (p: string): Promise<string> =>
  readFile(new URL(`../../fixtures/ci-configs/${p}`, import.meta.url), 'utf8');

export const at = (fs: readonly Finding[]): string[] => fs.map((f) => `${f.file}:${f.line}`);

/** Every lint finding has the shape the JSON contract and the Action's annotations rely on. */
export function expectLintShape(fs: readonly Finding[], mtu: number, expect: (v: unknown) => any): void {
  for (const f of fs) {
    expect(f).toMatchObject({ code: 'ci-config-mtu', severity: 'warning', layer: 'config', recommendedMtu: mtu });
    expect(f.line).toBeGreaterThan(0);
    expect(f.summary).toContain(`${f.file}:${f.line}`);
    expect(f.summary).toContain(String(mtu));
    expect(f.fix?.steps.length).toBeGreaterThan(0);
    // The edit to make is copy-paste material: the YAML snippets parse, and carry the measured MTU.
    for (const s of f.fix!.steps) {
      if (s.language === 'yaml') expect(() => parse(s.snippet)).not.toThrow();
      if (s.language === 'json') expect(() => JSON.parse(s.snippet)).not.toThrow();
      expect(s.snippet).toContain(String(mtu));
    }
  }
}
