#!/usr/bin/env node
/**
 * `npx mtu-preflight`: read argv (and .mtu-preflight.yml), call run(), print, set the exit code.
 * 0 pass or warn (1 with --strict), 1 fail, 2 bad usage, 3 internal error. Nothing else happens here.
 */
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgv, renderHelp } from '../config/argv.js';
import { UsageError } from '../config/options.js';
import { exitCodeFor } from '../model/verdict.js';
import { renderJson } from '../render/json.js';
import { ProgressBoard } from '../render/progress.js';
import { shouldColor } from '../render/text.js';
import { checkOutputFiles, pushMetrics, writeOutputFiles } from '../output/files.js';
import { run } from '../run.js';
import { describeFailure, exitAfterCleanup, exitOnSignals, loadOptions, renderReport, runDeps } from '../runtime.js';
import { VERSION } from '../util/version.js';

function reportFileError(file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new UsageError(
    `--report-file '${file}' cannot be written (${code}); expected a file path in a writable directory.`,
  );
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
  if (args.help || args.version) {
    process.stdout.write((args.help ? renderHelp(VERSION) : VERSION) + '\n');
    return 0;
  }
  const options = await loadOptions({ source: 'flag', values: args.values, config: args.config }, existsSync);
  if (options.reportFile) await checkReportFile(options.reportFile);
  await checkOutputFiles(options, (name) => `--${name}`);

  const deps = runDeps(options);
  // On stderr: with stdout sent to a file, the terminal still shows the progress and the file gets only the report.
  const board = process.stderr.isTTY && options.format === 'text' ? new ProgressBoard() : undefined;
  if (board)
    deps.onProbeUpdate = (p) =>
      process.stderr.write(board.update(p, { columns: process.stderr.columns, rows: process.stderr.rows }));
  const report = await run(options, deps);
  if (board) process.stderr.write(board.erase());

  const out = renderReport(report, options.format, shouldColor(process.stdout, process.env, options.color));
  process.stdout.write(out.endsWith('\n') ? out : out + '\n');
  // After the output, so a file that became unwritable during the run loses nothing but itself.
  if (options.reportFile)
    await writeFile(options.reportFile, renderJson(report)).catch((err: unknown) =>
      Promise.reject(reportFileError(options.reportFile!, err)),
    );
  await writeOutputFiles(report, options, process.env, (name) => `--${name}`);
  const unpushed = options.pushgateway ? await pushMetrics(options.pushgateway, report, process.env) : undefined;
  if (unpushed) process.stderr.write(`mtu-preflight: warning: ${unpushed}\n`);
  return exitCodeFor(report, options.strict);
}

exitOnSignals((signal) => process.stderr.write(`\nmtu-preflight: ${signal}, cleaning up\n`));

main(process.argv.slice(2)).then(exitAfterCleanup, (err: unknown) => {
  const failure = describeFailure(err, { stack: true });
  process.stderr.write(`mtu-preflight: ${failure.message}\n`);
  return exitAfterCleanup(failure.code);
});
