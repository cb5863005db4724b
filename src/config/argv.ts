/**
 * argv -> raw option values, and the --help that describes them. Flags share their names with config keys and
 * Action inputs (src/config/specs.ts); validation happens once, in parseOptions.
 */
import { BOOLEAN_OPTIONS, LIST_OPTIONS, OPTION_HELP, OPTION_NAMES } from './specs.js';
import { DEFAULT_CONFIG_FILE } from './config-path.js';
import { unknownOption, UsageError, type RawOptions } from './options.js';

export interface ParsedArgv {
  values: RawOptions;
  help: boolean;
  version: boolean;
  /** --config FILE */
  config?: string;
}

const isFlag = (arg: string | undefined): boolean => arg !== undefined && arg.startsWith('-') && arg.length > 1;

/** `--name=value`, `--no-name` (a switch), or `--name`: the name, and the value when the argument itself holds one. */
function splitFlag(arg: string): { name: string; value?: string | boolean } {
  const eq = arg.indexOf('=');
  if (eq >= 0) return { name: arg.slice(2, eq), value: arg.slice(eq + 1) };
  const name = arg.slice(2);
  if (name.startsWith('no-') && BOOLEAN_OPTIONS.has(name.slice(3))) return { name: name.slice(3), value: false };
  return { name };
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
    const split = splitFlag(arg);
    const name = split.name;
    let value = split.value;
    if (!OPTION_NAMES.includes(name) && name !== 'config') throw unknownOption(name, 'flag');
    const next = argv[i + 1];
    if (value === undefined && BOOLEAN_OPTIONS.has(name)) {
      // No positional arguments exist, so a word after a switch can only be its value (`--lint false`);
      // parseOptions says what a switch takes when it is not a yes or a no.
      if (next === undefined || isFlag(next)) value = true;
      else {
        value = next;
        i++;
      }
    }
    if (value === undefined) {
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`Flag --${name} needs a value (see --help).`);
      }
      value = next;
      i++;
    }
    if (name === 'config') {
      out.config = String(value);
      if (!out.config) throw new UsageError('Flag --config needs a file path.');
      continue;
    }
    if (LIST_OPTIONS.has(name)) {
      const prev = out.values[name];
      out.values[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else {
      out.values[name] = value;
    }
  }
  return out;
}

/** The --help text: every option of the table, a switch with its `--no-` form. */
export function renderHelp(version: string): string {
  const names = OPTION_HELP.map(([k]) => (BOOLEAN_OPTIONS.has(k) ? `--${k}, --no-${k}` : `--${k}`));
  const width = Math.max(...names.map((n) => n.length), '--config FILE'.length) + 2;
  const rows = OPTION_HELP.map(([, help], i) => `  ${names[i]!.padEnd(width)}${help}`);
  return [
    `mtu-preflight ${version}: find MTU mismatches and path-MTU black holes before they stall a CI job.`,
    '',
    'Usage: npx mtu-preflight [flags]',
    '',
    'Flags (also keys of .mtu-preflight.yml and inputs of the GitHub Action):',
    ...rows,
    `  ${'--config FILE'.padEnd(width)}YAML file with the same keys. Default: ${DEFAULT_CONFIG_FILE} if present.`,
    '  --help, --version',
    '',
    'A switch takes a value too: --lint false, --strict=yes (true/false, yes/no, on/off, 1/0).',
    'Exit codes: 0 pass (or warn), 1 fail (or warn with --strict), 2 bad usage.',
  ].join('\n');
}
