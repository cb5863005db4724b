/**
 * The npm tarball of the current source: a staged copy of what package.json `files` ships, with dist/ taken from
 * the bundle global-setup.ts made (.lab-tmp/dist), packed by `npm pack`. The committed dist/ may lag the source
 * while someone works; the tarball never does.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { LAB_DIST } from './cli.js';
import { runCommand } from './loopback.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
// The bundle global-setup.ts made, where MTU_LAB_DIST put it (test/lab/cli.ts).
const BUNDLE = LAB_DIST;

/** Packs into `dir` (staging in dir/stage) and returns the tarball's path. */
export async function packTarball(dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const stage = path.join(dir, 'stage');
  for (const f of ['package.json', 'README.md', 'LICENSE', 'action.yml', 'templates'])
    cpSync(path.join(ROOT, f), path.join(stage, f), { recursive: true });
  cpSync(BUNDLE, path.join(stage, 'dist'), { recursive: true });
  const packed = await runCommand('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: stage, env });
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
  return path.join(dir, info!.filename);
}
