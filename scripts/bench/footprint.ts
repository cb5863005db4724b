/**
 * The package's footprint: the bytes of dist/ per file, and the CLI's cold start (`--help`) beside a bare
 * `node -e 0`, interleaved so both see the same machine load.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { median, ratio, stats, type Bundle } from './lib.js';

function filesOf(dir: string, base = dir): Array<[string, number]> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e): Array<[string, number]> => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesOf(p, base) : [[path.relative(base, p), statSync(p).size]];
  });
}

const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;

export function printDistSizes(bundles: Bundle[]): void {
  console.log('\ndist/ size');
  for (const b of bundles) {
    const files = filesOf(b.dir).sort(([x], [y]) => x.localeCompare(y));
    const total = files.reduce((s, [, n]) => s + n, 0);
    console.log(`  ${b.label.padEnd(16)} total ${kb(total)} (${(total / 1e6).toFixed(2)} MB)`);
    for (const [f, n] of files) console.log(`    ${f.padEnd(40)} ${kb(n)}`);
  }
}

export function printColdStart(bundles: Bundle[], rounds = 10): void {
  const commands: Array<[string, string[]]> = [
    ['node -e 0', ['-e', '0']],
    ...bundles.map((b): [string, string[]] => [`${b.label} --help`, [b.cli, '--help']]),
  ];
  const times = new Map<string, number[]>(commands.map(([n]) => [n, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, args] of commands) {
      const t = performance.now();
      spawnSync(process.execPath, args, { stdio: 'ignore' });
      times.get(name)!.push(performance.now() - t);
    }
  }
  const bare = median(times.get('node -e 0')!);
  console.log('\ncold start');
  for (const [name] of commands) {
    const ms = times.get(name)!;
    console.log(`  ${name.padEnd(24)} ${stats(ms)}  ${ratio(median(ms), bare)} of node -e 0`);
  }
}
