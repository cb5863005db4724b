/**
 * The one table of options: each name is a --flag, a key of .mtu-preflight.yml and an input of the Action, with
 * its help text (also action.yml's description), its kind (boolean, repeatable) and how its raw value sets Options.
 */
import { CATALOG, type RegistryId } from '../probe/catalog.js';
import type { Options } from './options.js';
import {
  didYouMean,
  fail,
  nonEmpty,
  oneOf,
  parseBool,
  parseMtu,
  parseSeconds,
  parseSize,
  parseUrl,
  splitList,
  toStr,
  UsageError,
  type RawValue,
} from './values.js';

export interface Spec {
  help: string;
  /** A yes/no switch: `--strict`, `--no-strict`, `--strict false`. */
  boolean?: true;
  /** Repeatable (`--url a --url b`); one value a line as an Action input. */
  list?: true;
  /** Parses one raw value into its Options field; throws a UsageError naming `label`. */
  apply(o: Options, v: RawValue, label: string): void;
}

type BooleanField = { [K in keyof Options]-?: Options[K] extends boolean ? K : never }[keyof Options];
type ChoiceField = 'format' | 'docker' | 'pull';

/** A switch that sets a boolean field, or does what `set` says with it. */
function flag(help: string, set: BooleanField | ((o: Options, on: boolean) => void)): Spec {
  return {
    help,
    boolean: true,
    apply(o, v, label) {
      const on = parseBool(v, label);
      if (typeof set === 'function') set(o, on);
      else o[set] = on;
    },
  };
}

function choice<K extends ChoiceField>(help: string, field: K, allowed: ReadonlyArray<Options[K]>): Spec {
  return {
    help,
    apply(o, v, label) {
      o[field] = oneOf(v, label, allowed);
    },
  };
}

const REGISTRY_IDS = Object.keys(CATALOG);

function parseRegistries(v: RawValue, label: string): RegistryId[] {
  const ids = splitList(v).map((s) => s.toLowerCase());
  if (ids.length === 1 && ids[0] === 'none') return [];
  if (ids.includes('none'))
    fail(label, v, `either none or a list of registries (${REGISTRY_IDS.join(', ')}), not both`);
  for (const id of ids) {
    if (!(id in CATALOG)) {
      const hint = didYouMean(id, REGISTRY_IDS);
      throw new UsageError(
        `${label} has unknown registry '${id}'${hint ? ` (did you mean '${hint}'?)` : ''}; expected some of ${REGISTRY_IDS.join(', ')}, or none.`,
      );
    }
  }
  if (ids.length === 0) fail(label, v, `a list of registries (${REGISTRY_IDS.join(', ')}) or none`);
  return [...new Set(ids)] as RegistryId[];
}

export const SPECS: Readonly<Record<string, Spec>> = {
  registries: {
    help: `Registries to probe, comma-separated: ${REGISTRY_IDS.join(', ')}, or none. Default: npm,rubygems,pecl.`,
    apply(o, v, label) {
      o.registries = parseRegistries(v, label);
    },
  },
  url: {
    help: 'Extra URL to probe with a large download (repeatable). Pick an immutable file of 1 MB or more.',
    list: true,
    apply(o, v, label) {
      o.urls = [...o.urls, ...splitList(v).map((s) => parseUrl(s, label))];
    },
  },
  timeout: {
    help: 'Hard deadline for the whole run, in seconds. Default: 20.',
    apply(o, v, label) {
      o.timeoutMs = parseSeconds(v, label, 3600);
    },
  },
  'stall-timeout': {
    help: 'Seconds without a new byte after which a transfer counts as stalled. Default: 3.',
    apply(o, v, label) {
      o.stallTimeoutMs = parseSeconds(v, label, 600);
    },
  },
  'max-bytes': {
    help: 'Bytes to download per target before calling it good (e.g. 2M). Default: 2M.',
    apply(o, v, label) {
      o.maxBytes = parseSize(v, label, 1024, 1024 ** 3);
    },
  },
  'min-throughput': {
    help: 'Throughput (bytes/s, e.g. 64K) below which steady progress is reported as slow-transfer. Default: 64K.',
    apply(o, v, label) {
      o.minThroughput = parseSize(v, label, 1, 1024 ** 3);
    },
  },
  'ca-file': {
    help: 'PEM file with an extra CA to trust (e.g. a TLS-intercepting proxy). NODE_EXTRA_CA_CERTS is honoured too.',
    apply(o, v, label) {
      o.caFile = nonEmpty(v, label, 'a path to a PEM file');
    },
  },
  insecure: flag('Skip TLS certificate verification (the report says so). Prefer --ca-file.', 'insecure'),
  strict: flag('Exit 1 on warnings too.', 'strict'),
  json: flag('Print the JSON report instead of text (same as --format json).', (o, on) => {
    if (on) o.format = 'json';
  }),
  format: choice('Output format: text, json or markdown. Default: text.', 'format', ['text', 'json', 'markdown']),
  'report-file': {
    help: 'Also write the JSON report to this file.',
    apply(o, v, label) {
      o.reportFile = nonEmpty(v, label, 'a file path');
    },
  },
  junit: {
    help: 'Also write a JUnit XML report to this file: a test case per probe and per lint finding (GitLab test widget).',
    apply(o, v, label) {
      o.junitFile = nonEmpty(v, label, 'a file path');
    },
  },
  codequality: {
    help: "Also write the lint's findings as a GitLab Code Quality report to this file.",
    apply(o, v, label) {
      o.codeQualityFile = nonEmpty(v, label, 'a file path');
    },
  },
  sarif: {
    help: "Also write the lint's findings as SARIF 2.1.0 to this file (GitHub code scanning: upload-sarif).",
    apply(o, v, label) {
      o.sarifFile = nonEmpty(v, label, 'a file path');
    },
  },
  'metrics-file': {
    help: 'Also write Prometheus metrics to this file, atomically (node_exporter textfile collector: name it *.prom).',
    apply(o, v, label) {
      o.metricsFile = nonEmpty(v, label, 'a file path');
    },
  },
  pushgateway: {
    help: 'Also push the metrics to this Prometheus Pushgateway URL (5 s deadline; a gateway that is down only warns).',
    apply(o, v, label) {
      o.pushgateway = parseUrl(toStr(v), label);
    },
  },
  docker: choice('Probe inside reachable Docker daemons: auto, off or required. Default: auto.', 'docker', [
    'auto',
    'off',
    'required',
  ]),
  'probe-image': {
    help: 'Image used for in-container probes; it must contain node. Default: node:24-alpine.',
    apply(o, v, label) {
      const s = toStr(v);
      if (!/^[\w][\w.\-/:@]*$/.test(s)) fail(label, v, 'an image reference such as node:24-alpine');
      o.probeImage = s;
    },
  },
  pull: choice('When to pull the probe image: never, missing or always. Default: missing.', 'pull', [
    'never',
    'missing',
    'always',
  ]),
  lint: flag(
    'Lint CI config files (.gitlab-ci.yml, .drone.yml, workflows, compose) for MTU settings. Default: true.',
    (o, on) => {
      o.lintDir = on ? (o.lintDir ?? '.') : null;
    },
  ),
  'lint-only': flag('Only lint CI config files; probe nothing.', 'lintOnly'),
  'assume-mtu': {
    help: 'Uplink MTU the lint assumes (with --lint-only nothing is measured).',
    apply(o, v, label) {
      o.assumeMtu = parseMtu(v, label);
    },
  },
  color: {
    help: 'Colour: auto, always or never. NO_COLOR and FORCE_COLOR are honoured. Default: auto.',
    apply(o, v, label) {
      const s = oneOf(v, label, ['auto', 'always', 'never', 'true', 'false'] as const);
      o.color = s === 'auto' ? 'auto' : s === 'always' || s === 'true';
    },
  },
};

/** Names accepted in the config file and as Action inputs, and as --flags. */
export const OPTION_NAMES: readonly string[] = Object.keys(SPECS);
export const OPTION_HELP: ReadonlyArray<[string, string]> = Object.entries(SPECS).map(([k, s]) => [k, s.help]);
/** Options that are switches (`--strict`, `--no-strict`). */
export const BOOLEAN_OPTIONS: ReadonlySet<string> = new Set(OPTION_NAMES.filter((k) => SPECS[k]!.boolean));
/** Options that may be given more than once (`--url a --url b`, one a line in the Action's input). */
export const LIST_OPTIONS: ReadonlySet<string> = new Set(OPTION_NAMES.filter((k) => SPECS[k]!.list));

/** Config-file aliases: `urls:` is the natural plural in YAML. */
export const ALIASES: Readonly<Record<string, string>> = { urls: 'url' };
