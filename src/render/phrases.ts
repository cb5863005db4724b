/**
 * What the renderers share: how a number, a probe, an interface, a verdict reads. The text and
 * markdown renderers differ only in layout, so every phrase a user sees is decided here, once.
 */
import { ProbeCode } from '../model/errors.js';
import { fmtBytes, fmtMs, fmtRate } from '../model/units.js';
import { layerFacts } from '../model/layer-json.js';
import { exitCodeFor } from '../model/verdict.js';
import {
  CI_LABEL,
  type CiFact,
  type Finding,
  type InterfaceKind,
  type Layer,
  type NetInterface,
  type ProbeResult,
  type Report,
  type Severity,
  type Uplink,
  type Verdict,
} from '../model/report.js';

// The rules phrase their numbers with these; the renderers must print the same units.
export { fmtBytes, fmtMs, fmtRate };

/** Shown where a value was never measured (a phase that did not happen). */
export const NONE = '-';

export const VERDICT_LABEL: Record<Verdict, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

/** Most severe first: the order findings are listed in and the order ties are broken in. */
export const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function fmtOptionalMs(ms: number | undefined): string {
  return ms === undefined ? NONE : fmtMs(ms);
}

export function describeCi(ci: CiFact): string {
  const where = [ci.kubernetes ? 'Kubernetes pod' : '', ci.container ? 'in a container' : ''].filter(Boolean);
  return where.length ? `${CI_LABEL[ci.system]} (${where.join(', ')})` : CI_LABEL[ci.system];
}

/** Layers in tree order (each parent before its children, siblings as collected), with their depth. */
export function orderLayers(layers: readonly Layer[]): Array<{ layer: Layer; depth: number }> {
  const ids = new Set(layers.map((l) => l.id));
  const out: Array<{ layer: Layer; depth: number }> = [];
  const visit = (layer: Layer, depth: number, seen: Set<string>): void => {
    // A parent cycle in a hand-made report must not hang the renderer.
    if (seen.has(layer.id)) return;
    seen.add(layer.id);
    out.push({ layer, depth });
    for (const child of layers) if (child.parent === layer.id) visit(child, depth + 1, seen);
  };
  const seen = new Set<string>();
  // A layer whose parent is missing from the report is shown as a root rather than dropped.
  for (const l of layers) if (l.parent === undefined || !ids.has(l.parent)) visit(l, 0, seen);
  for (const l of layers) if (!seen.has(l.id)) visit(l, 0, seen);
  return out;
}

const TUNNEL_KINDS: ReadonlySet<InterfaceKind> = new Set([
  'vxlan',
  'geneve',
  'wireguard',
  'tun',
  'tap',
  'ipip',
  'sit',
  'gre',
  'ip6tnl',
  'ppp',
]);

export function isTunnel(iface: NetInterface): boolean {
  return TUNNEL_KINDS.has(iface.kind) || iface.tunnelOverhead !== undefined;
}

/**
 * The interfaces worth a line: bridges, tunnels and the uplinks. Loopback never; a bridge's ports
 * are listed on the bridge, and a node with fifty pod veths must not bury the one that matters.
 * A layer with no known uplink (nothing connected, or a container) shows every interface that is
 * not a bridge port, since any of them may be the way out.
 */
export function selectInterfaces(layer: Layer): { shown: NetInterface[]; hidden: number } {
  const uplinkNames = new Set(layer.uplinks.map((u) => u.iface));
  const candidates = layer.interfaces.filter((i) => i.kind !== 'loopback');
  const shown = candidates.filter(
    (i) =>
      i.kind === 'bridge' ||
      isTunnel(i) ||
      uplinkNames.has(i.name) ||
      (uplinkNames.size === 0 && i.master === undefined),
  );
  return { shown, hidden: candidates.length - shown.length };
}

/** "a, b, c +4 more": a bridge can have hundreds of ports. */
export function fmtList(items: readonly string[], max = 4): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} +${items.length - max} more`;
}

export function describePorts(iface: NetInterface): string {
  if (iface.kind !== 'bridge') return '';
  const ports = iface.ports ?? [];
  return ports.length ? `ports: ${fmtList(ports)}` : 'no ports';
}

/** Cells of an interface row: name, kind, MTU, state, master, ports. */
export const INTERFACE_COLUMNS = ['interface', 'kind', 'MTU', 'state', 'master', 'ports'] as const;

export function interfaceCells(iface: NetInterface): string[] {
  const kind = iface.tunnelOverhead ? `${iface.kind} (+${iface.tunnelOverhead} B)` : iface.kind;
  return [iface.name, kind, String(iface.mtu), iface.state, iface.master ?? NONE, describePorts(iface) || NONE];
}

/**
 * Uplinks that read the same (interface, MTU, gateway, why), with the targets that left by them:
 * three registries behind one eth0 are one line, not three.
 */
export function groupUplinks(uplinks: readonly Uplink[]): Array<{ uplink: Uplink; targets: string[] }> {
  const groups = new Map<string, { uplink: Uplink; targets: string[] }>();
  for (const u of uplinks) {
    const key = JSON.stringify([
      u.iface,
      u.ifaceMtu,
      u.routeMtu,
      u.cachedPmtu,
      u.effectiveMtu,
      u.gateway,
      u.explanation,
    ]);
    const g = groups.get(key);
    if (g) {
      if (!g.targets.includes(u.target)) g.targets.push(u.target);
    } else groups.set(key, { uplink: u, targets: [u.target] });
  }
  return [...groups.values()];
}

/** "eth0 MTU 1450 (interface 1500, route mtu 1450) via 10.0.0.1 for registry.npmjs.org, rubygems.org" */
export function describeUplink(u: Uplink, targets: readonly string[] = [u.target]): string {
  const limits = [
    u.routeMtu !== undefined ? `route mtu ${u.routeMtu}` : '',
    u.cachedPmtu !== undefined
      ? `learned path MTU ${u.cachedPmtu}${u.pmtuLearned === 'this-run' ? ' during this run' : u.pmtuLearned === 'earlier' ? ' before this run' : ''}${u.pmtuExpiresSec !== undefined ? `, expires in ${u.pmtuExpiresSec} s` : ''}`
      : '',
  ].filter(Boolean);
  // The interface's MTU and the path's, apart: a learned 1400 on a 1500 eth0 is not "eth0 MTU 1400".
  const mtu = limits.length
    ? `MTU ${u.ifaceMtu}${u.effectiveMtu < u.ifaceMtu ? `, path MTU ${u.effectiveMtu}` : ''} (${limits.join(', ')})`
    : `MTU ${u.effectiveMtu}`;
  return `${u.iface} ${mtu}${u.gateway ? ` via ${u.gateway}` : ''} for ${fmtList(targets)}`;
}

/** Cells of a probe row; both renderers print the same columns in the same order. */
export const PROBE_COLUMNS = [
  'target',
  'outcome',
  'DNS',
  'connect',
  'TLS',
  'TTFB',
  'bytes',
  'throughput',
  'stall',
] as const;

/** Columns holding numbers: right-aligned in both renderers. */
export const NUMERIC_PROBE_COLUMNS: ReadonlySet<string> = new Set([
  'DNS',
  'connect',
  'TLS',
  'TTFB',
  'bytes',
  'throughput',
]);

export function describeOutcome(p: ProbeResult): string {
  // The stall column already says what a stall was; STALL/DEADLINE codes repeat the outcome.
  const code =
    p.error && p.error.code !== ProbeCode.STALL && p.error.code !== ProbeCode.DEADLINE ? p.error.code : undefined;
  const status = p.outcome === 'http-error' && p.status ? String(p.status) : undefined;
  const detail = [status, code, p.insecure ? 'TLS not verified' : undefined].filter(Boolean);
  return detail.length ? `${p.outcome} (${detail.join(', ')})` : p.outcome;
}

export function describeStall(p: ProbeResult): string {
  if (!p.stall) return NONE;
  return `${p.stall.phase} after ${fmtBytes(p.stall.afterBytes)}, idle ${fmtMs(p.stall.idleMs)}`;
}

export function probeCells(p: ProbeResult): string[] {
  const ph = p.phases;
  return [
    // A dual-stack target is probed once per family; the IPv6 row says so (IPv4 is the unmarked default).
    p.family === 6 ? `${p.host} (IPv6)` : p.host,
    describeOutcome(p),
    fmtOptionalMs(ph.dnsMs),
    fmtOptionalMs(ph.connectMs),
    fmtOptionalMs(ph.tlsMs),
    fmtOptionalMs(ph.ttfbMs),
    // The cap ends a healthy probe early: say so, or "2.0 MB" reads like the file's size.
    `${fmtBytes(p.bytes)}${p.capped ? ' (cap)' : ''}`,
    p.throughputBps === undefined ? NONE : fmtRate(p.throughputBps),
    describeStall(p),
  ];
}

/** Probes that went through a proxy, once per proxy: a table column would repeat it on every row. */
export function proxiesUsed(probes: readonly ProbeResult[]): string[] {
  return [...new Set(probes.map((p) => p.viaProxy).filter((v): v is string => !!v))];
}

/** The layer's kind-specific fields as the JSON report's `facts` shows them (key=value, comma-separated). */
export function describeLayerFacts(layer: Layer): string | undefined {
  const facts = Object.entries(layerFacts(layer) ?? {});
  return facts.length ? facts.map(([k, v]) => `${k}=${String(v)}`).join(', ') : undefined;
}

export function describeVerified(v: NonNullable<Finding['verified']>): string {
  return `${v.ok ? 'verified' : 'tried, did not help'}: MTU ${v.mtu}${v.detail ? ` (${v.detail})` : ''}`;
}

function countBySeverity(findings: readonly Finding[]): string {
  const n = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? '' : 's'}`;
  return `${plural(n('error'), 'error')}, ${plural(n('warning'), 'warning')}`;
}

/** The last line of every report: the verdict and what the exit code means. */
export function describeExit(report: Report): string {
  const strict = report.settings.strict === true;
  const code = exitCodeFor(report, strict);
  const counts = countBySeverity(report.findings);
  const verdict = VERDICT_LABEL[report.verdict];
  switch (report.verdict) {
    case 'pass': {
      const probes = report.layers.reduce((n, l) => n + l.probes.length, 0);
      return `${verdict}: exit code ${code} (no problems found${probes ? ` on ${probes} probe${probes === 1 ? '' : 's'}` : ''}).`;
    }
    case 'warn':
      return strict
        ? `${verdict}: exit code ${code} (${counts}; strict makes warnings fail).`
        : `${verdict}: exit code ${code} (${counts}; with strict this would exit 1).`;
    case 'fail':
      return `${verdict}: exit code ${code} (${counts}).`;
  }
}

/** The finding a one-line summary leads with: the most severe, first listed. */
export function topFinding(report: Report): Finding | undefined {
  return [...report.findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity])[0];
}

/**
 * One line under the title: the top finding's code, the hosts it hit, where, and the MTU to set; or that
 * all is well. The finding's own summary follows in the findings section, so it is not repeated here.
 */
export function describeDiagnosis(report: Report): string {
  const top = topFinding(report);
  if (!top || top.severity === 'info') {
    const probes = report.layers.flatMap((l) => l.probes);
    const what = probes.length
      ? `all ${probes.length} probe${probes.length === 1 ? '' : 's'} downloaded fine`
      : 'nothing was probed';
    return `No MTU problem found: ${what}${report.uplinkMtu ? `, uplink MTU ${report.uplinkMtu}` : ''}.`;
  }
  // A rule says each failure once, with every target it hit ("dns-failure for a, b").
  const layer = findLayer(report, top.layer);
  const targets = new Set(top.targets ?? []);
  // A finding on a docker network concerns the probes of the containers on it: look in the layer's subtree.
  const subtree = new Set([top.layer]);
  for (const { layer: l } of orderLayers(report.layers))
    if (l.parent !== undefined && subtree.has(l.parent)) subtree.add(l.id);
  const probes = report.layers.filter((l) => subtree.has(l.id)).flatMap((l) => l.probes);
  const hosts = [...new Set(probes.filter((p) => targets.has(p.target)).map((p) => p.host))];
  // The top finding's own MTU, and only that: another finding's (an overlay's 1400 beside a bridge's 1450, a lint
  // warning beside a DNS failure) is not what this line is about.
  const recommended = top.recommendedMtu;
  const verified = top.verified?.ok && top.verified.mtu === recommended ? ' (verified)' : '';
  const mtu = recommended !== undefined ? `: set the MTU to ${recommended}${verified}` : '';
  const more = report.findings.length - 1;
  return (
    `${top.code}${hosts.length ? ` for ${fmtList(hosts, 3)}` : ''} in ${describeLayer(layer, top.layer)}${mtu}` +
    `${more > 0 ? ` (+${more} more finding${more === 1 ? '' : 's'})` : ''}.`
  );
}

export function findLayer(report: Report, id: string): Layer | undefined {
  return report.layers.find((l) => l.id === id);
}

/**
 * A layer named in a sentence: a network's name alone ("bridge (docker0)", "ci_default") does not say it is a
 * Docker network. Names that already say so ("temporary network, MTU 1450") are left as they are.
 */
export function describeLayer(layer: Layer | undefined, fallbackId: string): string {
  if (!layer) return fallbackId;
  return layer.kind === 'docker-network' && !/\bnetwork\b/i.test(layer.name)
    ? `docker network ${layer.name}`
    : layer.name;
}
