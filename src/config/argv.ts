/**
 * argv -> raw option values. Flags share their names with config keys and Action inputs;
 * validation happens once, in parseOptions.
 */
import { OPTION_NAMES, unknownOption, UsageError, type RawOptions } from './options.js';

/** Flags that take no value (`--strict`, `--no-strict`). */
const BOOLEAN_FLAGS = new Set(['insecure', 'strict', 'json', 'lint', 'lint-only']);
/** Flags that may repeat. */
const REPEATABLE = new Set(['url']);

export interface ParsedArgv {
  values: RawOptions;
  help: boolean;
  version: boolean;
  /** --config FILE */
  config?: string;
}

export function parseArgv(argv: readonly string[]): ParsedArgv {
  const out: ParsedArgv = { values: {}, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (arg === '-V' || arg === '--version') {
      out.version = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      throw new UsageError(`Unexpected argument '${arg}'; mtu-preflight takes only --flags (see --help).`);
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | boolean | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (value === undefined && name.startsWith('no-') && BOOLEAN_FLAGS.has(name.slice(3))) {
      name = name.slice(3);
      value = false;
    }
    if (!OPTION_NAMES.includes(name) && name !== 'config') throw unknownOption(name, 'flag');
    if (value === undefined && BOOLEAN_FLAGS.has(name)) value = true;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`Flag --${name} needs a value (see --help).`);
      }
      value = next;
      i++;
    }
    if (name === 'config') {
      out.config = String(value ?? '');
      if (!out.config) throw new UsageError('Flag --config needs a file path.');
      continue;
    }
    if (REPEATABLE.has(name)) {
      const prev = out.values[name];
      out.values[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else {
      out.values[name] = value;
    }
  }
  return out;
}
