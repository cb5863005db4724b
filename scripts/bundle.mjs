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
  // Minified: a third of the bytes to read and compile at every start. Messages are string literals and stay whole;
  // only our own identifiers are shortened.
  minify: true,
  legalComments: 'none',
  define: { __MTU_PREFLIGHT_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies (@actions/core's) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

/**
 * @actions/core imports its HTTP client (and the undici inside it) for getIDToken alone, which the Action never
 * calls: declared free of side effects, esbuild leaves the client out when nothing uses it.
 */
const unusedHttpClient = {
  name: 'actions-http-client-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /^@actions\/http-client(\/|$)/ }, async (args) => {
      if (args.pluginData === 'resolved') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'resolved' });
      return r.errors.length > 0 ? { errors: r.errors } : { path: r.path, sideEffects: false };
    });
  },
};

// The in-container probe first: one dependency-free file, embedded in the CLI and the Action's shared chunk
// (__MTU_PREFLIGHT_PROBE__), which copy it into containers; it is shipped there only, not as a file of its own.
// Keep these settings in step with PROBE_BUILD_OPTIONS in src/collect/docker/probe-script.ts (the from-source path).
const probe = await build({
  ...common,
  entryPoints: ['src/main/probe.ts'],
  write: false,
});
const probeText = probe.outputFiles[0].text;
await build({
  ...common,
  define: { ...common.define, __MTU_PREFLIGHT_PROBE__: JSON.stringify(probeText) },
  entryPoints: { cli: 'src/main/cli.ts', action: 'src/main/action-main.ts' },
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [unusedHttpClient],
});
