/**
 * One Options type for every entry point (CLI flags, .mtu-preflight.yml, Action inputs), parsed in one place from
 * the sources an entry point read, in order (the config file, then flags or inputs). Each option's parsing is in
 * the table of src/config/specs.ts; a bad value becomes a UsageError naming the input, what it got and what it
 * expects, and the entry points print that one line and exit 2.
 */
import type { RegistryId } from '../probe/catalog.js';
import { ALIASES, OPTION_NAMES, SPECS } from './specs.js';
import { didYouMean, UsageError, type RawValue } from './values.js';

export { OPTION_HELP, OPTION_NAMES } from './specs.js';
export { UsageError, type RawValue } from './values.js';

export type DockerMode = 'auto' | 'off' | 'required';
export type PullPolicy = 'never' | 'missing' | 'always';
export type OutputFormat = 'text' | 'json' | 'markdown';

export interface Options {
  /** Catalog registries to probe (npm, rubygems, pecl, ...). */
  registries: RegistryId[];
  /** Extra targets to probe, as absolute http(s) URLs. */
  urls: string[];
  /** Hard deadline for the whole run, in milliseconds. */
  timeoutMs: number;
  /** A probe that receives no new bytes for this long is stalled, in milliseconds. */
  stallTimeoutMs: number;
  /** A probe ends successfully after this many body bytes. */
  maxBytes: number;
  /** Body throughput (bytes/s) below which steady progress is reported as slow-transfer. */
  minThroughput: number;
  /** Extra CA certificate file (PEM) trusted for the probes. */
  caFile?: string;
  /** Skip certificate verification (intercepting proxy with no CA at hand). */
  insecure: boolean;
  /** Exit 1 on warn as well as on fail. */
  strict: boolean;
  /** Output format for standard output. */
  format: OutputFormat;
  /** Also write the JSON report to this file. */
  reportFile?: string;
  /** JUnit XML for test widgets (GitLab's artifacts:reports:junit). */
  junitFile?: string;
  /** GitLab Code Quality JSON of the lint's findings (artifacts:reports:codequality). */
  codeQualityFile?: string;
  /** SARIF 2.1.0 of the lint's findings, for GitHub code scanning. */
  sarifFile?: string;
  /** Prometheus text format, written atomically (node_exporter's textfile collector). */
  metricsFile?: string;
  /** A Pushgateway to PUT the metrics to after the run (best effort, with a deadline). */
  pushgateway?: string;
  /** Whether to look for Docker daemons and probe inside them. */
  docker: DockerMode;
  /** Image for in-container probes (must contain node). */
  probeImage: string;
  /** When to pull the probe image. */
  pull: PullPolicy;
  /** Lint CI config files in this directory (null: off). */
  lintDir: string | null;
  /** Run only the CI config lint, no probes. */
  lintOnly: boolean;
  /** Uplink MTU to assume for --lint-only (nothing is measured then). */
  assumeMtu?: number;
  /** Colour in text output: true, false, or decided from the terminal and NO_COLOR/FORCE_COLOR. */
  color: boolean | 'auto';
  /** Config file that was read, if any. */
  configFile?: string;
}

/** Values as one source gave them, keyed by the kebab-case name (flag, config key, input). */
export type RawOptions = Record<string, RawValue>;

/** Where a raw value came from, for the error message ("Input 'timeout'", "Flag --timeout", ...). */
export type SourceKind = 'flag' | 'input' | 'config';

/** One source of option values: the config file (with its path), the flags, or the Action's inputs. */
export interface OptionSource {
  source: SourceKind;
  values: RawOptions;
  file?: string;
}

export const DEFAULTS: Readonly<Options> = Object.freeze({
  registries: ['npm', 'rubygems', 'pecl'] as RegistryId[],
  urls: [],
  timeoutMs: 20_000,
  stallTimeoutMs: 3_000,
  maxBytes: 2 * 1024 * 1024,
  minThroughput: 64 * 1024,
  insecure: false,
  strict: false,
  format: 'text',
  docker: 'auto',
  probeImage: 'node:24-alpine',
  pull: 'missing',
  lintDir: '.',
  lintOnly: false,
  color: 'auto' as const,
});

/** The error for a name that is no option: with a suggestion when it looks like a typo. */
export function unknownOption(rawKey: string, source: SourceKind, file?: string): UsageError {
  const hint = didYouMean(rawKey, [
    ...OPTION_NAMES,
    ...Object.keys(ALIASES),
    ...(source === 'flag' ? ['config', 'help', 'version'] : []),
  ]);
  const where = file ? ` in ${file}` : '';
  const what =
    source === 'flag'
      ? `Unknown flag --${rawKey}`
      : `Unknown ${source === 'input' ? 'input' : 'config key'} '${rawKey}'${where}`;
  const names =
    source === 'input' ? 'the inputs in action.yml' : source === 'config' ? 'the keys in the README' : '--help';
  return new UsageError(
    `${what}${hint ? ` (did you mean '${source === 'flag' ? '--' : ''}${hint}'?)` : ''}; see ${names} for the accepted names.`,
  );
}

function labeler(source: SourceKind): (k: string) => string {
  if (source === 'flag') return (k) => `--${k}`;
  if (source === 'input') return (k) => `Input '${k}'`;
  return (k) => `Config key '${k}'`;
}

/** One source's values over `o`. Empty strings are "not given" (an Action input left blank), except for flags. */
function applySource(o: Options, { source, values, file }: OptionSource): void {
  const name = labeler(source);
  const where = file ? ` in ${file}` : '';
  if (file) o.configFile = file;
  for (const [rawKey, v] of Object.entries(values)) {
    const key = ALIASES[rawKey] ?? rawKey;
    const spec = SPECS[key];
    if (!spec) throw unknownOption(rawKey, source, file);
    if (v === undefined || v === null) continue;
    if (v === '' && source !== 'flag') continue;
    if (source === 'config' && typeof v === 'object' && !Array.isArray(v)) {
      throw new UsageError(`${name(key)}${where} must be a single value or a list, got a mapping.`);
    }
    try {
      spec.apply(o, v, name(key));
    } catch (err) {
      if (err instanceof UsageError && where && !err.message.includes(where)) {
        throw new UsageError(err.message.replace(/\.$/, '') + where + '.');
      }
      throw err;
    }
  }
}

/** Apply the sources over the defaults, in order (config file first, then flags or inputs), then check them together. */
export function parseOptions(sources: readonly OptionSource[]): Options {
  const o: Options = { ...DEFAULTS, registries: [...DEFAULTS.registries], urls: [] };
  for (const source of sources) applySource(o, source);
  if (o.stallTimeoutMs >= o.timeoutMs) {
    throw new UsageError(
      `stall-timeout (${o.stallTimeoutMs / 1000} s) must be shorter than timeout (${o.timeoutMs / 1000} s): a stall could never be seen before the deadline.`,
    );
  }
  if (!o.lintOnly && o.registries.length === 0 && o.urls.length === 0) {
    throw new UsageError(
      `Nothing to probe: registries is 'none' and no url was given; expected at least one registry or --url.`,
    );
  }
  return o;
}
