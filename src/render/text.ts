/**
 * The terminal report: header with the verdict, the path as one line per route in, each layer's
 * uplinks, interfaces and probes, then the findings with their evidence and fix, then one line
 * saying what the exit code means. Plain ANSI colour, only when asked for: the output must read
 * the same in a log file.
 */
import { maskSecrets } from '../util/redact.js';
import type { FixStep, ProbeResult, Report, Severity, Verdict } from '../model/report.js';
import {
  INTERFACE_COLUMNS,
  NONE,
  NUMERIC_PROBE_COLUMNS,
  PROBE_COLUMNS,
  VERDICT_LABEL,
  describeCi,
  describeDiagnosis,
  describeExit,
  describeLayer,
  describeLayerFacts,
  describeUplink,
  describeVerified,
  findLayer,
  fmtMs,
  groupUplinks,
  interfaceCells,
  orderLayers,
  probeCells,
  proxiesUsed,
  selectInterfaces,
} from './phrases.js';
import { INTERNET_NODE_ID, buildTopology, listPaths, type TopoNode, type Topology } from './topology.js';

export interface TextOptions {
  color: boolean;
  /** Wrap prose (summaries, evidence) to this many columns; undefined: do not wrap (logs, files, pipes). */
  width?: number;
}

const ANSI = {
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
} as const;
const RESET = '\x1b[0m';
type Style = keyof typeof ANSI;
export type Paint = (s: string, ...styles: Style[]) => string;

export function painter(color: boolean): Paint {
  return (s, ...styles) => (color && styles.length && s ? `${styles.map((k) => ANSI[k]).join('')}${s}${RESET}` : s);
}

const ANSI_PATTERN = /\x1b\[[0-9;]*m/g;

export function visibleLength(s: string): number {
  return s.replace(ANSI_PATTERN, '').length;
}

const VERDICT_STYLE: Record<Verdict, Style> = { pass: 'green', warn: 'yellow', fail: 'red' };
const SEVERITY_STYLE: Record<Severity, Style> = { error: 'red', warning: 'yellow', info: 'cyan' };
const SEVERITY_ICON: Record<Severity, string> = { error: '✖', warning: '⚠', info: 'ℹ' };

/**
 * Whether to colour, for `color: auto`: NO_COLOR (any non-empty value) wins, then FORCE_COLOR
 * (non-empty and not '0'), then TERM=dumb, then whether the stream is a terminal.
 * An explicit --color always/never beats the environment (no-color.org: user config overrides NO_COLOR).
 */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, option: boolean | 'auto'): boolean {
  if (option !== 'auto') return option;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** Greedy word wrap with a hanging indent; without a width, only the indent. */
function wrap(text: string, indent: string, width: number | undefined, firstIndent = indent): string[] {
  if (width === undefined) return [firstIndent + text];
  const lines: string[] = [];
  let line = firstIndent;
  let lineHasWord = false;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (lineHasWord && visibleLength(line) + 1 + visibleLength(word) > width) {
      lines.push(line);
      line = indent;
      lineHasWord = false;
    }
    line += (lineHasWord ? ' ' : '') + word;
    lineHasWord = true;
  }
  lines.push(line);
  return lines;
}

/** Aligned columns; numbers to the right. Columns empty in every row (all '-') are left out. */
function formatTable(
  header: readonly string[],
  rows: string[][],
  indent: string,
  paint: Paint,
  numeric: ReadonlySet<string> = new Set(),
): string[] {
  const keep = header.map((_, c) => c < 2 || rows.some((r) => r[c] !== NONE));
  const cols = header.map((_, c) => c).filter((c) => keep[c]);
  const widths = cols.map((c) => Math.max(visibleLength(header[c]!), ...rows.map((r) => visibleLength(r[c] ?? ''))));
  const line = (cells: readonly string[]) =>
    indent +
    cols
      .map((c, i) => {
        const cell = cells[c] ?? '';
        const pad = ' '.repeat(widths[i]! - visibleLength(cell));
        return numeric.has(header[c]!) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [paint(line(header), 'dim'), ...rows.map(line)];
}

export function paintOutcome(p: ProbeResult, text: string, paint: Paint): string {
  if (p.outcome === 'ok') return paint(text, 'green');
  if (p.outcome === 'deadline') return paint(text, 'yellow');
  return paint(text, 'red');
}

function nodeText(n: TopoNode): string {
  if (n.kind === 'internet') return 'internet';
  if (n.kind === 'uplink' || n.kind === 'bridge') return `${n.title} (${n.interfaceKind}) ${n.mtu}`;
  return `${n.title} ${n.mtu ?? '?'}`;
}

/** One line per way in: "internet → eth0 (vxlan) 1450 → runner 1450 ─[pmtu-blackhole]→ ci-net 1500". */
function renderPaths(topo: Topology, paint: Paint): string[] {
  const byId = new Map(topo.nodes.map((n) => [n.id, n]));
  return listPaths(topo).map((ids) => {
    let line = '  ';
    ids.forEach((id, i) => {
      const node = byId.get(id)!;
      if (i > 0) {
        const edge = topo.edges.find((e) => e.from === ids[i - 1] && e.to === id);
        line += edge?.severity
          ? ` ${paint(`─[${SEVERITY_ICON[edge.severity]} ${edge.codes.join(', ')}]→`, SEVERITY_STYLE[edge.severity], 'bold')} `
          : ' → ';
      }
      const text = nodeText(node);
      line += node.severity
        ? paint(text, SEVERITY_STYLE[node.severity])
        : id === INTERNET_NODE_ID
          ? paint(text, 'dim')
          : text;
    });
    return line;
  });
}

function renderLayers(report: Report, paint: Paint, width: number | undefined): string[] {
  const out: string[] = [];
  for (const { layer } of orderLayers(report.layers)) {
    const parent = layer.parent !== undefined ? findLayer(report, layer.parent) : undefined;
    out.push('');
    out.push(
      `  ${paint(layer.name, 'bold')}  ${paint(layer.kind, 'dim')}  MTU ${layer.mtu ?? '?'}${parent ? paint(`  (leaves via ${describeLayer(parent, layer.parent!)})`, 'dim') : ''}`,
    );
    const facts = describeLayerFacts(layer);
    if (facts) out.push(...wrap(facts, '      ', width, `    ${paint('facts', 'dim')} `));

    for (const { uplink, targets } of groupUplinks(layer.uplinks)) {
      out.push(...wrap(describeUplink(uplink, targets), '           ', width, `    ${paint('uplink', 'dim')} `));
      if (uplink.explanation) out.push(...wrap(uplink.explanation, '           ', width));
    }

    const { shown, hidden } = selectInterfaces(layer);
    if (shown.length) {
      out.push(`    ${paint('interfaces', 'dim')}`);
      out.push(...formatTable(INTERFACE_COLUMNS, shown.map(interfaceCells), '      ', paint, new Set(['MTU'])));
    }
    if (hidden)
      out.push(paint(`      (${hidden} more: bridge ports and other interfaces; see the JSON report)`, 'dim'));

    if (layer.probes.length) {
      out.push(`    ${paint('probes', 'dim')} ${paint('(times from the start of each probe)', 'dim')}`);
      const rows = layer.probes.map((p) => {
        const cells = probeCells(p);
        cells[1] = paintOutcome(p, cells[1]!, paint);
        return cells;
      });
      out.push(...formatTable(PROBE_COLUMNS, rows, '      ', paint, NUMERIC_PROBE_COLUMNS));
      for (const proxy of proxiesUsed(layer.probes)) out.push(`      via proxy ${proxy}`);
    }

    // The lint's notes (report.lint) are said with the runner's own layer, where they were before they had their own place.
    const notes = layer === report.layers[0] ? [...layer.notes, ...(report.lint?.notes ?? [])] : layer.notes;
    if (notes.length) {
      out.push(`    ${paint('notes', 'dim')}`);
      for (const note of notes) out.push(...wrap(note, '        ', width, '      - '));
    }
  }
  return out;
}

function renderFixStep(step: FixStep, index: number, paint: Paint, width: number | undefined): string[] {
  // Snippets are for copying: never wrapped, only indented.
  return [
    ...wrap(step.title, '         ', width, `      ${index + 1}. `),
    ...step.snippet.split('\n').map((l) => (l ? `         ${paint(l, 'cyan')}` : '')),
  ];
}

function renderFindings(report: Report, paint: Paint, width: number | undefined): string[] {
  if (report.findings.length === 0) return ['', paint('Findings', 'bold'), '  none'];
  const out = ['', paint('Findings', 'bold')];
  for (const f of report.findings) {
    const layer = findLayer(report, f.layer);
    out.push('');
    out.push(
      `  ${paint(`${SEVERITY_ICON[f.severity]} ${f.code}`, SEVERITY_STYLE[f.severity], 'bold')}  ${paint(f.severity, SEVERITY_STYLE[f.severity])}` +
        paint(`  in ${describeLayer(layer, f.layer)}`, 'dim'),
    );
    out.push(...wrap(f.summary, '    ', width));
    if (f.file) out.push(`    at ${f.file}${f.line !== undefined ? `:${f.line}` : ''}`);
    if (f.evidence.length) {
      out.push(`    ${paint('evidence', 'dim')}`);
      for (const e of f.evidence) out.push(...wrap(e, '        ', width, '      • '));
    }
    if (f.recommendedMtu !== undefined || f.verified) {
      const rec =
        f.recommendedMtu !== undefined
          ? `recommended MTU ${paint(String(f.recommendedMtu), 'bold')}`
          : 'recommended MTU: none measured';
      out.push(...wrap(`${rec}${f.verified ? `, ${describeVerified(f.verified)}` : ''}`, '      ', width, '    '));
    }
    if (f.fix) {
      out.push(...wrap(f.fix.summary, '         ', width, `    ${paint('fix:', 'bold')} `));
      f.fix.steps.forEach((s, i) => out.push(...renderFixStep(s, i, paint, width)));
    }
  }
  return out;
}

export function renderText(report: Report, options: TextOptions): string {
  const paint = painter(options.color);
  const width = options.width === undefined ? undefined : Math.max(40, options.width);
  const verdict = paint(VERDICT_LABEL[report.verdict], VERDICT_STYLE[report.verdict], 'bold');
  const header = [
    `${paint(report.tool.name, 'bold')} ${report.tool.version}  ${verdict}  ${fmtMs(report.durationMs)}  ${describeCi(report.ci)}`,
    ...(report.timedOut
      ? [paint('The run hit its timeout: what follows is what was found until then.', 'yellow')]
      : []),
    ...wrap(describeDiagnosis(report), '', width),
  ];
  const lines = [
    ...header,
    '',
    paint('Path', 'bold'),
    ...renderPaths(buildTopology(report), paint),
    '',
    paint('Layers', 'bold'),
    ...renderLayers(report, paint, width),
    ...renderFindings(report, paint, width),
    '',
    paint(describeExit(report), VERDICT_STYLE[report.verdict], 'bold'),
  ];
  return maskSecrets(lines.join('\n')) + '\n';
}
