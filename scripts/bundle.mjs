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
  banner: {
    js: "import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
};
// The in-container probe first: one dependency-free file (dist/probe.mjs), whose text is also embedded in the CLI and
// the Action (__MTU_PREFLIGHT_PROBE__), so they can copy it into containers without reading dist/ at run time.
// Keep these settings in step with PROBE_BUILD_OPTIONS in src/collect/docker/probe-script.ts (the from-source path).
const probe = await build({
  ...common,
  entryPoints: { probe: 'src/probe/standalone.ts' },
  outExtension: { '.js': '.mjs' },
  outdir,
  minify: true,
  write: true,
  metafile: true,
});
const probeFile = Object.keys(probe.metafile.outputs).find((f) => f.endsWith('probe.mjs'));
const probeText = await readFile(probeFile, 'utf8');
await build({
  ...common,
  define: { ...common.define, __MTU_PREFLIGHT_PROBE__: JSON.stringify(probeText) },
  entryPoints: { cli: 'src/main/cli.ts', action: 'src/main/action-main.ts' },
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
