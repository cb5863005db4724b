/** Reading the docker layers (daemon -> network -> container/build step) the way the docker-* rules need them. */
import {
  isInner,
  type DesktopEngine,
  type DockerDaemonLayer,
  type DockerNetworkLayer,
  type InnerLayer,
  type Layer,
} from '../../model/layers.js';
import { isParentDriver, mssFor } from '../../model/net.js';
import type { CiFact, Fix, ProbeResult, Uplink } from '../../model/report.js';
import { fixDockerMtu, fixGwbridgeMtu, fixHostBridgeMtu, fixParentMtu, fixUserNetworkMtu } from '../knobs/fixes.js';
import { fixDesktopNetworkMtu } from '../knobs/desktop.js';
import { fixPodmanNetworkMtu } from '../knobs/podman.js';
import { rootlessDockerSteps } from '../knobs/rootless.js';
import { uplinkMtuText } from '../mechanism.js';
import { fmtBytes, fmtMs } from '../rule.js';

export { isInner };

/** The daemon's major version (20 for 20.10.24); undefined for Podman, whose versions gate no dockerd knob. */
export const engineOf = (daemon: DockerDaemonLayer | undefined): number | undefined =>
  isPodman(daemon) ? undefined : daemon?.version?.major;
export const isPodman = (daemon: DockerDaemonLayer | undefined): boolean => daemon?.engine?.name === 'podman';
/** "the Docker MTU" or "the Podman network's MTU": what a summary tells the reader to set. */
export const engineMtuText = (daemon: DockerDaemonLayer | undefined): string =>
  isPodman(daemon) ? "the Podman network's MTU" : 'the Docker MTU';

/**
 * The fix for a network of this daemon: Podman's own knobs (never daemon.json), a rootless dockerd's tap and
 * daemon.json beside the usual ones, else fixForNetwork's by kind of network.
 */
export function fixForDaemonNetwork(
  ci: CiFact,
  net: DockerNetworkLayer,
  mtu: number,
  daemon: DockerDaemonLayer | undefined,
): Fix {
  // A podman machine's knobs are Podman's, inside the machine (knobs/desktop.ts says where each one is set).
  if (daemon?.desktop?.product === 'podman-machine' && !onParent(net))
    return fixDesktopNetworkMtu(daemon.desktop, net, mtu, undefined);
  if (isPodman(daemon) && !onParent(net))
    return fixPodmanNetworkMtu(
      {
        name: net.network,
        isDefault: net.isDefault,
        ...(net.origin ? { origin: net.origin } : {}),
        ...(net.composeProject ? { composeProject: net.composeProject } : {}),
      },
      mtu,
      daemon?.rootless !== undefined,
    );
  const fix = fixForNetwork(ci, net, mtu, engineOf(daemon), daemon?.desktop);
  return daemon?.rootless && net.isDefault ? { ...fix, steps: [...rootlessDockerSteps(mtu), ...fix.steps] } : fix;
}

export function daemonOf(layers: readonly Layer[], net: Layer): DockerDaemonLayer | undefined {
  return layers.find((l): l is DockerDaemonLayer => l.id === net.parent && l.kind === 'docker-daemon');
}

export function childrenOf(layers: readonly Layer[], parent: Layer): InnerLayer[] {
  return layers.filter((l): l is InnerLayer => l.parent === parent.id && isInner(l));
}

/** The docker networks of the report, less this run's temporary verification networks. */
export function existingNetworks(layers: readonly Layer[]): DockerNetworkLayer[] {
  return layers.filter((l): l is DockerNetworkLayer => l.kind === 'docker-network' && l.purpose !== 'verify');
}

/** The daemon's narrowest uplink (what its namespace's traffic leaves by). */
export function narrowestUplink(layer: Layer): Uplink | undefined {
  return layer.uplinks.reduce<Uplink | undefined>((m, u) => (!m || u.effectiveMtu < m.effectiveMtu ? u : m), undefined);
}

export function uplinkText(daemon: Layer): string {
  const u = narrowestUplink(daemon);
  if (u) return `the daemon's uplink ${uplinkMtuText(u)}`;
  return `the daemon's uplink MTU ${daemon.mtu ?? '?'}`;
}

export const isOverlay = (net: DockerNetworkLayer) => net.driver === 'overlay';
export const isGwbridge = (net: DockerNetworkLayer) => net.gwbridge;
/** macvlan/ipvlan: their containers take the parent interface's MTU. */
export const onParent = (net: DockerNetworkLayer) => isParentDriver(net.driver);
/** The host's own bridge dockerd was given (`dockerd --bridge=br0`), when the default network is one. */
export function hostBridgeOf(net: DockerNetworkLayer): string | undefined {
  return net.isDefault && net.bridge !== undefined && net.bridge !== 'docker0' ? net.bridge : undefined;
}

/** The network as a finding names it: with its bridge, its driver, its parent where they tell it apart. */
export function networkText(net: DockerNetworkLayer): string {
  const name = net.network;
  if (net.bridge !== undefined) {
    if (net.bridge === name) return `docker network ${name}`;
    if (/^podman\d+$/.test(net.bridge)) return `podman network ${name} (${net.bridge})`;
    return `docker network ${name} (${net.bridge}${hostBridgeOf(net) ? ', dockerd --bridge' : ''})`;
  }
  if (isOverlay(net)) return `docker network ${name} (overlay${net.overlay?.ingress ? ', ingress' : ''})`;
  if (onParent(net))
    return `docker network ${name} (${net.driver}${net.parentIface ? ` on ${net.parentIface.name}` : ''})`;
  return `docker network ${name}`;
}

/** The way a container's traffic leaves it: eth0, or eth1 (docker_gwbridge) for a container on an overlay. */
export function egressText(c: InnerLayer): string {
  const iface = c.egressIface ?? 'eth0';
  const overlay = c.overlay ? `eth0 on overlay ${c.overlay.network} MTU ${c.overlay.mtu ?? '?'}, ` : '';
  return `${overlay}${iface} MTU ${c.mtu ?? '?'}${c.mtu ? ` (advertises MSS ${mssFor(c.mtu)})` : ''}`;
}

/**
 * The fix for a network whose MTU is above the path, by what kind of network it is and who made it. `desktop`: the
 * engine runs in Docker Desktop's, colima's or a podman machine's VM, whose own setting is the fix (knobs/desktop.ts).
 */
export function fixForNetwork(
  ci: CiFact,
  net: DockerNetworkLayer,
  mtu: number,
  engine: number | undefined,
  desktop?: DesktopEngine,
): Fix {
  const hostBridge = hostBridgeOf(net);
  if (hostBridge) return fixHostBridgeMtu(ci, hostBridge, mtu, engine);
  if (desktop && !isGwbridge(net) && !onParent(net)) return fixDesktopNetworkMtu(desktop, net, mtu, engine);
  if (net.isDefault) return fixDockerMtu(ci, mtu, engine);
  if (isGwbridge(net)) return fixGwbridgeMtu(mtu);
  if (onParent(net) && net.parentIface) return fixParentMtu(net.driver, net.network, net.parentIface.name, mtu);
  return fixUserNetworkMtu(
    ci,
    {
      name: net.network,
      ...(net.origin ? { origin: net.origin } : {}),
      ...(net.composeProject ? { composeProject: net.composeProject } : {}),
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

const PHASE = {
  connect: 'the TLS handshake',
  tls: 'the TLS handshake',
  headers: 'the response',
  body: 'the download',
} as const;

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
export function verificationAttempts(layers: readonly Layer[], daemon: DockerDaemonLayer): Attempt[] {
  const nets = layers.filter(
    (l): l is DockerNetworkLayer =>
      l.kind === 'docker-network' && l.parent === daemon.id && l.purpose === 'verify' && l.mtu !== undefined,
  );
  return nets
    .map((n) => {
      const c = childrenOf(layers, n)[0];
      const probes = c?.probes ?? [];
      const note = c?.notes.find((x) => x.startsWith('no probe result'));
      return {
        mtu: n.mtu!,
        ok: probes.length > 0 && probes.every((p) => p.outcome === 'ok'),
        probes,
        ...(note ? { note } : {}),
      };
    })
    .sort((a, b) => b.mtu - a.mtu);
}

export function attemptText(a: Attempt): string {
  if (a.ok) {
    const p = a.probes[0]!;
    return `a network with MTU ${a.mtu} fetched ${fmtBytes(p.bytes)} in ${fmtMs(p.phases.doneMs)}`;
  }
  const stalled = a.probes.find((p) => p.outcome === 'stall');
  if (stalled)
    return `a network with MTU ${a.mtu} still stalled (${PHASE[stalled.stall?.phase ?? 'tls']}, nothing for ${fmtMs(stalled.stall?.idleMs)})`;
  const other = a.probes.find((p) => p.outcome !== 'ok');
  if (other) return `a network with MTU ${a.mtu}: ${other.outcome}${other.error ? ` (${other.error.code})` : ''}`;
  return `a network with MTU ${a.mtu}: ${a.note ?? 'no result'}`;
}
