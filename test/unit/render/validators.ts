/**
 * The real checkers of the CI report formats: xmllint against the JUnit XSD (test/fixtures/junit/junit.xsd,
 * written from the format's documentation), the OASIS SARIF 2.1.0 schema as Microsoft's SARIF team ships it on npm
 * (@microsoft/jest-sarif: lib/schemas/sarif-2.1.0-rtm.5.json, the schema the OASIS standard published as 2.1.0)
 * through ajv, and `promtool check metrics` from Debian's prometheus package. Each returns what its tool said.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import Ajv from 'ajv';

const require = createRequire(import.meta.url);
export const JUNIT_XSD = new URL('../../fixtures/junit/junit.xsd', import.meta.url).pathname;

export interface Verdict {
  ok: boolean;
  output: string;
}

/** A Debian tool the check needs, or a failing check that says how to get it (scripts/lab-deps.sh installs both). */
function tool(name: string, pkg: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} is missing: apt-get install ${pkg} (scripts/lab-deps.sh, run by npm pretest)`);
  return found;
}

export function xmllintJunit(xml: string): Verdict {
  const r = spawnSync(tool('xmllint', 'libxml2-utils'), ['--noout', '--schema', JUNIT_XSD, '-'], {
    input: xml,
    encoding: 'utf8',
  });
  return { ok: r.status === 0, output: r.stderr + r.stdout };
}

export function promtoolCheck(text: string): Verdict {
  const r = spawnSync(tool('promtool', 'prometheus'), ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stderr + r.stdout };
}

let sarifValidator: Ajv.ValidateFunction | undefined;

export function validateSarif(log: unknown): Verdict {
  if (!sarifValidator) {
    const ajv = new Ajv({ schemaId: 'auto', allErrors: true });
    ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json') as object);
    sarifValidator = ajv.compile(require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object);
  }
  const ok = sarifValidator(log) as boolean;
  return { ok, output: ok ? '' : JSON.stringify(sarifValidator.errors) };
}
