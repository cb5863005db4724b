/**
 * One Options type for every entry point (CLI flags, .mtu-preflight.yml, Action inputs),
 * validated in one place. A bad value becomes a UsageError naming the input, what it got
 * and what it expects; entry points print that one line and exit 2.
 */
import { CATALOG, type RegistryId } from '../probe/catalog.js';

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

export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

/** Raw values as an entry point found them, keyed by the kebab-case name (flag, config key, input). */
export type RawValue = string | number | boolean | string[] | null | undefined;
export type RawOptions = Record<string, RawValue>;

/** Where a raw value came from, for the error message ("Input 'timeout'", "Flag --timeout", ...). */
export type Source = 'flag' | 'input' | 'config';

interface Spec {
  /** Parses one raw value into the Options field; throws UsageError via fail(). */
  apply(o: Options, v: RawValue, name: (k: string) => string): void;
  help: string;
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
  format: 'text' as OutputFormat,
  docker: 'auto' as DockerMode,
  probeImage: 'node:24-alpine',
  pull: 'missing' as PullPolicy,
  lintDir: '.',
  lintOnly: false,
  color: 'auto' as const,
});

/** Longest value quoted back in an error: the message stays one readable line whatever was pasted in. */
const MAX_SHOWN = 200;

function fail(label: string, got: RawValue, expected: string): never {
  const full = Array.isArray(got) ? got.join(',') : String(got);
  // Control characters (a pasted newline) would break the one line.
  const shown = (full.length > MAX_SHOWN ? `${full.slice(0, MAX_SHOWN)}…` : full).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  throw new UsageError(`${label} must be ${expected}, got '${shown}'.`);
}

function toStr(v: RawValue): string {
  return Array.isArray(v) ? v.join(',') : String(v).trim();
}

/** Shortest timeout taken: below it every probe would end before its first packet. */
const MIN_SECONDS = 0.1;

function parseSeconds(v: RawValue, label: string, max: number): number {
  const s = toStr(v).replace(/s$/, '');
  const n = Number(s);
  // Decimal only: Number() would also take '0x10' (16) and ' ' (0).
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) || !Number.isFinite(n) || n <= 0) fail(label, v, 'a positive number of seconds');
  if (n < MIN_SECONDS) fail(label, v, `at least ${MIN_SECONDS} seconds`);
  if (n > max) fail(label, v, `at most ${max} seconds`);
  return Math.round(n * 1000);
}

function parseBool(v: RawValue, label: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = toStr(v).toLowerCase();
  if (['true', 'yes', '1', 'on', ''].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  return fail(label, v, 'true or false');
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2 };

function parseSize(v: RawValue, label: string, min: number, max: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(toStr(v));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) fail(label, v, 'a size in bytes such as 2097152, 512K or 2M');
  const n = Math.round(Number(m[1]) * unit);
  if (n < min || n > max) fail(label, v, `between ${min} and ${max} bytes`);
  return n;
}

function parseMtu(v: RawValue, label: string): number {
  const s = toStr(v);
  const n = Number(s);
  // 576 is the IPv4 minimum every host must accept; 1280 is IPv6's, but IPv4 paths go lower.
  if (!/^\d+$/.test(s) || n < 576 || n > 65535) fail(label, v, 'an MTU between 576 and 65535');
  return n;
}

function oneOf<T extends string>(v: RawValue, label: string, allowed: readonly T[]): T {
  const s = toStr(v).toLowerCase() as T;
  if (!allowed.includes(s)) fail(label, v, `one of ${allowed.join(', ')}`);
  return s;
}

function splitList(v: RawValue): string[] {
  const items = Array.isArray(v) ? v : toStr(v).split(/[,\s]+/);
  return items.map((s) => String(s).trim()).filter(Boolean);
}

function parseUrl(s: string, label: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return fail(label, s, 'an absolute http:// or https:// URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') fail(label, s, 'an absolute http:// or https:// URL');
  if (!u.hostname) fail(label, s, 'a URL with a host name');
  return u.toString();
}

const SPECS: Record<string, Spec> = {
  registries: {
    help: `Registries to probe, comma-separated: ${Object.keys(CATALOG).join(', ')}, or none. Default: npm,rubygems,pecl.`,
    apply(o, v, name) {
      const ids = splitList(v).map((s) => s.toLowerCase());
      if (ids.length === 1 && ids[0] === 'none') {
        o.registries = [];
        return;
      }
      if (ids.includes('none')) fail(name('registries'), v, `either none or a list of registries (${Object.keys(CATALOG).join(', ')}), not both`);
      for (const id of ids) {
        if (!(id in CATALOG)) {
          const hint = didYouMean(id, Object.keys(CATALOG));
          throw new UsageError(
            `${name('registries')} has unknown registry '${id}'${hint ? ` (did you mean '${hint}'?)` : ''}; expected some of ${Object.keys(CATALOG).join(', ')}, or none.`,
          );
        }
      }
      if (ids.length === 0) fail(name('registries'), v, `a list of registries (${Object.keys(CATALOG).join(', ')}) or none`);
      o.registries = [...new Set(ids)] as RegistryId[];
    },
  },
  url: {
    help: 'Extra URL to probe with a large download (repeatable). Pick an immutable file of 1 MB or more.',
    apply(o, v, name) {
      o.urls = [...o.urls, ...splitList(v).map((s) => parseUrl(s, name('url')))];
    },
  },
  timeout: {
    help: 'Hard deadline for the whole run, in seconds. Default: 20.',
    apply(o, v, name) {
      o.timeoutMs = parseSeconds(v, name('timeout'), 3600);
    },
  },
  'stall-timeout': {
    help: 'Seconds without a new byte after which a transfer counts as stalled. Default: 3.',
    apply(o, v, name) {
      o.stallTimeoutMs = parseSeconds(v, name('stall-timeout'), 600);
    },
  },
  'max-bytes': {
    help: 'Bytes to download per target before calling it good (e.g. 2M). Default: 2M.',
    apply(o, v, name) {
      o.maxBytes = parseSize(v, name('max-bytes'), 1024, 1024 ** 3);
    },
  },
  'min-throughput': {
    help: 'Throughput (bytes/s, e.g. 64K) below which steady progress is reported as slow-transfer. Default: 64K.',
    apply(o, v, name) {
      o.minThroughput = parseSize(v, name('min-throughput'), 1, 1024 ** 3);
    },
  },
  'ca-file': {
    help: 'PEM file with an extra CA to trust (e.g. a TLS-intercepting proxy). NODE_EXTRA_CA_CERTS is honoured too.',
    apply(o, v, name) {
      const s = toStr(v);
      if (!s) fail(name('ca-file'), v, 'a path to a PEM file');
      o.caFile = s;
    },
  },
  insecure: {
    help: 'Skip TLS certificate verification (the report says so). Prefer --ca-file.',
    apply(o, v, name) {
      o.insecure = parseBool(v, name('insecure'));
    },
  },
  strict: {
    help: 'Exit 1 on warnings too.',
    apply(o, v, name) {
      o.strict = parseBool(v, name('strict'));
    },
  },
  json: {
    help: 'Print the JSON report instead of text (same as --format json).',
    apply(o, v, name) {
      if (parseBool(v, name('json'))) o.format = 'json';
    },
  },
  format: {
    help: 'Output format: text, json or markdown. Default: text.',
    apply(o, v, name) {
      o.format = oneOf(v, name('format'), ['text', 'json', 'markdown'] as const);
    },
  },
  'report-file': {
    help: 'Also write the JSON report to this file.',
    apply(o, v, name) {
      const s = toStr(v);
      if (!s) fail(name('report-file'), v, 'a file path');
      o.reportFile = s;
    },
  },
  docker: {
    help: 'Probe inside reachable Docker daemons: auto, off or required. Default: auto.',
    apply(o, v, name) {
      o.docker = oneOf(v, name('docker'), ['auto', 'off', 'required'] as const);
    },
  },
  'probe-image': {
    help: 'Image used for in-container probes; it must contain node. Default: node:24-alpine.',
    apply(o, v, name) {
      const s = toStr(v);
      if (!/^[\w][\w.\-/:@]*$/.test(s)) fail(name('probe-image'), v, 'an image reference such as node:24-alpine');
      o.probeImage = s;
    },
  },
  pull: {
    help: 'When to pull the probe image: never, missing or always. Default: missing.',
    apply(o, v, name) {
      o.pull = oneOf(v, name('pull'), ['never', 'missing', 'always'] as const);
    },
  },
  lint: {
    help: 'Lint CI config files (.gitlab-ci.yml, .drone.yml, workflows, compose) for MTU settings. Default: true.',
    apply(o, v, name) {
      o.lintDir = parseBool(v, name('lint')) ? (o.lintDir ?? '.') : null;
    },
  },
  'lint-only': {
    help: 'Only lint CI config files; probe nothing.',
    apply(o, v, name) {
      o.lintOnly = parseBool(v, name('lint-only'));
    },
  },
  'assume-mtu': {
    help: 'Uplink MTU the lint assumes (with --lint-only nothing is measured).',
    apply(o, v, name) {
      o.assumeMtu = parseMtu(v, name('assume-mtu'));
    },
  },
  color: {
    help: 'Colour: auto, always or never. NO_COLOR and FORCE_COLOR are honoured. Default: auto.',
    apply(o, v, name) {
      const s = oneOf(v, name('color'), ['auto', 'always', 'never', 'true', 'false'] as const);
      o.color = s === 'auto' ? 'auto' : s === 'always' || s === 'true';
    },
  },
};

/** Names accepted in the config file and as Action inputs, and as --flags. */
export const OPTION_NAMES = Object.keys(SPECS);
export const OPTION_HELP: ReadonlyArray<[string, string]> = Object.entries(SPECS).map(([k, s]) => [k, s.help]);

/** Config-file aliases: `urls:` is the natural plural in YAML. */
const ALIASES: Record<string, string> = { urls: 'url' };

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  // A shared stem ('registry' for 'registries') is a better hint than the closest spelling.
  const stem = w.length >= 5 ? candidates.find((c) => c.toLowerCase().startsWith(w.slice(0, -1)) || w.startsWith(c.toLowerCase())) : undefined;
  if (stem) return stem;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best !== undefined && bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The error for a name that is no option: with a suggestion when it looks like a typo. */
export function unknownOption(rawKey: string, source: Source, file?: string): UsageError {
  const hint = didYouMean(rawKey, [...OPTION_NAMES, ...Object.keys(ALIASES), ...(source === 'flag' ? ['config', 'help', 'version'] : [])]);
  const where = file ? ` in ${file}` : '';
  const what = source === 'flag' ? `Unknown flag --${rawKey}` : `Unknown ${source === 'input' ? 'input' : 'config key'} '${rawKey}'${where}`;
  const names = source === 'input' ? 'the inputs in action.yml' : source === 'config' ? 'the keys in the README' : '--help';
  return new UsageError(`${what}${hint ? ` (did you mean '${source === 'flag' ? '--' : ''}${hint}'?)` : ''}; see ${names} for the accepted names.`);
}

function labeler(source: Source): (k: string) => string {
  if (source === 'flag') return (k) => `--${k}`;
  if (source === 'input') return (k) => `Input '${k}'`;
  return (k) => `Config key '${k}'`;
}

/**
 * Apply layers of raw values over the defaults, in order (config file first, then flags or inputs).
 * Empty strings are "not given" (an Action input left blank), except for booleans given as flags.
 */
export function parseOptions(layers: Array<{ source: Source; values: RawOptions; file?: string }>): Options {
  const o: Options = { ...DEFAULTS, registries: [...DEFAULTS.registries], urls: [] };
  for (const { source, values, file } of layers) {
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
        spec.apply(o, v, name);
      } catch (err) {
        if (err instanceof UsageError && where && !err.message.includes(where)) {
          throw new UsageError(err.message.replace(/\.$/, '') + where + '.');
        }
        throw err;
      }
    }
  }
  if (o.stallTimeoutMs >= o.timeoutMs) {
    throw new UsageError(
      `stall-timeout (${o.stallTimeoutMs / 1000} s) must be shorter than timeout (${o.timeoutMs / 1000} s): a stall could never be seen before the deadline.`,
    );
  }
  if (!o.lintOnly && o.registries.length === 0 && o.urls.length === 0) {
    throw new UsageError(`Nothing to probe: registries is 'none' and no url was given; expected at least one registry or --url.`);
  }
  return o;
}
