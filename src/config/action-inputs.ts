/** The GitHub Action's inputs -> raw option values (the same names as the flags and config keys). */
import { LIST_OPTIONS, OPTION_NAMES } from './specs.js';
import type { RawOptions } from './options.js';

export interface ActionInputs {
  /** Option values by kebab-case name; inputs left empty are absent (not given). */
  values: RawOptions;
  /** The `config` input: a YAML file path, when given. */
  config?: string;
}

function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * Every option in OPTION_NAMES from the Action's inputs. Pure given `getInput`: an empty input is
 * "not given", so a config file (or the default) decides. A repeatable option (`url`) takes one value a line.
 */
export function readInputs(
  getInput: (name: string) => string,
  getMultilineInput: (name: string) => string[] = (name) => splitLines(getInput(name)),
): ActionInputs {
  const values: RawOptions = {};
  for (const name of OPTION_NAMES) {
    if (LIST_OPTIONS.has(name)) {
      const list = getMultilineInput(name);
      if (list.length) values[name] = list;
      continue;
    }
    const value = getInput(name).trim();
    if (value !== '') values[name] = value;
  }
  const config = getInput('config').trim();
  return { values, ...(config ? { config } : {}) };
}
