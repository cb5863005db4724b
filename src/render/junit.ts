/**
 * The report as JUnit XML, the format GitLab's test widget (`artifacts: reports: junit:`) and most CI test viewers
 * read: one test case per probe (layer × target), one per layer for its findings that name no target, and one per
 * lint finding (or one for the lint as a whole when it found nothing). A case fails when its finding would fail the
 * run (an error, or a warning with strict); a warning that would not is printed in the case's system-out. What
 * could not run (no Docker daemon, the probe image missing, the lint without an uplink MTU) is a skipped case that
 * says why. Schema: test/fixtures/junit/junit.xsd (see the README's "Reports for CI systems").
 */
import { isDaemon, type Layer } from '../model/layers.js';
import type { Finding, ProbeResult, Report } from '../model/report.js';
import { maskSecrets } from '../util/redact.js';

interface Case {
  classname: string;
  name: string;
  seconds: number;
  failure?: Finding | { code: string; summary: string };
  skipped?: string;
  out: string[];
  /** A lint finding's place, which GitLab links to. */
  file?: string;
  line?: number;
}

const xml = (s: string): string =>
  maskSecrets(s)
    // Characters XML 1.0 cannot carry at all (control characters other than tab, newline, carriage return).
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const secs = (ms: number | undefined): number => Math.max(0, (ms ?? 0) / 1000);

/** The finding's full text: summary, evidence, and the fix with its snippets. */
export function describeFinding(f: Finding): string {
  const lines = [`${f.code} (${f.severity}): ${f.summary}`, ...f.evidence.map((e) => `  - ${e}`)];
  if (f.fix) {
    lines.push(`Fix: ${f.fix.summary}`);
    for (const s of f.fix.steps) lines.push(`  ${s.title}:`, ...s.snippet.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

/** Whether a finding fails the run: an error, or a warning when the run was strict. */
function failsRun(f: Finding, strict: boolean): boolean {
  return f.severity === 'error' || (f.severity === 'warning' && strict);
}

/** The layer and the layers it leaves through, nearest first (a probe's finding may blame the network it sits on). */
function lineage(layer: Layer, byId: Map<string, Layer>): Set<string> {
  const ids = new Set<string>();
  for (let l: Layer | undefined = layer; l && !ids.has(l.id); l = l.parent ? byId.get(l.parent) : undefined)
    ids.add(l.id);
  return ids;
}

function probeCase(report: Report, layer: Layer, p: ProbeResult, byId: Map<string, Layer>, strict: boolean): Case {
  const ids = lineage(layer, byId);
  const about = report.findings.filter((f) => ids.has(f.layer) && f.targets?.includes(p.target));
  const failing = about.find((f) => failsRun(f, strict));
  const c: Case = {
    classname: `mtu-preflight.probe.${layer.id}`,
    name: `${layer.name}: ${p.target} (${p.host})`,
    seconds: secs(p.phases.doneMs),
    out: [
      `outcome ${p.outcome}, ${p.bytes} bytes` +
        (p.phases.ttfbMs !== undefined ? `, first byte after ${p.phases.ttfbMs} ms` : '') +
        (p.throughputBps !== undefined ? `, ${Math.round(p.throughputBps)} bytes/s` : ''),
      ...about.filter((f) => f !== failing).map(describeFinding),
    ],
  };
  if (failing) c.failure = failing;
  else if (p.outcome !== 'ok' && !about.some((f) => f.severity !== 'info'))
    c.failure = { code: p.outcome, summary: `${p.target} (${p.host}): ${p.error?.message ?? p.outcome}` };
  return c;
}

/** The findings about a layer itself (no target, no file), and why a daemon's probes did not run. */
function layerCase(report: Report, layer: Layer, strict: boolean): Case {
  const own = report.findings.filter((f) => f.layer === layer.id && !f.targets?.length && f.file === undefined);
  const failing = own.find((f) => failsRun(f, strict));
  const c: Case = {
    classname: `mtu-preflight.layer.${layer.id}`,
    name: `${layer.name}: MTU ${layer.mtu ?? 'unknown'}`,
    seconds: 0,
    out: [...layer.notes, ...own.filter((f) => f !== failing).map(describeFinding)],
  };
  if (failing) c.failure = failing;
  else if (isDaemon(layer) && layer.probeImageMissing !== undefined)
    c.skipped = `no probes inside this daemon: ${layer.probeImageMissing}`;
  return c;
}

/** A skipped case for the Docker side when no daemon layer exists: docker off, or the collector's note (no daemon). */
function dockerSkip(report: Report): Case | undefined {
  if (report.layers.some(isDaemon) || report.settings.lintOnly === true) return undefined;
  const note = report.layers.flatMap((l) => l.notes).find((n) => n.startsWith('docker:'));
  const why = report.settings.docker === 'off' ? 'docker: off (--docker off)' : note;
  if (why === undefined) return undefined;
  return {
    classname: 'mtu-preflight.docker',
    name: 'probes inside Docker containers',
    seconds: 0,
    skipped: why,
    out: [],
  };
}

function lintCases(report: Report, strict: boolean): Case[] {
  if (!report.lint) return [];
  const found = report.findings.filter((f) => f.file !== undefined);
  if (found.length === 0) {
    const base = { classname: 'mtu-preflight.lint', name: 'CI config files', seconds: 0, out: report.lint.notes };
    if (report.lint.uplinkMtu === undefined) return [{ ...base, skipped: report.lint.notes.join('; ') || 'skipped' }];
    return [{ ...base, out: [...base.out, `no MTU problem against an uplink MTU of ${report.lint.uplinkMtu}`] }];
  }
  return found.map((f) => {
    const c: Case = {
      classname: 'mtu-preflight.lint',
      name: `${f.file}:${f.line ?? 1} ${f.code}`,
      seconds: 0,
      out: [],
      file: f.file,
      ...(f.line !== undefined && f.line >= 1 ? { line: f.line } : {}),
    };
    if (f.code === 'ci-config-unchecked') c.skipped = `${f.file}: ${f.evidence[0] ?? f.summary}`;
    else if (failsRun(f, strict)) c.failure = f;
    else c.out.push(describeFinding(f));
    return c;
  });
}

function renderCase(c: Case): string {
  const place =
    (c.file !== undefined ? ` file="${xml(c.file)}"` : '') + (c.line !== undefined ? ` line="${c.line}"` : '');
  const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}"${place} time="${c.seconds.toFixed(3)}"`;
  const body: string[] = [];
  if (c.failure) {
    const text = 'evidence' in c.failure ? describeFinding(c.failure) : `${c.failure.code}: ${c.failure.summary}`;
    body.push(
      `      <failure message="${xml(`${c.failure.code}: ${c.failure.summary}`)}" type="${xml(c.failure.code)}">${xml(text)}</failure>`,
    );
  }
  if (c.skipped !== undefined) body.push(`      <skipped message="${xml(c.skipped)}"/>`);
  if (c.out.length > 0) body.push(`      <system-out>${xml(c.out.join('\n'))}</system-out>`);
  return body.length === 0 ? `${open}/>` : [`${open}>`, ...body, '    </testcase>'].join('\n');
}

function renderSuite(name: string, cases: Case[], report: Report): string {
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined && !c.failure).length;
  const time = cases.reduce((s, c) => s + c.seconds, 0).toFixed(3);
  const head =
    `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="0" ` +
    `skipped="${skipped}" time="${time}" timestamp="${xml(report.startedAt.replace(/Z$/, ''))}">`;
  return [head, ...cases.map(renderCase), '  </testsuite>'].join('\n');
}

export function renderJunit(report: Report): string {
  const strict = report.settings.strict === true;
  const byId = new Map(report.layers.map((l) => [l.id, l]));
  const probes: Case[] = [];
  // --lint-only probes nothing: its runner layer is a placeholder, not a check that passed.
  for (const layer of report.settings.lintOnly === true ? [] : report.layers) {
    probes.push(layerCase(report, layer, strict));
    for (const p of layer.probes) probes.push(probeCase(report, layer, p, byId, strict));
  }
  const skip = dockerSkip(report);
  if (skip) probes.push(skip);
  const suites = probes.length > 0 ? [renderSuite('mtu-preflight probes', probes, report)] : [];
  const lint = lintCases(report, strict);
  if (lint.length > 0) suites.push(renderSuite('mtu-preflight CI config lint', lint, report));
  const all = [...probes, ...lint];
  const failures = all.filter((c) => c.failure).length;
  const time = (report.durationMs / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mtu-preflight" tests="${all.length}" failures="${failures}" errors="0" time="${time}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
