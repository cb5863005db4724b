/**
 * What the CLI and the Action share before and after a run: the options from the config file and the entry's own
 * values, what a failure means as an exit code, and the exit after cleanup, also on SIGINT and SIGTERM. The entry
 * points keep only what differs: argv and stdout, or inputs, outputs and the summary. The run's own dependencies and
 * the report's formats are in src/main/live.ts, loaded only once the options are good (`--help`, `--version` and a
 * bad flag load this and the options code, nothing else).
 */
import { resolveConfigPath } from './config/config-path.js';
import { parseOptions, UsageError, type OptionSource, type Options, type RawOptions } from './config/options.js';
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
  if (configPath) {
    const { loadConfigFile } = await import('./config/config-file.js');
    sources.push({ source: 'config', ...(await loadConfigFile(configPath)) });
  }
  sources.push({ source: entry.source, values: entry.values });
  return parseOptions(sources);
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
