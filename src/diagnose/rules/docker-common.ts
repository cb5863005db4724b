/** Reading the docker layers (daemon -> network -> container/build step) the way the docker-* rules need them. */
import type { Layer, ProbeResult, Uplink } from '../../types.js';
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

export function networkText(net: Layer): string {
  const name = String(net.facts?.network ?? net.name);
  const bridge = typeof net.facts?.bridge === 'string' ? ` (${net.facts.bridge})` : '';
  return `docker network ${name}${bridge}`;
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
