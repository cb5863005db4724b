/**
 * The CLI's run, loaded by cli.ts once argv and the options are good: checks the output files, runs the preflight
 * with live progress on a terminal, prints the report, writes the files, and gives the exit code.
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, type Options } from '../config/options.js';
import { exitCodeFor } from '../model/verdict.js';
import { checkOutputFiles, pushMetrics, writeOutputFiles } from '../output/files.js';
import { renderJson } from '../render/json.js';
import { ProgressBoard } from '../render/progress.js';
import { shouldColor } from '../render/text.js';
import { run } from '../run.js';
import { renderReport, runDeps } from './live.js';

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

export async function runCli(options: Options): Promise<number> {
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
