/**
 * Lab tests run the CLI the way a user does: a bundled file run by node. It is bundled from src/
 * into .lab-tmp/dist before the lab files run, so the tests always exercise the current source.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs'), path.join(root, '.lab-tmp/dist')], { cwd: root, stdio: 'inherit' });
}
