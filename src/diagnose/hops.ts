/**
 * Which hop of the path a finding blames: where the MTU shrinks. Decided here, once, so that the layer diagram of
 * every renderer marks the same hop and the JSON report says it (Finding.hops).
 */
import { bridgesOfNetworks, type Layer } from '../model/layers.js';
import type { Finding, FindingCode, Hop, HopEnd } from '../model/report.js';

/** Findings about a hop in the path (as opposed to DNS, TLS or HTTP, which are not about MTU). */
const HOP_CODES: ReadonlySet<FindingCode> = new Set(['pmtu-blackhole', 'transfer-stall', 'mtu-mismatch']);

const internet: HopEnd = { kind: 'internet' };
const layerEnd = (l: Layer): HopEnd => ({ kind: 'layer', layer: l.id });
const ifaceEnd = (l: Layer, iface: string): HopEnd => ({ kind: 'interface', layer: l.id, iface });

/** The bridges a layer's diagram shows under it, with their MTU: not those a docker network layer stands for. */
function ownBridges(layer: Layer, layers: readonly Layer[]): Array<{ name: string; mtu: number }> {
  if (layer.kind === 'docker-network' || layer.kind === 'container') return [];
  const skip = bridgesOfNetworks(layer, layers);
  return layer.interfaces.filter((i) => i.kind === 'bridge' && !skip.has(i.name));
}

/**
 * Where the path shrinks on the way out of `layer`: the first hop up the tree into a layer whose MTU exceeds its
 * parent's. Past the root nothing visible shrinks, so the small hop is beyond this machine: the way in from the
 * internet, by each of the root's uplink interfaces.
 */
function wayOut(layer: Layer, byId: ReadonlyMap<string, Layer>): Hop[] {
  let cur = layer;
  for (let guard = 0; guard < byId.size; guard++) {
    const parent = cur.parent !== undefined ? byId.get(cur.parent) : undefined;
    if (!parent) break;
    if (cur.mtu !== undefined && parent.mtu !== undefined && cur.mtu > parent.mtu)
      return [{ from: layerEnd(parent), to: layerEnd(cur) }];
    cur = parent;
  }
  const ifaces = [...new Set(cur.uplinks.map((u) => u.iface))];
  if (ifaces.length === 0) return [{ from: internet, to: layerEnd(cur) }];
  return ifaces.map((i) => ({ from: internet, to: ifaceEnd(cur, i) }));
}

export function blamedHops(f: Finding, layers: readonly Layer[]): Hop[] {
  if (!HOP_CODES.has(f.code) || f.severity === 'info') return [];
  const byId = new Map(layers.map((l) => [l.id, l]));
  const layer = byId.get(f.layer);
  if (!layer) return [];
  if (f.code === 'mtu-mismatch') {
    // The mismatch is between this layer's way out and its own bridges: each bridge larger than it.
    const mtu = layer.mtu;
    const oversized = mtu === undefined ? [] : ownBridges(layer, layers).filter((b) => b.mtu > mtu);
    if (oversized.length) return oversized.map((b) => ({ from: layerEnd(layer), to: ifaceEnd(layer, b.name) }));
    // A docker network no larger than its daemon's path can still be too large for what it is (an overlay needs
    // room for VXLAN in the underlay, a macvlan tunnel parent for its encapsulation): the hop is the way into it.
    const parent = layer.parent !== undefined ? byId.get(layer.parent) : undefined;
    if (
      layer.kind === 'docker-network' &&
      parent &&
      !(layer.mtu !== undefined && parent.mtu !== undefined && layer.mtu > parent.mtu)
    ) {
      return [{ from: layerEnd(parent), to: layerEnd(layer) }];
    }
  }
  return wayOut(layer, byId);
}

/** Every finding with the hops it blames (none for those not about a hop). */
export function withHops(findings: readonly Finding[], layers: readonly Layer[]): Finding[] {
  return findings.map((f) => {
    const hops = blamedHops(f, layers);
    return hops.length ? { ...f, hops } : f;
  });
}
