/**
 * The report files for CI systems and monitoring (--report-file's siblings): JUnit, GitLab Code Quality, SARIF and
 * the Prometheus textfile, each checked writable before probing (a bad path is bad usage, exit 2) and written after
 * the run by a rename over the old one, so node_exporter's textfile collector (and a CI artifact upload) never reads
 * a half-written file, also when the run is killed while writing. The optional Pushgateway push has its own
 * deadline and never fails the run: a gateway that is down is one warning line.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, open, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Options } from '../config/options.js';
import { UsageError } from '../model/errors.js';
import type { Report } from '../model/report.js';
import { renderCodeQuality } from '../render/codequality.js';
import { renderJunit } from '../render/junit.js';
import { renderMetrics } from '../render/metrics.js';
import { renderSarif } from '../render/sarif.js';
import { onCleanup } from '../util/cleanup.js';
import { maskSecrets, redactUrl } from '../util/redact.js';

type FileOption = 'junitFile' | 'codeQualityFile' | 'sarifFile' | 'metricsFile';

interface OutputFile {
  option: FileOption;
  /** The option's name in SPECS: --junit, input 'junit'. */
  name: string;
  render(report: Report, env: NodeJS.ProcessEnv): string;
}

export const OUTPUT_FILES: readonly OutputFile[] = [
  { option: 'junitFile', name: 'junit', render: (r) => renderJunit(r) },
  { option: 'codeQualityFile', name: 'codequality', render: (r) => renderCodeQuality(r) },
  { option: 'sarifFile', name: 'sarif', render: (r) => renderSarif(r) },
  { option: 'metricsFile', name: 'metrics-file', render: (r, env) => renderMetrics(r, { runner: runnerName(env) }) },
];

/** The runner as its CI system names it, else this machine's host name (a self-hosted runner host's timer). */
export function runnerName(env: NodeJS.ProcessEnv, hostname: () => string = os.hostname): string {
  return (
    env.MTU_PREFLIGHT_RUNNER ||
    env.CI_RUNNER_DESCRIPTION || // GitLab
    env.RUNNER_NAME || // GitHub Actions
    env.DRONE_RUNNER_HOSTNAME ||
    env.CI_MACHINE || // Woodpecker (the agent's host name)
    env.NODE_NAME || // Jenkins
    env.BUILDKITE_AGENT_NAME ||
    hostname()
  );
}

export type Label = (name: string) => string;

function unwritable(label: string, file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new UsageError(
    `${label} '${file}' cannot be written (${code}); expected a file path in a writable directory.`,
  );
}

/** The directory itself, or (when the writer creates directories) its nearest existing ancestor. */
async function writableDir(dir: string, mkdirs: boolean): Promise<string> {
  let d = dir;
  let st = await stat(d).catch(() => undefined);
  while (mkdirs && !st && path.dirname(d) !== d) {
    d = path.dirname(d);
    st = await stat(d).catch(() => undefined);
  }
  // A file where a directory should be (report.json/junit.xml): root could "write" it, the open would fail later.
  if (st && !st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  return d;
}

/** A file that exists and is writable, or a writable directory to create it in; else the usage error. */
export async function checkWritable(file: string, label: string, mkdirs = false): Promise<void> {
  try {
    const existing = await stat(file).catch(() => undefined);
    if (existing?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    await access(await writableDir(path.dirname(path.resolve(file)), mkdirs), fsConstants.W_OK);
    if (existing) await access(file, fsConstants.W_OK);
  } catch (err) {
    throw unwritable(label, file, err);
  }
}

/** Before probing: every report file the options name must be writable. */
export async function checkOutputFiles(options: Options, label: Label, mkdirs = false): Promise<void> {
  for (const f of OUTPUT_FILES) {
    const file = options[f.option];
    if (file !== undefined) await checkWritable(file, label(f.name), mkdirs);
  }
}

/**
 * Write `data` to a temporary file beside `file` (same directory, so the rename cannot cross file systems; a name
 * without .prom, which the textfile collector ignores), flush it to disk, then rename it over `file`.
 */
export async function writeAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const forget = onCleanup(() => unlink(tmp).catch(() => undefined));
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    forget();
  }
}

/** After the run: each file the options name, rendered and written atomically. Returns the paths written. */
export async function writeOutputFiles(
  report: Report,
  options: Options,
  env: NodeJS.ProcessEnv,
  label: Label,
  write: (file: string, data: string) => Promise<void> = writeAtomic,
): Promise<string[]> {
  const written: string[] = [];
  for (const f of OUTPUT_FILES) {
    const file = options[f.option];
    if (file === undefined) continue;
    await write(file, f.render(report, env)).catch((err: unknown) =>
      Promise.reject(unwritable(label(f.name), file, err)),
    );
    written.push(file);
  }
  return written;
}

/** How long a push may take: the run is over, the job should not wait on monitoring. */
export const PUSH_DEADLINE_MS = 5_000;

/** Pushgateway's grouping key path: /metrics/job/mtu_preflight/instance/<runner>, base64url when it has a '/'. */
export function pushUrl(gateway: string, runner: string): URL {
  const u = new URL(gateway);
  u.username = '';
  u.password = '';
  const instance = runner.includes('/')
    ? `instance@base64/${Buffer.from(runner).toString('base64url')}`
    : `instance/${encodeURIComponent(runner)}`;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/metrics/job/mtu_preflight/${instance}`;
  return u;
}

/**
 * PUT the metrics to the Pushgateway (replacing this runner's group). Resolves to undefined when it took them,
 * else to the one line saying why not (secrets masked); never rejects.
 */
export async function pushMetrics(
  gateway: string,
  report: Report,
  env: NodeJS.ProcessEnv,
  deadlineMs = PUSH_DEADLINE_MS,
): Promise<string | undefined> {
  const runner = runnerName(env);
  const given = new URL(gateway);
  const headers: Record<string, string> = { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' };
  if (given.username || given.password) {
    const cred = `${decodeURIComponent(given.username)}:${decodeURIComponent(given.password)}`;
    headers.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
  }
  const where = redactUrl(gateway);
  try {
    const res = await fetch(pushUrl(gateway, runner), {
      method: 'PUT',
      headers,
      body: renderMetrics(report, { runner }),
      signal: AbortSignal.timeout(deadlineMs),
    });
    await res.body?.cancel();
    if (res.ok) return undefined;
    return `the Pushgateway at ${where} answered HTTP ${res.status}; the metrics were not pushed.`;
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; code?: string; message?: string };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${deadlineMs / 1000} s` : (e.cause?.code ?? e.code ?? e.message);
    return maskSecrets(`the Pushgateway at ${where} could not be reached (${why}); the metrics were not pushed.`);
  }
}
