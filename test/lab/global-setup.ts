/**
 * Lab tests run the CLI the way a user does: a bundled file run by node. It is bundled from src/
 * into .lab-tmp/dist before the lab files run, so the tests always exercise the current source.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  // MTU_LAB_DIST: see test/lab/cli.ts.
  execFileSync(
    process.execPath,
    [path.join(root, 'scripts/bundle.mjs'), path.resolve(root, process.env.MTU_LAB_DIST ?? '.lab-tmp/dist')],
    { cwd: root, stdio: 'inherit' },
  );
}
