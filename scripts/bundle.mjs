// Builds dist/ with one esbuild run per entry. dist/ is generated: never edit it by hand.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outdir = process.argv[2] ?? 'dist';

await rm(outdir, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The Action runs on node24; npx users may have Node 20.
  target: 'node20',
  legalComments: 'none',
  define: { __MTU_PREFLIGHT_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies (@actions/core) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { cli: 'src/cli.ts', action: 'src/action-main.ts' }, outdir, splitting: true, chunkNames: 'chunks/[name]-[hash]' });
