/** Reading the docker layers (daemon -> network -> container/build step) the way the docker-* rules need them. */
import type { CiFact, Fix, Layer, ProbeResult, Uplink } from '../../model/report.js';
import { fixDockerMtu, fixGwbridgeMtu, fixHostBridgeMtu, fixParentMtu, fixUserNetworkMtu } from '../knobs/fixes.js';
import { fmtBytes, fmtMs } from '../rule.js';

export const isInner = (l: Layer) => l.kind === 'container' || l.kind === 'build-step';

/** The daemon's major version (20 for 20.10.24), from the daemon layer's facts. */
export function engineOf(daemon: Layer | undefined): number | undefined {
  const n = Number.parseInt(String(daemon?.facts?.version ?? ''), 10);
  return Number.isFinite(n) ? n : undefined;
}

export function daemonOf(layers: readonly Layer[], net: Layer): Layer | undefined {
  return layers.find((l) => l.id === net.parent && l.kind === 'docker-daemon');
}

export function childrenOf(layers: readonly Layer[], parent: Layer): Layer[] {
  return layers.filter((l) => l.parent === parent.id && isInner(l));
}

/** The daemon's narrowest uplink (what its namespace's traffic leaves by). */
export function narrowestUplink(layer: Layer): Uplink | undefined {
  return layer.uplinks.reduce<Uplink | undefined>((m, u) => (!m || u.effectiveMtu < m.effectiveMtu ? u : m), undefined);
}

export function uplinkText(daemon: Layer): string {
  const u = narrowestUplink(daemon);
  if (u) return `the daemon's uplink ${u.iface} MTU ${u.effectiveMtu}`;
  return `the daemon's uplink MTU ${daemon.mtu ?? '?'}`;
}

export const isOverlay = (net: Layer) => net.facts?.driver === 'overlay';
export const isGwbridge = (net: Layer) => net.facts?.gwbridge === true;
/** macvlan/ipvlan: their containers take the parent interface's MTU. */
export const isParentDriver = (net: Layer) => net.facts?.driver === 'macvlan' || net.facts?.driver === 'ipvlan';
/** The host's own bridge dockerd was given (`dockerd --bridge=br0`), when the default network is one. */
export function hostBridgeOf(net: Layer): string | undefined {
  const b = net.facts?.bridge;
  return net.facts?.isDefault === true && typeof b === 'string' && b !== 'docker0' ? b : undefined;
}

export function networkText(net: Layer): string {
  const name = String(net.facts?.network ?? net.name);
  if (typeof net.facts?.bridge === 'string') {
    if (net.facts.bridge === name) return `docker network ${name}`;
    return `docker network ${name} (${net.facts.bridge}${hostBridgeOf(net) ? ', dockerd --bridge' : ''})`;
  }
  if (isOverlay(net)) return `docker network ${name} (overlay${net.facts?.ingress === true ? ', ingress' : ''})`;
  if (isParentDriver(net)) return `docker network ${name} (${String(net.facts?.driver)}${typeof net.facts?.parent === 'string' ? ` on ${net.facts.parent}` : ''})`;
  return `docker network ${name}`;
}

/** The way a container's traffic leaves it: eth0, or eth1 (docker_gwbridge) for a container on an overlay. */
export function egressText(c: Layer): string {
  const iface = typeof c.facts?.egressIface === 'string' ? c.facts.egressIface : 'eth0';
  const overlay = typeof c.facts?.overlay === 'string' ? `eth0 on overlay ${c.facts.overlay} MTU ${c.facts.overlayMtu ?? '?'}, ` : '';
  return `${overlay}${iface} MTU ${c.mtu ?? '?'}${c.mtu ? ` (advertises MSS ${c.mtu - 40})` : ''}`;
}

/** The fix for a network whose MTU is above the path, by what kind of network it is and who made it. */
export function fixForNetwork(ci: CiFact, net: Layer, mtu: number, engine: number | undefined): Fix {
  const hostBridge = hostBridgeOf(net);
  if (hostBridge) return fixHostBridgeMtu(ci, hostBridge, mtu, engine);
  if (net.facts?.isDefault === true) return fixDockerMtu(ci, mtu, engine);
  if (isGwbridge(net)) return fixGwbridgeMtu(mtu);
  if (isParentDriver(net) && typeof net.facts?.parent === 'string') return fixParentMtu(String(net.facts.driver), String(net.facts.network ?? net.name), net.facts.parent, mtu);
  return fixUserNetworkMtu(
    ci,
    {
      name: String(net.facts?.network ?? net.name),
      ...(typeof net.facts?.origin === 'string' ? { origin: net.facts.origin } : {}),
      ...(typeof net.facts?.composeProject === 'string' ? { composeProject: net.facts.composeProject } : {}),
    },
    mtu,
    engine,
  );
}

/** "2.0 MB in 0.1 s" for a successful probe. */
export function fetched(p: ProbeResult): string {
  const bodyMs = (p.phases.doneMs ?? 0) - (p.phases.ttfbMs ?? 0);
  return `${fmtBytes(p.bytes)} in ${fmtMs(p.phases.doneMs)}${p.phases.ttfbMs !== undefined ? ` (body ${fmtMs(bodyMs)})` : ''}`;
}

const PHASE = { connect: 'the TLS handshake', tls: 'the TLS handshake', headers: 'the response', body: 'the download' } as const;

/** "TCP connected in 7 ms, then the TLS handshake stalled (0 B, nothing for 3.0 s)". */
export function stalledText(p: ProbeResult): string {
  const phase = PHASE[p.stall?.phase ?? 'tls'];
  return `TCP connected in ${fmtMs(p.phases.connectMs)}, then ${phase} stalled (${fmtBytes(p.stall?.afterBytes ?? p.bytes)} received, then nothing for ${fmtMs(p.stall?.idleMs)})`;
}

export function probeLine(where: string, p: ProbeResult): string {
  if (p.outcome === 'ok') return `${where}: ${p.url} fetched ${fetched(p)}`;
  if (p.outcome === 'stall') return `${where}: ${p.url} ${stalledText(p)}`;
  return `${where}: ${p.url} ${p.outcome}${p.error ? ` (${p.error.code})` : ''} after ${fmtMs(p.phases.doneMs)}`;
}

export interface Attempt {
  mtu: number;
  ok: boolean;
  probes: ProbeResult[];
  note?: string;
}

/** The verification networks of a daemon and what their containers measured, largest MTU first. */
export function verificationAttempts(layers: readonly Layer[], daemon: Layer): Attempt[] {
  const nets = layers.filter((l) => l.kind === 'docker-network' && l.parent === daemon.id && l.facts?.purpose === 'verify' && l.mtu !== undefined);
  return nets
    .map((n) => {
      const c = childrenOf(layers, n)[0];
      const probes = c?.probes ?? [];
      const note = c?.notes.find((x) => x.startsWith('no probe result'));
      return { mtu: n.mtu!, ok: probes.length > 0 && probes.every((p) => p.outcome === 'ok'), probes, ...(note ? { note } : {}) };
    })
    .sort((a, b) => b.mtu - a.mtu);
}

export function attemptText(a: Attempt): string {
  if (a.ok) {
    const p = a.probes[0]!;
    return `a network with MTU ${a.mtu} fetched ${fmtBytes(p.bytes)} in ${fmtMs(p.phases.doneMs)}`;
  }
  const stalled = a.probes.find((p) => p.outcome === 'stall');
  if (stalled) return `a network with MTU ${a.mtu} still stalled (${PHASE[stalled.stall?.phase ?? 'tls']}, nothing for ${fmtMs(stalled.stall?.idleMs)})`;
  const other = a.probes.find((p) => p.outcome !== 'ok');
  if (other) return `a network with MTU ${a.mtu}: ${other.outcome}${other.error ? ` (${other.error.code})` : ''}`;
  return `a network with MTU ${a.mtu}: ${a.note ?? 'no result'}`;
}
