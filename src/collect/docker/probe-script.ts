/**
 * The text of the standalone probe (src/main/probe.ts bundled into one file). The bundler embeds it in the
 * CLI and the Action (scripts/bundle.mjs defines __MTU_PREFLIGHT_PROBE__), so nothing under dist/ is read at run
 * time. Running from source (tests, a dev checkout), it is bundled on first use with esbuild.
 */
import { fileURLToPath } from 'node:url';

declare const __MTU_PREFLIGHT_PROBE__: string | undefined;

let cached: Promise<string> | undefined;

export function loadProbeScript(): Promise<string> {
  if (typeof __MTU_PREFLIGHT_PROBE__ === 'string') return Promise.resolve(__MTU_PREFLIGHT_PROBE__);
  cached ??= bundleFromSource();
  return cached;
}

/** The esbuild settings for the probe, shared with scripts/bundle.mjs through the same values. */
export const PROBE_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  banner: {
    js: "import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
} as const;

async function bundleFromSource(): Promise<string> {
  // A variable specifier: the bundler must not pull esbuild into dist/ (this branch never runs there).
  const specifier = 'esbuild';
  const esbuild = (await import(specifier)) as typeof import('esbuild');
  const entry = fileURLToPath(new URL('../../main/probe.ts', import.meta.url));
  const r = await esbuild.build({ ...PROBE_BUILD_OPTIONS, entryPoints: [entry], write: false });
  return r.outputFiles[0]!.text;
}
