/**
 * What every part of `npm run bench` shares: the two bundles it compares (this checkout's and the previous
 * release's, built from git), the statistics it prints, and one CLI run measured for time and peak memory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Lab } from '../../test/lab/harness/lab.js';
import { LAB_DIST, runCli, type CliRun } from '../../test/lab/cli.js';

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const root = path.resolve(import.meta.dirname, '../..');
/**
 * The previous release the bench compares against: the last landing before this round's speed work (stop 15).
 * BENCH_BASELINE=<rev> picks another; BENCH_BASELINE=none compares nothing.
 */
export const BASELINE_REV = process.env.BENCH_BASELINE ?? '177b07f';

/** BENCH_ONLY=buildx: only the scenarios whose name contains it. */
export const only = (name: string): boolean => !process.env.BENCH_ONLY || name.includes(process.env.BENCH_ONLY);

export interface Bundle {
  label: string;
  dir: string;
  cli: string;
}

/** This checkout's bundle, written into the lab's bundle folder (MTU_LAB_DIST, as the lab tests use). */
export function buildCurrent(): Bundle {
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs'), LAB_DIST], { stdio: 'inherit' });
  return { label: 'new', dir: LAB_DIST, cli: path.join(LAB_DIST, 'cli.js') };
}

/** The previous release's committed dist/, unpacked from git into a temp dir (removed at exit). */
export function extractBaseline(): Bundle | undefined {
  if (BASELINE_REV === 'none') return undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mtp-bench-base-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const tar = execFileSync('git', ['-C', root, 'archive', '--format=tar', BASELINE_REV, 'dist'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', tmp], { input: tar });
  const dir = path.join(tmp, 'dist');
  if (!existsSync(path.join(dir, 'cli.js'))) throw new Error(`bench: ${BASELINE_REV} has no dist/cli.js`);
  return { label: `old (${BASELINE_REV})`, dir, cli: path.join(dir, 'cli.js') };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `median ${median(s).toFixed(0)} ms  min ${s[0]!.toFixed(0)}  max ${s.at(-1)!.toFixed(0)}  (n=${s.length})`;
}

export const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : '—');

/**
 * A preload that writes the process's own peak RSS (KiB) to MTP_BENCH_RSS at exit: the CLI's footprint without
 * GNU time on the machine. Children it spawns (ss, ip) are not counted; they are a few MB and exit at once.
 */
const RSS_PRELOAD = path.join(os.tmpdir(), `mtp-bench-rss-${process.pid}.cjs`);
writeFileSync(
  RSS_PRELOAD,
  "process.on('exit', () => require('fs').writeFileSync(process.env.MTP_BENCH_RSS, String(process.resourceUsage().maxRSS)));\n",
);
process.on('exit', () => rmSync(RSS_PRELOAD, { force: true }));

export interface MeasuredRun extends CliRun {
  /** Peak resident set of the CLI process, MiB. */
  rssMiB?: number;
}

/** One CLI run inside the lab's runner namespace, with its time to verdict and peak RSS. */
export async function measure(
  lab: Lab,
  bundle: Bundle,
  args: string[],
  env: Record<string, string> = {},
): Promise<MeasuredRun> {
  const rssFile = path.join(lab.tmpDir, `rss-${Math.random().toString(36).slice(2)}`);
  const r = await runCli(lab, args, {
    cli: bundle.cli,
    timeoutMs: 180_000,
    env: { ...env, NODE_OPTIONS: `--require ${RSS_PRELOAD}`, MTP_BENCH_RSS: rssFile },
  });
  let rssMiB: number | undefined;
  try {
    rssMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
  } catch {
    /* killed before exit: no figure */
  }
  return { ...r, ...(rssMiB !== undefined ? { rssMiB } : {}) };
}

export function verdictOf(r: CliRun): string {
  const f = r.report?.findings.find((x) => x.verified);
  const codes = (r.report?.findings ?? []).map((x) => x.code).join(',') || 'no findings';
  return `${r.report?.verdict ?? '?'} (exit ${r.code}; ${codes}${f?.verified ? `; verified ${f.verified.mtu}` : ''})`;
}

/** Per bundle: times, peak RSS and the last verdict of one scenario's rounds. */
export class Tally {
  readonly times = new Map<string, number[]>();
  readonly rss = new Map<string, number[]>();
  readonly verdicts = new Map<string, string>();

  add(bundle: Bundle, r: MeasuredRun): void {
    this.times.set(bundle.label, [...(this.times.get(bundle.label) ?? []), r.ms]);
    if (r.rssMiB !== undefined) this.rss.set(bundle.label, [...(this.rss.get(bundle.label) ?? []), r.rssMiB]);
    this.verdicts.set(bundle.label, verdictOf(r));
  }

  print(name: string, bundles: Bundle[]): void {
    const [cur, base] = bundles;
    console.log(`\n${name}`);
    for (const b of bundles) {
      const rss = this.rss.get(b.label);
      console.log(
        `  ${b.label.padEnd(16)} ${stats(this.times.get(b.label) ?? [])}  peak RSS ${rss ? `${median(rss).toFixed(0)} MiB` : '?'}  → ${this.verdicts.get(b.label) ?? '?'}`,
      );
    }
    if (cur && base) {
      const t = ratio(median(this.times.get(cur.label)!), median(this.times.get(base.label)!));
      const m = ratio(median(this.rss.get(cur.label) ?? []), median(this.rss.get(base.label) ?? []));
      console.log(`  new/old          time ${t}  peak RSS ${m}`);
    }
  }
}
