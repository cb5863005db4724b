/**
 * vite-node scripts/lab-reports-diff.ts <dirA> <dirB>
 *
 * A readable diff of two directories written by scripts/lab-reports.ts: per scenario, one line per changed value,
 * `path: old -> new` (`+ path: new` added, `- path: old` removed; see scripts/lab-reports/diff.ts). Exits 0 either
 * way: it shows, the reader judges.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { diffJson, type Json } from './lab-reports/diff.js';

function read(dir: string, file: string): Json | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Json;
  } catch {
    return undefined;
  }
}

function main(argv: string[]): void {
  const [dirA, dirB] = argv.filter((x) => x !== '--');
  if (!dirA || !dirB) {
    console.error('usage: vite-node scripts/lab-reports-diff.ts <dirA> <dirB>');
    return;
  }
  const list = (d: string) => {
    try {
      return readdirSync(d).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  };
  const files = [...new Set([...list(dirA), ...list(dirB)])].sort();
  let changed = 0;
  for (const f of files) {
    const name = f.replace(/\.json$/, '');
    const a = read(dirA, f);
    const b = read(dirB, f);
    if (a === undefined || b === undefined) {
      console.log(`== ${name}: only in ${a === undefined ? dirB : dirA}`);
      changed++;
      continue;
    }
    const lines = diffJson(a, b);
    if (!lines.length) {
      console.log(`== ${name}: same`);
      continue;
    }
    changed++;
    console.log(`== ${name}: ${lines.length} difference(s)`);
    for (const l of lines) console.log(`  ${l}`);
  }
  console.log(`${files.length} scenario(s), ${changed} with differences (${dirA} -> ${dirB})`);
}

main(process.argv.slice(2));
