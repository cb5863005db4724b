/**
 * The path a download takes, as a graph: internet → uplink interface → host layer → docker layers →
 * containers, plus bridges that no layer of their own stands for (an idle docker0). Each node has its
 * MTU; the hop a finding blames (Finding.hops, decided in src/diagnose/hops.ts) carries the finding's
 * code. The markdown renderer draws this graph (mermaid); the text renderer prints it as one line per
 * path. Both draw this one graph, so the two pictures are identical.
 */
import { bridgesOfNetworks } from '../model/layers.js';
import type { Finding, FindingCode, HopEnd, InterfaceKind, Layer, Report, Severity } from '../model/report.js';
import { SEVERITY_RANK, orderLayers } from './phrases.js';

export type TopoNodeKind = 'internet' | 'uplink' | 'layer' | 'bridge';

export interface TopoNode {
  /** Stable within one report: derived from the position in tree order, safe as a mermaid id. */
  id: string;
  kind: TopoNodeKind;
  title: string;
  /** Second line: kind and MTU. */
  detail: string;
  mtu?: number;
  /** For uplinks and bridges: the interface's kind. */
  interfaceKind?: InterfaceKind;
  /** Most severe finding that blames this node. */
  severity?: Severity;
}

export interface TopoEdge {
  from: string;
  to: string;
  /** Codes of the findings that blame this hop, in report order. */
  codes: FindingCode[];
  severity?: Severity;
}

export interface Topology {
  nodes: TopoNode[];
  edges: TopoEdge[];
}

export const INTERNET_NODE_ID = 'internet';

/** The graph as it is built: nodes and edges, and the nodes of each layer that hops name. */
interface Drawing extends Topology {
  layerNode: Map<string, TopoNode>;
  /** Uplink nodes of each root layer: the way into it from the internet. */
  uplinkNodes: Map<string, TopoNode[]>;
  /** Bridge nodes of each layer, with the MTU they are compared against. */
  bridgeNodes: Map<string, TopoNode[]>;
}

const addEdge = (d: Drawing, from: string, to: string) => d.edges.push({ from, to, codes: [] });

/** The interface's MTU and, when a route or a learned path MTU is lower, the path's beside it. */
const uplinkDetail = (u: Layer['uplinks'][number], mtu: number): string =>
  `uplink · ${u.kind} · MTU ${mtu < u.ifaceMtu ? `${u.ifaceMtu} · path MTU ${mtu}` : mtu}`;

/** One node per uplink interface of a root layer: two targets leaving by eth0 are one hop, not two. */
function drawUplinks(d: Drawing, layer: Layer, id: string): void {
  const byIface = new Map<string, TopoNode>();
  for (const u of layer.uplinks) {
    const seen = byIface.get(u.iface);
    if (seen) {
      seen.mtu = Math.min(seen.mtu ?? Infinity, u.effectiveMtu);
      seen.detail = uplinkDetail(u, seen.mtu);
      continue;
    }
    byIface.set(u.iface, {
      id: `${id}U${byIface.size + 1}`,
      kind: 'uplink',
      title: u.iface,
      detail: uplinkDetail(u, u.effectiveMtu),
      mtu: u.effectiveMtu,
      interfaceKind: u.kind,
    });
  }
  const ups = [...byIface.values()];
  d.uplinkNodes.set(layer.id, ups);
  for (const up of ups) {
    d.nodes.push(up);
    addEdge(d, INTERNET_NODE_ID, up.id);
    addEdge(d, up.id, id);
  }
  if (ups.length === 0) addEdge(d, INTERNET_NODE_ID, id);
}

/** The bridges under a layer that no docker network layer of its own stands for (an idle docker0). */
function drawBridges(d: Drawing, layer: Layer, id: string, layers: readonly Layer[]): void {
  // A docker-network layer stands for its bridge; drawing the bridge again under the daemon would double it.
  const skip = bridgesOfNetworks(layer, layers);
  const bridges: TopoNode[] = [];
  for (const br of layer.interfaces) {
    if (br.kind !== 'bridge' || skip.has(br.name)) continue;
    const ports = br.ports?.length ?? 0;
    const b: TopoNode = {
      id: `${id}B${bridges.length + 1}`,
      kind: 'bridge',
      title: br.name,
      detail: `bridge · MTU ${br.mtu} · ${ports ? `${ports} port${ports === 1 ? '' : 's'}` : 'no ports'}`,
      mtu: br.mtu,
      interfaceKind: br.kind,
    };
    bridges.push(b);
    d.nodes.push(b);
    addEdge(d, id, b.id);
  }
  d.bridgeNodes.set(layer.id, bridges);
}

/** The hops each finding blames (src/diagnose/hops.ts): marked on the edge, and on the bridge or layer it blames. */
function markHops(d: Drawing, findings: readonly Finding[]): void {
  const blame = (from: string | undefined, to: string | undefined, f: Finding) => {
    const edge = d.edges.find((e) => e.from === from && e.to === to);
    if (!edge) return;
    if (!edge.codes.includes(f.code)) edge.codes.push(f.code);
    edge.severity = moreSevere(edge.severity, f.severity);
  };
  const blameNode = (node: TopoNode | undefined, f: Finding) => {
    if (node) node.severity = moreSevere(node.severity, f.severity);
  };
  const bridgeNode = (end: HopEnd) =>
    end.kind === 'interface' ? d.bridgeNodes.get(end.layer)?.find((b) => b.title === end.iface) : undefined;
  const nodeOf = (end: HopEnd): string | undefined => {
    if (end.kind === 'internet') return INTERNET_NODE_ID;
    if (end.kind === 'layer') return d.layerNode.get(end.layer)?.id;
    return (bridgeNode(end) ?? d.uplinkNodes.get(end.layer)?.find((u) => u.title === end.iface))?.id;
  };
  for (const f of findings) {
    const hops = f.hops ?? [];
    for (const hop of hops) blame(nodeOf(hop.from), nodeOf(hop.to), f);
    const bridges = hops.map((h) => bridgeNode(h.to)).filter((b): b is TopoNode => b !== undefined);
    if (bridges.length) for (const b of bridges) blameNode(b, f);
    else if (hops.length) blameNode(d.layerNode.get(f.layer), f);
  }
}

export function buildTopology(report: Report): Topology {
  const d: Drawing = {
    nodes: [{ id: INTERNET_NODE_ID, kind: 'internet', title: 'registries / internet', detail: '' }],
    edges: [],
    layerNode: new Map(),
    uplinkNodes: new Map(),
    bridgeNodes: new Map(),
  };
  orderLayers(report.layers).forEach(({ layer, depth }, index) => {
    const id = `L${index + 1}`;
    const node: TopoNode = {
      id,
      kind: 'layer',
      title: layer.name,
      detail: `${layer.kind} · MTU ${layer.mtu ?? '?'}`,
      ...(layer.mtu !== undefined ? { mtu: layer.mtu } : {}),
    };
    d.nodes.push(node);
    d.layerNode.set(layer.id, node);
    const parent = depth > 0 && layer.parent !== undefined ? d.layerNode.get(layer.parent) : undefined;
    if (parent) addEdge(d, parent.id, id);
    else drawUplinks(d, layer, id);
    if (layer.kind !== 'docker-network' && layer.kind !== 'container') drawBridges(d, layer, id, report.layers);
  });
  markHops(d, report.findings);
  return { nodes: d.nodes, edges: d.edges };
}

function moreSevere(a: Severity | undefined, b: Severity): Severity {
  return a === undefined || SEVERITY_RANK[b] < SEVERITY_RANK[a] ? b : a;
}

/** Every path from the internet to a node with no way further in, as node ids (tree order). */
export function listPaths(topo: Topology): string[][] {
  const out: string[][] = [];
  const walk = (id: string, path: string[]) => {
    const next = topo.edges.filter((e) => e.from === id && !path.includes(e.to));
    if (next.length === 0) {
      out.push(path);
      return;
    }
    for (const e of next) walk(e.to, [...path, e.to]);
  };
  walk(INTERNET_NODE_ID, [INTERNET_NODE_ID]);
  return out;
}
