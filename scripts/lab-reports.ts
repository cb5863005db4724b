/**
 * npm run lab:reports -- --cli <bundled cli.js> --out <dir> [--only name,...]
 *
 * Builds each lab scenario of scripts/lab-reports/scenarios.ts fresh (new namespaces, a new nested dockerd: a path
 * MTU one run taught a kernel must not reach the next), runs the given CLI in the runner namespace with
 * `--format json`, and writes `<out>/<scenario>.json`: `{ scenario, exitCode, stderr, report }`, normalised so that
 * two runs of the same code compare equal (scripts/lab-reports/normalise.ts says what goes and why). The report as
 * the CLI printed it is kept in `<out>/raw/<scenario>.json`. Compare two directories with
 * `vite-node scripts/lab-reports-diff.ts <dirA> <dirB>`. After a change to the normalisation,
 * `--from-raw <dir>` rewrites `<dir>/*.json` from `<dir>/raw/` without building any lab.
 *
 * Issue 9 uses it to show that a restructuring keeps behaviour: the reports of the release before and of the new
 * code, diffed. Runs as root (it builds the same namespaces as the lab tests). Every namespace, daemon and process it
 * starts is torn down after each scenario, when a scenario fails, and on SIGINT/SIGTERM.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  buildProbeImageRootfs,
  importProbeImage,
  startNestedDockerd,
  type NestedDockerd,
} from '../test/lab/harness/docker-lab.js';
import { createLab, labAvailable, type Lab } from '../test/lab/harness/lab.js';
import { labEnv } from '../test/lab/cli.js';
import { normaliseRun, type LabRun } from './lab-reports/normalise.js';
import { PROBE_IMAGE, SCENARIOS, type Scenario } from './lab-reports/scenarios.js';

/** The docker0 subnet of every scenario's daemon: fixed, so a report does not depend on which scenarios ran before. */
const BIP = '172.30.0.1/24';
/** Longer than any scenario's run: the CLI's own default deadline ends a black hole well before. */
const CLI_TIMEOUT_MS = 120_000;

interface Args {
  cli: string;
  out: string;
  only?: string[];
}

function parseArgs(argv: string[]): Args {
  const a = argv.filter((x) => x !== '--');
  const value = (flag: string): string | undefined => {
    const i = a.indexOf(flag);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const cli = value('--cli');
  const out = value('--out');
  if (!cli || !out)
    throw new Error(
      'usage: vite-node scripts/lab-reports.ts -- --cli <path to a bundled cli.js> --out <dir> [--only name,...]',
    );
  if (!existsSync(cli)) throw new Error(`--cli ${cli}: no such file (bundle first: node scripts/bundle.mjs <dir>)`);
  const only = value('--only')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = new Set(SCENARIOS.map((s) => s.name));
  const unknown = (only ?? []).filter((n) => !known.has(n));
  if (unknown.length)
    throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return { cli: path.resolve(cli), out: path.resolve(out), ...(only ? { only } : {}) };
}

/** What is up right now, for the teardown on failure and on signals. */
const live: { lab?: Lab; daemon?: NestedDockerd; scenario?: Scenario } = {};
let interrupted = false;

/** Idempotent: the harness's close() and stop() are, and each part is forgotten once it is down. */
async function teardown(): Promise<void> {
  const { lab, daemon, scenario } = live;
  try {
    if (daemon) {
      await scenario?.teardown?.(daemon).catch(() => undefined);
      await daemon.stop();
    }
  } finally {
    delete live.daemon;
    await lab?.close();
    delete live.lab;
    delete live.scenario;
  }
}

function onSignal(sig: 'SIGINT' | 'SIGTERM'): void {
  // A second signal: leave now; the harness's exit hooks still kill, unmount and delete synchronously.
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error(`\n${sig}: tearing down the lab of ${live.scenario?.name ?? '(none)'} ...`);
  void teardown().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
}

async function runScenario(sc: Scenario, cli: string, rootfs: string | undefined): Promise<LabRun> {
  live.scenario = sc;
  const lab = await createLab(sc.lab);
  live.lab = lab;
  await sc.before?.(lab);
  let env: Record<string, string> = {};
  if (sc.daemon) {
    const bip = sc.daemon.bridge ? {} : { bip: BIP };
    const d = await startNestedDockerd({ netns: lab.runnerNs, dns: [lab.dnsIp], ...bip, ...sc.daemon });
    live.daemon = d;
    await importProbeImage(d.host, PROBE_IMAGE, rootfs);
    await sc.setup?.(lab, d);
    env = { DOCKER_HOST: d.host };
  }
  // From the lab's own folder, as runCli does: the CI-config lint must not read this repository's files.
  const r = await lab.exec(
    'sh',
    ['-c', 'cd "$0" && exec "$@"', lab.tmpDir, process.execPath, cli, ...sc.args(lab), '--format', 'json'],
    {
      timeoutMs: CLI_TIMEOUT_MS,
      env: labEnv(env),
    },
  );
  let report: unknown;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = { notJson: r.stdout };
  }
  return {
    scenario: sc.name,
    exitCode: r.code,
    stderr: r.stderr,
    report,
    context: { labTmpDir: lab.tmpDir, labPrefix: lab.prefix, ...(live.daemon ? { daemonDir: live.daemon.dir } : {}) },
    ms: r.ms,
  };
}

function summary(run: LabRun): string {
  type Rep = {
    verdict?: string;
    recommendedMtu?: number;
    timedOut?: boolean;
    findings?: Array<{ code: string }>;
    layers?: Array<{ notes?: string[] }>;
  };
  const rep = run.report as Rep | undefined;
  const codes = (rep?.findings ?? []).map((f) => f.code).join(',') || '-';
  // A probe cut off by the run's deadline gives a weaker verdict on a loaded machine (seen: fail -> warn, exit 1 -> 0
  // for the swarm overlay at load 14): say so, so that a diff of such a run is not read as a change of behaviour.
  const cut = (rep?.layers ?? [])
    .flatMap((l) => l.notes ?? [])
    .filter((n) => /did not finish by the deadline/.test(n)).length;
  const warn =
    rep?.timedOut || cut
      ? `; DEADLINE HIT (${rep?.timedOut ? 'timedOut' : `${cut} probe(s) cut off`}): rerun on a quiet machine`
      : '';
  return `exit ${run.exitCode}, ${rep?.verdict ?? 'no report'}, codes ${codes}, recommended ${rep?.recommendedMtu ?? '-'}, CLI ${(run.ms / 1000).toFixed(1)} s${warn}`;
}

/** Re-normalise the raw runs kept in `<dir>/raw/`. */
async function fromRaw(dir: string): Promise<number> {
  const files = (await readdir(path.join(dir, 'raw'))).filter((f) => f.endsWith('.json'));
  for (const f of files) {
    const run = JSON.parse(await readFile(path.join(dir, 'raw', f), 'utf8')) as LabRun;
    await writeFile(path.join(dir, f), `${JSON.stringify(normaliseRun(run), null, 2)}\n`);
  }
  console.log(`${files.length} report(s) re-normalised in ${dir}`);
  return 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const raw = argv.indexOf('--from-raw');
  if (raw >= 0 && argv[raw + 1]) return fromRaw(path.resolve(argv[raw + 1]!));
  const args = parseArgs(argv);
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`);
  const selected = args.only ? SCENARIOS.filter((s) => args.only!.includes(s.name)) : SCENARIOS;
  await mkdir(path.join(args.out, 'raw'), { recursive: true });
  const rootfs = selected.some((s) => s.daemon) ? (await buildProbeImageRootfs()).tarball : undefined;
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const started = performance.now();
  let failed = 0;
  for (const sc of selected) {
    if (interrupted) break;
    const t = performance.now();
    try {
      const run = await runScenario(sc, args.cli, rootfs);
      await writeFile(path.join(args.out, 'raw', `${sc.name}.json`), `${JSON.stringify(run, null, 2)}\n`);
      await writeFile(path.join(args.out, `${sc.name}.json`), `${JSON.stringify(normaliseRun(run), null, 2)}\n`);
      console.log(`${sc.name.padEnd(32)} ${summary(run)}; scenario ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } catch (err) {
      if (interrupted) break;
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      // A scenario that could not be built is written too: a diff then shows it instead of a silently missing file.
      await writeFile(
        path.join(args.out, `${sc.name}.json`),
        `${JSON.stringify({ scenario: sc.name, labError: message }, null, 2)}\n`,
      );
      console.error(`${sc.name.padEnd(32)} LAB ERROR: ${message}`);
    } finally {
      await teardown();
    }
  }
  console.log(
    `${selected.length} scenario(s) in ${((performance.now() - started) / 1000).toFixed(0)} s; reports in ${args.out}`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    if (!interrupted) process.exit(code);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    void teardown().finally(() => process.exit(2));
  },
);
