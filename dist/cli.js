#!/usr/bin/env node
import { createRequire as __mtpCreateRequire } from 'node:module'; const require = __mtpCreateRequire(import.meta.url);
import {
  BOOLEAN_OPTIONS,
  DEFAULT_CONFIG_FILE,
  LIST_OPTIONS,
  OPTION_HELP,
  OPTION_NAMES,
  UsageError,
  VERSION,
  checkOutputFiles,
  describeFailure,
  describeOutcome,
  exitAfterCleanup,
  exitCodeFor,
  exitOnSignals,
  fmtBytes,
  fmtMs,
  loadOptions,
  maskSecrets,
  paintOutcome,
  painter,
  pushMetrics,
  renderJson,
  renderReport,
  run,
  runDeps,
  shouldColor,
  unknownOption,
  visibleLength,
  writeOutputFiles
} from "./chunks/chunk-NDO2G3ZQ.js";

// src/main/cli.ts
import { constants as fsConstants, existsSync } from "node:fs";
import { access, stat, writeFile } from "node:fs/promises";
import path from "node:path";

// src/config/argv.ts
var isFlag = (arg) => arg !== void 0 && arg.startsWith("-") && arg.length > 1;
function splitFlag(arg) {
  const eq = arg.indexOf("=");
  if (eq >= 0) return { name: arg.slice(2, eq), value: arg.slice(eq + 1) };
  const name = arg.slice(2);
  if (name.startsWith("no-") && BOOLEAN_OPTIONS.has(name.slice(3))) return { name: name.slice(3), value: false };
  return { name };
}
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
    const split = splitFlag(arg);
    const name = split.name;
    let value = split.value;
    if (!OPTION_NAMES.includes(name) && name !== "config") throw unknownOption(name, "flag");
    const next = argv[i + 1];
    if (value === void 0 && BOOLEAN_OPTIONS.has(name)) {
      if (next === void 0 || isFlag(next)) value = true;
      else {
        value = next;
        i++;
      }
    }
    if (value === void 0) {
      if (next === void 0 || next.startsWith("--") && next.length > 2) {
        throw new UsageError(`Flag --${name} needs a value (see --help).`);
      }
      value = next;
      i++;
    }
    if (name === "config") {
      out.config = String(value);
      if (!out.config) throw new UsageError("Flag --config needs a file path.");
      continue;
    }
    if (LIST_OPTIONS.has(name)) {
      const prev = out.values[name];
      out.values[name] = [...Array.isArray(prev) ? prev : [], String(value)];
    } else {
      out.values[name] = value;
    }
  }
  return out;
}
function renderHelp(version) {
  const names = OPTION_HELP.map(([k]) => BOOLEAN_OPTIONS.has(k) ? `--${k}, --no-${k}` : `--${k}`);
  const width = Math.max(...names.map((n) => n.length), "--config FILE".length) + 2;
  const rows = OPTION_HELP.map(([, help], i) => `  ${names[i].padEnd(width)}${help}`);
  return [
    `mtu-preflight ${version}: find MTU mismatches and path-MTU black holes before they stall a CI job.`,
    "",
    "Usage: npx mtu-preflight [flags]",
    "",
    "Flags (also keys of .mtu-preflight.yml and inputs of the GitHub Action):",
    ...rows,
    `  ${"--config FILE".padEnd(width)}YAML file with the same keys. Default: ${DEFAULT_CONFIG_FILE} if present.`,
    "  --help, --version",
    "",
    "A switch takes a value too: --lint false, --strict=yes (true/false, yes/no, on/off, 1/0).",
    "Exit codes: 0 pass (or warn), 1 fail (or warn with --strict), 2 bad usage."
  ].join("\n");
}

// src/render/progress.ts
var DEFAULT_COLUMNS = 80;
function describeProgress(p) {
  const ph = p.phases;
  if (ph.doneMs !== void 0) return describeOutcome(p);
  if (ph.connectMs === void 0) return ph.dnsMs === void 0 ? "connecting" : "connecting (TCP)";
  if (ph.tlsMs === void 0 && p.url.startsWith("https:")) return "TLS handshake";
  if (ph.ttfbMs === void 0) return "waiting for response";
  return "downloading";
}
function renderProgressLine(probe, opts = {}) {
  const paint = painter(opts.color ?? false);
  const ph = probe.phases;
  const recorded = Math.max(
    0,
    ph.dnsMs ?? 0,
    ph.connectMs ?? 0,
    ph.tlsMs ?? 0,
    ph.ttfbMs ?? 0,
    probe.samples.at(-1)?.[0] ?? 0
  );
  const elapsed = opts.elapsedMs ?? ph.doneMs ?? recorded;
  const state = describeProgress(probe);
  const shown = ph.doneMs === void 0 ? paint(state, "dim") : paintOutcome(probe, state, paint);
  const pad = " ".repeat(Math.max(0, 22 - visibleLength(state)));
  return maskSecrets(
    `${probe.host.padEnd(24)} ${shown}${pad} ${fmtBytes(probe.bytes).padStart(9)} ${fmtMs(elapsed).padStart(7)}`
  );
}
var ANSI_TOKEN = /\x1b\[[0-9;]*m|[^\x1b]+|\x1b/g;
function fitLine(line, columns) {
  if (visibleLength(line) <= columns) return line;
  let out = "";
  let left = columns;
  let coloured = false;
  for (const token of line.match(ANSI_TOKEN) ?? []) {
    if (token.startsWith("\x1B")) {
      if (left > 0) {
        out += token;
        coloured = token !== "\x1B[0m";
      }
      continue;
    }
    const chars = [...token].slice(0, left);
    out += chars.join("");
    left -= chars.length;
  }
  return coloured ? `${out}\x1B[0m` : out;
}
function redrawLines(lines, drawn, size = {}) {
  const columns = (size.columns || DEFAULT_COLUMNS) - 1;
  const shown = screenLines(lines, size).map((l) => fitLine(l, columns));
  const rows = Array.from({ length: Math.max(shown.length, drawn, 1) }, (_, i) => `\x1B[2K${shown[i] ?? ""}`);
  const back = rows.length - Math.max(shown.length, 1);
  return `\r${up(drawn - 1)}${rows.join("\n")}${up(back)}`;
}
var up = (n) => n > 0 ? `\x1B[${n}A` : "";
function screenLines(lines, size) {
  return size.rows ? lines.slice(0, Math.max(1, size.rows - 1)) : lines;
}
var ProgressBoard = class {
  // By probe, not by URL: a dual-stack target is probed once per address family.
  lines = /* @__PURE__ */ new Map();
  drawn = 0;
  update(probe, size) {
    this.lines.set(probe, renderProgressLine(probe));
    const lines = [...this.lines.values()];
    const out = redrawLines(lines, this.drawn, size);
    this.drawn = screenLines(lines, size).length;
    return out;
  }
  erase() {
    if (this.drawn === 0) return "";
    const out = redrawLines([], this.drawn);
    this.drawn = 0;
    return out;
  }
};

// src/main/cli.ts
function reportFileError(file, err) {
  const code = err.code ?? "error";
  return new UsageError(
    `--report-file '${file}' cannot be written (${code}); expected a file path in a writable directory.`
  );
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
  if (args.help || args.version) {
    process.stdout.write((args.help ? renderHelp(VERSION) : VERSION) + "\n");
    return 0;
  }
  const options = await loadOptions({ source: "flag", values: args.values, config: args.config }, existsSync);
  if (options.reportFile) await checkReportFile(options.reportFile);
  await checkOutputFiles(options, (name) => `--${name}`);
  const deps = runDeps(options);
  const board = process.stderr.isTTY && options.format === "text" ? new ProgressBoard() : void 0;
  if (board)
    deps.onProbeUpdate = (p) => process.stderr.write(board.update(p, { columns: process.stderr.columns, rows: process.stderr.rows }));
  const report = await run(options, deps);
  if (board) process.stderr.write(board.erase());
  const out = renderReport(report, options.format, shouldColor(process.stdout, process.env, options.color));
  process.stdout.write(out.endsWith("\n") ? out : out + "\n");
  if (options.reportFile)
    await writeFile(options.reportFile, renderJson(report)).catch(
      (err) => Promise.reject(reportFileError(options.reportFile, err))
    );
  await writeOutputFiles(report, options, process.env, (name) => `--${name}`);
  const unpushed = options.pushgateway ? await pushMetrics(options.pushgateway, report, process.env) : void 0;
  if (unpushed) process.stderr.write(`mtu-preflight: warning: ${unpushed}
`);
  return exitCodeFor(report, options.strict);
}
exitOnSignals((signal) => process.stderr.write(`
mtu-preflight: ${signal}, cleaning up
`));
main(process.argv.slice(2)).then(exitAfterCleanup, (err) => {
  const failure = describeFailure(err, { stack: true });
  process.stderr.write(`mtu-preflight: ${failure.message}
`);
  return exitAfterCleanup(failure.code);
});
