/**
 * The GitHub Action: inputs (and .mtu-preflight.yml) → Options → run() → outputs, job summary,
 * one annotation per finding, the report in the log, and the step's result. Nothing else happens here.
 * Exit codes match the CLI: 0 pass or warn (1 with strict), 1 fail, 2 bad input, 3 internal error.
 */
import {
  debug,
  endGroup,
  error,
  getInput,
  getMultilineInput,
  info,
  notice,
  setFailed,
  setOutput,
  setSecret,
  startGroup,
  summary,
  warning,
} from '@actions/core';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readInputs } from '../config/action-inputs.js';
import type { Options } from '../config/options.js';
import { exitCodeFor } from '../model/verdict.js';
import { PROXY_URL_VARIABLES } from '../model/proxy.js';
import type { Finding, Report } from '../model/report.js';
import { VERDICT_LABEL, describeDiagnosis, describeExit, topFinding } from '../render/phrases.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { shouldColor } from '../render/text.js';
import { checkOutputFiles, pushMetrics, writeAtomic, writeOutputFiles } from '../output/files.js';
import { run } from '../run.js';
import { describeFailure, EXIT_USAGE, loadOptions } from '../runtime.js';
import { renderReport, runDeps } from './live.js';
import { runCleanups } from '../util/cleanup.js';
import { maskSecrets, urlSecrets } from '../util/redact.js';

/** The part of @actions/core the Action uses; tests pass a recorder instead. */
export type ActionCore = Pick<
  typeof import('@actions/core'),
  | 'getInput'
  | 'getMultilineInput'
  | 'setSecret'
  | 'setOutput'
  | 'setFailed'
  | 'error'
  | 'warning'
  | 'notice'
  | 'info'
  | 'debug'
  | 'startGroup'
  | 'endGroup'
> & { summary: { addRaw(text: string): { write(): Promise<unknown> } } };

export interface ActionDeps {
  core: ActionCore;
  env: NodeJS.ProcessEnv;
  run: (options: Options) => Promise<Report>;
  exists: (path: string) => boolean;
  writeFile: (path: string, data: string) => Promise<void>;
  /** Undo what the run created (probe containers, networks) however it ended. */
  cleanup: () => Promise<void>;
  setExitCode: (code: number) => void;
}

export function defaultActionDeps(): ActionDeps {
  return {
    // Named, not the module's namespace: the bundle then leaves out what the Action never calls (getIDToken and
    // the HTTP client it needs).
    core: {
      getInput,
      getMultilineInput,
      setSecret,
      setOutput,
      setFailed,
      error,
      warning,
      notice,
      info,
      debug,
      startGroup,
      endGroup,
      summary,
    },
    env: process.env,
    run: (options) => run(options, runDeps(options)),
    exists: existsSync,
    writeFile: async (file, data) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeAtomic(file, data);
    },
    cleanup: () => runCleanups(),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

/** Time after the run's own deadline for run() to return before the step gives up on it. */
const RUN_GRACE_MS = 2_000;

function readOptions(deps: ActionDeps): Promise<Options> {
  const inputs = readInputs(
    (name) => deps.core.getInput(name),
    (name) => deps.core.getMultilineInput(name),
  );
  return loadOptions({ source: 'input', ...inputs }, deps.exists);
}

/** run(), but never past the deadline plus a grace period: the step must end by its timeout. */
async function runByDeadline(deps: ActionDeps, options: Options): Promise<Report | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), options.timeoutMs + RUN_GRACE_MS);
    timer.unref?.();
  });
  try {
    return await Promise.race([deps.run(options), late]);
  } finally {
    clearTimeout(timer);
  }
}

function annotate(core: ActionCore, f: Finding): void {
  const message = maskSecrets(f.fix ? `${f.summary} Fix: ${f.fix.summary}` : f.summary);
  const properties = {
    title: `mtu-preflight: ${f.code}`,
    ...(f.file ? { file: f.file } : {}),
    ...(f.file && f.line !== undefined ? { startLine: f.line } : {}),
  };
  if (f.severity === 'error') core.error(message, properties);
  else if (f.severity === 'warning') core.warning(message, properties);
  else core.notice(message, properties);
}

/** Writes the JSON report; returns its path, or '' (with a warning) when it could not be written. */
async function writeReport(deps: ActionDeps, options: Options, report: Report): Promise<string> {
  const file = options.reportFile ?? path.join(deps.env.RUNNER_TEMP || os.tmpdir(), 'mtu-preflight-report.json');
  try {
    await deps.writeFile(file, renderJson(report));
    return file;
  } catch (err) {
    deps.core.warning(
      `mtu-preflight: could not write the JSON report to ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
    );
    return '';
  }
}

/** JUnit, Code Quality, SARIF and metrics files, and the push: a file or gateway that fails is a warning. */
async function writeCiFiles(deps: ActionDeps, options: Options, report: Report): Promise<void> {
  try {
    await writeOutputFiles(report, options, deps.env, (name) => `Input '${name}'`, deps.writeFile);
  } catch (err) {
    deps.core.warning(`mtu-preflight: ${maskSecrets((err as Error).message)}`);
  }
  const unpushed = options.pushgateway ? await pushMetrics(options.pushgateway, report, deps.env) : undefined;
  if (unpushed) deps.core.warning(`mtu-preflight: ${unpushed}`);
}

async function writeJobSummary(deps: ActionDeps, report: Report): Promise<void> {
  // Outside Actions (act, a local run) there is no summary file; core.summary would throw.
  if (!deps.env.GITHUB_STEP_SUMMARY) return;
  try {
    await deps.core.summary.addRaw(renderMarkdown(report)).write();
  } catch (err) {
    deps.core.warning(`mtu-preflight: could not write the job summary (${(err as Error).message}).`);
  }
}

function renderForLog(options: Options, report: Report, env: NodeJS.ProcessEnv): string {
  // The Actions log renders ANSI colour like a terminal, though stdout is not one.
  return renderReport(report, options.format, shouldColor({ isTTY: true }, env, options.color));
}

/** A usage error fails the step with its own line; anything else as an internal error, its stack in the debug log. */
function failStep(deps: ActionDeps, err: unknown): void {
  const failure = describeFailure(err, { stack: false });
  if (failure.code === EXIT_USAGE) {
    deps.core.setFailed(failure.message);
  } else {
    deps.core.debug((err as Error)?.stack ?? String(err));
    deps.core.setFailed(`mtu-preflight: ${failure.message}`);
  }
  deps.setExitCode(failure.code);
}

export async function runAction(overrides: Partial<ActionDeps> = {}): Promise<void> {
  const deps: ActionDeps = { ...defaultActionDeps(), ...overrides };
  const { core } = deps;
  const masked = new Set<string>();
  const mask = (url: string | undefined) => {
    for (const secret of urlSecrets(url)) {
      if (masked.has(secret)) continue;
      masked.add(secret);
      core.setSecret(secret);
    }
  };
  // Before anything can print a proxy URL (an option error, a probe error), register its credentials; the same for
  // credentials in `url` inputs (https://bot:token@mirror.example/...), which an option error may quote.
  for (const name of PROXY_URL_VARIABLES) mask(deps.env[name]);
  for (const line of core.getMultilineInput('url')) mask(line);

  let report: Report | undefined;
  let options: Options;
  try {
    options = await readOptions(deps);
    // URLs from the config file too.
    for (const u of options.urls) mask(u);
    mask(options.pushgateway);
    await checkOutputFiles(options, (name) => `Input '${name}'`, true);
    report = await runByDeadline(deps, options);
  } catch (err) {
    // Bad inputs, a bad config file or an unreadable ca-file: one line, no stack.
    failStep(deps, err);
    return;
  } finally {
    await deps.cleanup();
  }
  if (!report) {
    core.setFailed(
      `mtu-preflight did not finish within its timeout (${options.timeoutMs / 1000} s); raise the 'timeout' input or probe fewer registries.`,
    );
    deps.setExitCode(1);
    return;
  }
  try {
    await publishReport(deps, options, report);
  } catch (err) {
    failStep(deps, err);
  }
}

/** Outputs, JSON file, job summary, annotations, the log, and the step's result. */
async function publishReport(deps: ActionDeps, options: Options, report: Report): Promise<void> {
  const { core } = deps;
  const reportFile = await writeReport(deps, options, report);
  await writeCiFiles(deps, options, report);
  core.setOutput('verdict', report.verdict);
  core.setOutput('recommended-mtu', report.recommendedMtu !== undefined ? String(report.recommendedMtu) : '');
  core.setOutput('uplink-mtu', report.uplinkMtu !== undefined ? String(report.uplinkMtu) : '');
  core.setOutput('report-json', reportFile);
  await writeJobSummary(deps, report);
  for (const f of report.findings) annotate(core, f);

  core.startGroup(`mtu-preflight report: ${VERDICT_LABEL[report.verdict]}`);
  core.info(renderForLog(options, report, deps.env).replace(/\n$/, ''));
  core.endGroup();
  // Outside the collapsed group, so the verdict shows without opening it.
  core.info(maskSecrets(describeDiagnosis(report)));
  core.info(describeExit(report));

  const code = exitCodeFor(report, options.strict);
  if (code !== 0) {
    const top = topFinding(report);
    core.setFailed(
      maskSecrets(`mtu-preflight ${VERDICT_LABEL[report.verdict]}${top ? `: ${top.code}: ${top.summary}` : ''}`),
    );
  }
  deps.setExitCode(code);
}
