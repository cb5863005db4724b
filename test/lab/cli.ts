/** Run the bundled CLI (see global-setup.ts) inside a lab's runner namespace and read its JSON report. */
import path from 'node:path';
import type { Lab } from './harness/lab.js';
import type { ReportJson as Report } from '../../src/model/report.js';

/**
 * The bundle global-setup.ts writes. MTU_LAB_DIST moves it (default .lab-tmp/dist): on a machine where several
 * checkouts or sessions run lab files at once, each keeps its own bundle instead of deleting the others' mid-run.
 */
export const LAB_DIST = path.resolve(import.meta.dirname, '../..', process.env.MTU_LAB_DIST ?? '.lab-tmp/dist');
export const CLI = path.join(LAB_DIST, 'cli.js');
export const ACTION = path.join(LAB_DIST, 'action.js');

export interface CliRun {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
  report?: Report;
}

/** The environment a CI job would give us, minus anything that could reach outside the lab. */
export function labEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', NO_COLOR: '1', NODE_EXTRA_CA_CERTS: '', ...extra };
}

export async function runCli(
  lab: Lab,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string; cli?: string } = {},
): Promise<CliRun> {
  // From the lab's own folder, as a job runs in its checkout: the CI-config lint must not read this repo's files.
  const cwd = opts.cwd ?? lab.tmpDir;
  const r = await lab.exec('sh', ['-c', 'cd "$0" && exec "$@"', cwd, process.execPath, opts.cli ?? CLI, ...args], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    env: labEnv(opts.env),
  });
  let report: Report | undefined;
  if (args.includes('--json')) {
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      /* not JSON: the test's assertion on code/stderr will say why */
    }
  }
  return { code: r.code, ms: r.ms, stdout: r.stdout, stderr: r.stderr, ...(report ? { report } : {}) };
}

export const codes = (r: CliRun): string[] => (r.report?.findings ?? []).map((f) => f.code);

/**
 * The CLI's arguments for a nested-docker scenario: an 8 MiB download from the lab registry (no catalog targets),
 * the lab CA, the imported probe image never pulled, a JSON report. The CI-config lint is off: it would read this
 * repository's own workflow files, which is not what these scenarios are about.
 */
export function dockerArgs(l: Pick<Lab, 'registryName' | 'caFile'>, image: string, extra: string[] = []): string[] {
  return [
    '--url',
    `https://${l.registryName}/blob?bytes=8388608`,
    '--registries',
    'none',
    '--ca-file',
    l.caFile,
    '--probe-image',
    image,
    '--pull',
    'never',
    '--json',
    '--no-lint',
    ...extra,
  ];
}
