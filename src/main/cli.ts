#!/usr/bin/env node
/**
 * `npx mtu-preflight`: read argv (and .mtu-preflight.yml), call run(), print, set the exit code.
 * 0 pass or warn (1 with --strict), 1 fail, 2 bad usage. Nothing else happens here.
 */
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgv } from '../config/argv.js';
import { dockerLayers } from '../collect/docker/collect.js';
import { runCleanups } from '../util/cleanup.js';
import { DEFAULT_CONFIG_FILE, loadConfigFile, resolveConfigPath } from '../config/config-file.js';
import { OPTION_HELP, parseOptions, UsageError, type Source, type RawOptions } from '../config/options.js';
import { maskSecrets } from '../util/redact.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderProgressLine, renderText, shouldColor } from '../render/text.js';
import { defaultDeps, run } from '../run.js';
import { exitCodeFor } from '../model/verdict.js';
import { VERSION } from '../util/version.js';


function helpText(): string {
  const rows = OPTION_HELP.map(([k, h]) => `  --${k.padEnd(16)} ${h}`);
  return [
    `mtu-preflight ${VERSION}: find MTU mismatches and path-MTU black holes before they stall a CI job.`,
    '',
    'Usage: npx mtu-preflight [flags]',
    '',
    'Flags (also keys of .mtu-preflight.yml and inputs of the GitHub Action):',
    ...rows,
    `  --config FILE      YAML file with the same keys. Default: ${DEFAULT_CONFIG_FILE} if present.`,
    '  --help, --version',
    '',
    'Exit codes: 0 pass (or warn), 1 fail (or warn with --strict), 2 bad usage.',
  ].join('\n');
}

function reportFileError(file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new UsageError(`--report-file '${file}' cannot be written (${code}); expected a file path in a writable directory.`);
}

/** Fail before probing, not after: a report file that cannot be written is bad usage (a read-only or missing directory). */
async function checkReportFile(file: string): Promise<void> {
  try {
    const existing = await stat(file).catch(() => undefined);
    if (existing?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    await access(existing ? file : path.dirname(path.resolve(file)), fsConstants.W_OK);
  } catch (err) {
    throw reportFileError(file, err);
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgv(argv);
  if (args.help) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  if (args.version) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const layers: Array<{ source: Source; values: RawOptions; file?: string }> = [];
  const configPath = resolveConfigPath(args.config, existsSync);
  if (configPath) layers.push({ source: 'config', ...(await loadConfigFile(configPath)) });
  layers.push({ source: 'flag', values: args.values });
  const options = parseOptions(layers);
  if (options.reportFile) await checkReportFile(options.reportFile);

  const deps = defaultDeps();
  if (options.docker !== 'off') deps.collectLayers = dockerLayers(deps);
  const live = process.stderr.isTTY && options.format === 'text';
  const color = shouldColor(process.stdout, process.env, options.color);
  if (live) {
    // By probe, not by URL: a dual-stack target is probed once per address family.
    const lines = new Map<object, string>();
    deps.onProbeUpdate = (p) => {
      lines.set(p, renderProgressLine(p));
      process.stderr.write(`\r\x1b[2K${[...lines.values()].join('  ')}`.slice(0, (process.stderr.columns ?? 120) + 8));
    };
  }

  const report = await run(options, deps);
  if (live) process.stderr.write('\r\x1b[2K');
  const out = options.format === 'json' ? renderJson(report) : options.format === 'markdown' ? renderMarkdown(report) : renderText(report, { color });
  process.stdout.write(out.endsWith('\n') ? out : out + '\n');
  // After the output, so a file that became unwritable during the run loses nothing but itself.
  if (options.reportFile) await writeFile(options.reportFile, renderJson(report)).catch((err: unknown) => Promise.reject(reportFileError(options.reportFile!, err)));
  return exitCodeFor(report, options.strict);
}

let exiting = false;
async function exit(code: number): Promise<never> {
  // The first caller (a signal, or main finishing) owns the exit code; a second waits for it.
  if (exiting) return new Promise<never>(() => {});
  exiting = true;
  await runCleanups();
  // Explicit exit: an uncancellable getaddrinfo may otherwise hold the process past the deadline.
  process.exit(code);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(sig, () => {
    process.stderr.write(`\nmtu-preflight: ${sig}, cleaning up\n`);
    void exit(code);
  });
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`mtu-preflight: ${maskSecrets(err.message)}\n`);
      return exit(2);
    }
    process.stderr.write(`mtu-preflight: internal error: ${maskSecrets((err as Error)?.stack ?? String(err))}\n`);
    return exit(3);
  },
);
