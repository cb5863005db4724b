#!/usr/bin/env node
import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);
import {
  DEFAULT_CONFIG_FILE,
  OPTION_HELP,
  OPTION_NAMES,
  UsageError,
  VERSION,
  defaultDeps,
  dockerLayers,
  exitCodeFor,
  loadConfigFile,
  maskSecrets,
  parseOptions,
  renderJson,
  renderMarkdown,
  renderProgressLine,
  renderText,
  resolveConfigPath,
  run,
  runCleanups,
  shouldColor,
  unknownOption
} from "./chunks/chunk-HNIN3CKQ.js";

// src/cli.ts
import { constants as fsConstants, existsSync } from "node:fs";
import { access, stat, writeFile } from "node:fs/promises";
import path from "node:path";

// src/argv.ts
var BOOLEAN_FLAGS = /* @__PURE__ */ new Set(["insecure", "strict", "json", "lint", "lint-only"]);
var REPEATABLE = /* @__PURE__ */ new Set(["url"]);
function parseArgv(argv) {
  const out = { values: {}, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      out.help = true;
      continue;
    }
    if (arg === "-V" || arg === "--version") {
      out.version = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      throw new UsageError(`Unexpected argument '${arg}'; mtu-preflight takes only --flags (see --help).`);
    }
    const eq = arg.indexOf("=");
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value = eq >= 0 ? arg.slice(eq + 1) : void 0;
    if (value === void 0 && name.startsWith("no-") && BOOLEAN_FLAGS.has(name.slice(3))) {
      name = name.slice(3);
      value = false;
    }
    if (!OPTION_NAMES.includes(name) && name !== "config") throw unknownOption(name, "flag");
    if (value === void 0 && BOOLEAN_FLAGS.has(name)) value = true;
    if (value === void 0) {
      const next = argv[i + 1];
      if (next === void 0 || next.startsWith("--") && next.length > 2) {
        throw new UsageError(`Flag --${name} needs a value (see --help).`);
      }
      value = next;
      i++;
    }
    if (name === "config") {
      out.config = String(value ?? "");
      if (!out.config) throw new UsageError("Flag --config needs a file path.");
      continue;
    }
    if (REPEATABLE.has(name)) {
      const prev = out.values[name];
      out.values[name] = [...Array.isArray(prev) ? prev : [], String(value)];
    } else {
      out.values[name] = value;
    }
  }
  return out;
}

// src/cli.ts
function helpText() {
  const rows = OPTION_HELP.map(([k, h]) => `  --${k.padEnd(16)} ${h}`);
  return [
    `mtu-preflight ${VERSION}: find MTU mismatches and path-MTU black holes before they stall a CI job.`,
    "",
    "Usage: npx mtu-preflight [flags]",
    "",
    "Flags (also keys of .mtu-preflight.yml and inputs of the GitHub Action):",
    ...rows,
    `  --config FILE      YAML file with the same keys. Default: ${DEFAULT_CONFIG_FILE} if present.`,
    "  --help, --version",
    "",
    "Exit codes: 0 pass (or warn), 1 fail (or warn with --strict), 2 bad usage."
  ].join("\n");
}
function reportFileError(file, err) {
  const code = err.code ?? "error";
  return new UsageError(`--report-file '${file}' cannot be written (${code}); expected a file path in a writable directory.`);
}
async function checkReportFile(file) {
  try {
    const existing = await stat(file).catch(() => void 0);
    if (existing?.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    await access(existing ? file : path.dirname(path.resolve(file)), fsConstants.W_OK);
  } catch (err) {
    throw reportFileError(file, err);
  }
}
async function main(argv) {
  const args = parseArgv(argv);
  if (args.help) {
    process.stdout.write(helpText() + "\n");
    return 0;
  }
  if (args.version) {
    process.stdout.write(VERSION + "\n");
    return 0;
  }
  const layers = [];
  const configPath = resolveConfigPath(args.config, existsSync);
  if (configPath) layers.push({ source: "config", ...await loadConfigFile(configPath) });
  layers.push({ source: "flag", values: args.values });
  const options = parseOptions(layers);
  if (options.reportFile) await checkReportFile(options.reportFile);
  const deps = defaultDeps();
  if (options.docker !== "off") deps.collectLayers = dockerLayers(deps);
  const live = process.stderr.isTTY && options.format === "text";
  const color = shouldColor(process.stdout, process.env, options.color);
  if (live) {
    const lines = /* @__PURE__ */ new Map();
    deps.onProbeUpdate = (p) => {
      lines.set(p, renderProgressLine(p));
      process.stderr.write(`\r\x1B[2K${[...lines.values()].join("  ")}`.slice(0, (process.stderr.columns ?? 120) + 8));
    };
  }
  const report = await run(options, deps);
  if (live) process.stderr.write("\r\x1B[2K");
  const out = options.format === "json" ? renderJson(report) : options.format === "markdown" ? renderMarkdown(report) : renderText(report, { color });
  process.stdout.write(out.endsWith("\n") ? out : out + "\n");
  if (options.reportFile) await writeFile(options.reportFile, renderJson(report)).catch((err) => Promise.reject(reportFileError(options.reportFile, err)));
  return exitCodeFor(report, options.strict);
}
var exiting = false;
async function exit(code) {
  if (exiting) return new Promise(() => {
  });
  exiting = true;
  await runCleanups();
  process.exit(code);
}
for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
  process.once(sig, () => {
    process.stderr.write(`
mtu-preflight: ${sig}, cleaning up
`);
    void exit(code);
  });
}
main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`mtu-preflight: ${maskSecrets(err.message)}
`);
      return exit(2);
    }
    process.stderr.write(`mtu-preflight: internal error: ${maskSecrets(err?.stack ?? String(err))}
`);
    return exit(3);
  }
);
