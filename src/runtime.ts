/**
 * What the CLI and the Action share between reading their arguments and publishing the report: the options from
 * the config file and the entry's own values, the run's dependencies (with the Docker layers unless docker: off),
 * the report in the chosen format, what a failure means as an exit code, and the exit after cleanup, also on
 * SIGINT and SIGTERM. The entry points keep only what differs: argv and stdout, or inputs, outputs and the summary.
 */
import { dockerLayers } from './collect/docker/collect.js';
import { withPodNetwork } from './collect/pod/collect.js';
import { loadConfigFile, resolveConfigPath } from './config/config-file.js';
import {
  parseOptions,
  UsageError,
  type OptionSource,
  type Options,
  type OutputFormat,
  type RawOptions,
} from './config/options.js';
import type { Report } from './model/report.js';
import { renderJson } from './render/json.js';
import { renderMarkdown } from './render/markdown.js';
import { renderText } from './render/text.js';
import { defaultDeps, type RunDeps } from './run.js';
import { runCleanups } from './util/cleanup.js';
import { maskSecrets } from './util/redact.js';

/** Exit codes past the verdict's (0 pass or warn, 1 fail or warn with strict: src/model/verdict.ts). */
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

/** The values an entry point read itself, and the config file it was told to read (else the default, if present). */
export interface EntryValues {
  source: Exclude<OptionSource['source'], 'config'>;
  values: RawOptions;
  config?: string;
}

/** The config file first, then the entry's own values over it. */
export async function loadOptions(entry: EntryValues, exists: (path: string) => boolean): Promise<Options> {
  const sources: OptionSource[] = [];
  const configPath = resolveConfigPath(entry.config, exists);
  if (configPath) sources.push({ source: 'config', ...(await loadConfigFile(configPath)) });
  sources.push({ source: entry.source, values: entry.values });
  return parseOptions(sources);
}

/** The live dependencies of run(), with the nested Docker daemons' layers unless docker is off. */
export function runDeps(options: Options): RunDeps {
  const deps = defaultDeps();
  const docker = options.docker !== 'off' ? dockerLayers(deps) : undefined;
  // In a Kubernetes pod the pod network is a layer too (src/collect/pod): the CNI's MTU is the fix there.
  const layers = withPodNetwork(deps.env, docker);
  if (layers) deps.collectLayers = layers;
  return deps;
}

export function renderReport(report: Report, format: OutputFormat, color: boolean): string {
  if (format === 'json') return renderJson(report);
  if (format === 'markdown') return renderMarkdown(report);
  return renderText(report, { color });
}

export interface Failure {
  code: typeof EXIT_USAGE | typeof EXIT_INTERNAL;
  /** One line, secrets masked: the usage error's own message, or `internal error: ...`. */
  message: string;
}

/** A usage error (bad flag, input, config file) is exit 2 and its message; anything else is an internal error, exit 3. */
export function describeFailure(err: unknown, opts: { stack: boolean }): Failure {
  if (err instanceof UsageError) return { code: EXIT_USAGE, message: maskSecrets(err.message) };
  const e = err as Error | undefined;
  const text = (opts.stack ? e?.stack : e?.message) ?? String(err);
  return { code: EXIT_INTERNAL, message: `internal error: ${maskSecrets(text)}` };
}

let exiting = false;

/** Undo what the run created (containers, networks, the resolver helper), then exit with `code`. */
export async function exitAfterCleanup(code: number): Promise<never> {
  // The first caller (a signal, or the entry finishing) owns the exit code; a later one waits for it.
  if (exiting) return new Promise<never>(() => {});
  exiting = true;
  await runCleanups();
  // Explicit exit: an uncancellable getaddrinfo may otherwise hold the process past the deadline.
  process.exit(code);
}

/** On SIGINT or SIGTERM (a cancelled CI job sends both): clean up, then exit 128 + the signal's number. */
export function exitOnSignals(announce?: (signal: NodeJS.Signals) => void): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      announce?.(signal);
      void exitAfterCleanup(code);
    });
  }
}
