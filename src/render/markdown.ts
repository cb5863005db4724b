/**
 * The GitHub job summary (GitHub-flavoured markdown): verdict and diagnosis first, then the path as a
 * mermaid flowchart with the blamed hop in red, the findings with their fixes, and the layers and probes
 * as tables. Output depends on the report only (no clock, no environment), so it can be snapshot-tested.
 */
import { maskSecrets } from '../util/redact.js';
import type { Finding, FixStep, Report, Severity, Verdict } from '../model/report.js';
import {
  INTERFACE_COLUMNS,
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
import { buildTopology, type TopoNode, type Topology } from './topology.js';

const VERDICT_EMOJI: Record<Verdict, string> = { pass: '✅', warn: '⚠️', fail: '❌' };
const SEVERITY_EMOJI: Record<Severity, string> = { error: '❌', warning: '⚠️', info: 'ℹ️' };

/**
 * Prose: mask credentials before escaping (the mask's `***` would otherwise turn into emphasis), and
 * keep `<`, `>`, `*` and backticks literal. `_` stays as is: GFM ignores it inside words and escaping it
 * would break autolinked URLs.
 */
export function escapeMarkdown(s: string): string {
  return maskSecrets(s)
    .replace(/\\/g, '\\\\')
    .replace(/[`*]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A table cell: prose escaping, plus `|` (a column break) and newlines (a row break). */
export function escapeTableCell(s: string): string {
  return escapeMarkdown(s).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/**
 * A mermaid label inside `["..."]`: characters that end the label or the shape, or start an entity,
 * become mermaid's `#NN;` entity codes.
 */
export function escapeMermaid(s: string): string {
  return maskSecrets(s).replace(/[#"&<>[\]{}|`]/g, (c) => `#${c.charCodeAt(0)};`);
}

function table(
  header: readonly string[],
  rows: readonly string[][],
  numeric: ReadonlySet<string> = new Set(),
): string[] {
  return [
    `| ${header.map(escapeTableCell).join(' | ')} |`,
    `|${header.map((h) => (numeric.has(h) ? ' --: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(escapeTableCell).join(' | ')} |`),
  ];
}

/** A code fence longer than any backtick run in the snippet, so the snippet cannot close it. */
function fence(snippet: string, language: string): string[] {
  const longest = Math.max(0, ...(snippet.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return [`${ticks}${language.replace(/[^\w+-]/g, '')}`, ...maskSecrets(snippet).split('\n'), ticks];
}

const NODE_SHAPE: Record<TopoNode['kind'], [string, string]> = {
  internet: ['(["', '"])'],
  uplink: ['{{"', '"}}'],
  layer: ['["', '"]'],
  bridge: ['[["', '"]]'],
};

// GitHub's own palette (danger and attention), readable in light and dark themes.
const CLASS_DEFS = [
  'classDef bad fill:#ffebe9,stroke:#d1242f,stroke-width:2px,color:#1f2328',
  'classDef warn fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#1f2328',
];
const EDGE_STYLE: Record<Severity, string> = {
  error: 'stroke:#d1242f,stroke-width:3px',
  warning: 'stroke:#9a6700,stroke-width:3px',
  info: 'stroke:#0969da,stroke-width:2px',
};
const NODE_CLASS: Record<Severity, string> = { error: 'bad', warning: 'warn', info: 'warn' };

export function renderMermaid(topo: Topology): string[] {
  const lines = ['```mermaid', 'flowchart TD'];
  for (const n of topo.nodes) {
    const [open, close] = NODE_SHAPE[n.kind];
    const label = [n.title, n.detail].filter(Boolean).map(escapeMermaid).join('<br/>');
    lines.push(`  ${n.id}${open}${label}${close}`);
  }
  for (const e of topo.edges) {
    lines.push(
      e.codes.length ? `  ${e.from} -->|${escapeMermaid(e.codes.join(', '))}| ${e.to}` : `  ${e.from} --> ${e.to}`,
    );
  }
  const marked = topo.nodes.filter((n) => n.severity);
  const markedEdges = topo.edges.map((e, i) => [e, i] as const).filter(([e]) => e.severity);
  if (marked.length || markedEdges.length) lines.push(...CLASS_DEFS.map((d) => `  ${d}`));
  for (const n of marked) lines.push(`  class ${n.id} ${NODE_CLASS[n.severity!]}`);
  // linkStyle addresses edges by their declaration order.
  for (const [e, i] of markedEdges) lines.push(`  linkStyle ${i} ${EDGE_STYLE[e.severity!]}`);
  lines.push('```');
  return lines;
}

function renderFixStep(step: FixStep, index: number): string[] {
  return [
    `${index + 1}. ${escapeMarkdown(step.title)}`,
    '',
    ...fence(step.snippet, step.language).map((l) => (l ? `   ${l}` : l)),
    '',
  ];
}

function renderFinding(report: Report, f: Finding): string[] {
  const layer = findLayer(report, f.layer);
  const out = [
    `#### ${SEVERITY_EMOJI[f.severity]} \`${f.code}\` (${f.severity}) in ${escapeMarkdown(describeLayer(layer, f.layer))}`,
    '',
    escapeMarkdown(f.summary),
    '',
  ];
  if (f.file) out.push(`At \`${f.file.replace(/`/g, "'")}${f.line !== undefined ? `:${f.line}` : ''}\``, '');
  if (f.evidence.length) out.push('**Evidence**', '', ...f.evidence.map((e) => `- ${escapeMarkdown(e)}`), '');
  if (f.recommendedMtu !== undefined || f.verified) {
    const rec =
      f.recommendedMtu !== undefined
        ? `**Recommended MTU: ${f.recommendedMtu}**`
        : '**Recommended MTU:** none measured';
    out.push(`${rec}${f.verified ? ` (${escapeMarkdown(describeVerified(f.verified))})` : ''}`, '');
  }
  if (f.fix) {
    out.push(`**Fix:** ${escapeMarkdown(f.fix.summary)}`, '');
    f.fix.steps.forEach((s, i) => out.push(...renderFixStep(s, i)));
  }
  return out;
}

function renderLayers(report: Report): string[] {
  const out = ['### Layers', ''];
  for (const { layer } of orderLayers(report.layers)) {
    const parent = layer.parent !== undefined ? findLayer(report, layer.parent) : undefined;
    out.push(`#### ${escapeMarkdown(layer.name)}`, '');
    out.push(
      `${layer.kind}, MTU ${layer.mtu ?? 'unknown'}${parent ? `, leaves via ${escapeMarkdown(describeLayer(parent, layer.parent!))}` : ''}`,
      '',
    );
    const facts = describeLayerFacts(layer);
    if (facts) out.push(`Facts: ${escapeMarkdown(facts)}`, '');
    if (layer.uplinks.length) {
      out.push('Uplinks:', '');
      for (const { uplink, targets } of groupUplinks(layer.uplinks)) {
        out.push(
          `- ${escapeMarkdown(describeUplink(uplink, targets))}${uplink.explanation ? `: ${escapeMarkdown(uplink.explanation)}` : ''}`,
        );
      }
      out.push('');
    }
    const { shown, hidden } = selectInterfaces(layer);
    if (shown.length) out.push(...table(INTERFACE_COLUMNS, shown.map(interfaceCells), new Set(['MTU'])), '');
    if (hidden)
      out.push(`${hidden} more interface${hidden === 1 ? '' : 's'} (bridge ports and others) in the JSON report.`, '');
    // The lint's notes (report.lint) are said with the runner's own layer, where they were before they had their own place.
    const notes = layer === report.layers[0] ? [...layer.notes, ...(report.lint?.notes ?? [])] : layer.notes;
    if (notes.length) out.push('Notes:', '', ...notes.map((n) => `- ${escapeMarkdown(n)}`), '');
  }
  return out;
}

function renderProbes(report: Report): string[] {
  const layers = orderLayers(report.layers).map(({ layer }) => layer);
  const rows = layers.flatMap((l) => l.probes.map((p) => [l.name, ...probeCells(p)]));
  if (rows.length === 0) return [];
  const proxies = proxiesUsed(layers.flatMap((l) => l.probes));
  return [
    '### Probes',
    '',
    ...table(['layer', ...PROBE_COLUMNS], rows, NUMERIC_PROBE_COLUMNS),
    '',
    `Times are from the start of each probe.${proxies.length ? ` Via proxy ${proxies.map(escapeMarkdown).join(', ')}.` : ''}`,
    '',
  ];
}

export function renderMarkdown(report: Report): string {
  const verdict = VERDICT_LABEL[report.verdict];
  const lines = [
    `## ${VERDICT_EMOJI[report.verdict]} mtu-preflight: ${verdict}`,
    '',
    escapeMarkdown(describeDiagnosis(report)),
    '',
    `<sub>${escapeMarkdown(`${report.tool.name} ${report.tool.version}, ${fmtMs(report.durationMs)}, ${describeCi(report.ci)}, started ${report.startedAt}`)}</sub>`,
    '',
    ...(report.timedOut
      ? ['> [!WARNING]', '> The run hit its timeout: what follows is what was found until then.', '']
      : []),
    ...renderMermaid(buildTopology(report)),
    '',
    ...(report.findings.length
      ? ['### Findings', '', ...report.findings.flatMap((f) => renderFinding(report, f))]
      : []),
    ...renderLayers(report),
    ...renderProbes(report),
    '---',
    '',
    `**${escapeMarkdown(describeExit(report))}**`,
  ];
  return maskSecrets(lines.join('\n')) + '\n';
}
