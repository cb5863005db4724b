/**
 * Probe containers (and build steps) as layers, under the network they ran on, and what they saw of it: a container's
 * eth0 beats the network's option (and docker0's idle 1500 before Docker 25).
 */
import type { ContainerVariant, DockerNetworkLayer, InnerLayer } from '../../model/layers.js';
import { GWBRIDGE } from '../../model/net.js';
import type { DockerNetwork } from './inspect.js';
import { containerLayerId } from './ids.js';
import type { InnerRun } from './runs.js';

export function ifaceMtu(run: InnerRun, name = 'eth0'): number | undefined {
  const o = run.output;
  if (!o) return undefined;
  return o.interfaces.find((i) => i.name === name)?.mtu ?? (name === 'eth0' ? o.mtu : undefined);
}

/**
 * The interface a container's probes left by (the route to the targets), with its MTU; when no probe connected, the
 * last container interface (Docker attaches the way-out network, docker_gwbridge, after the overlay).
 */
export function egressOf(run: InnerRun): { iface: string; mtu: number } | undefined {
  const o = run.output;
  if (!o) return undefined;
  const u = o.uplinks.reduce<(typeof o.uplinks)[number] | undefined>(
    (m, x) => (!m || x.effectiveMtu < m.effectiveMtu ? x : m),
    undefined,
  );
  if (u) return { iface: u.iface, mtu: u.effectiveMtu };
  const last = o.interfaces
    .filter((i) => i.kind !== 'loopback')
    .sort((a, b) => a.name.localeCompare(b.name))
    .at(-1);
  return last ? { iface: last.name, mtu: last.mtu } : undefined;
}

/** What a container saw beats the option (and docker0, which lies while idle before Docker 25). */
export function refineNetworkMtu(net: DockerNetworkLayer, run: InnerRun, iface = 'eth0'): void {
  const seen = ifaceMtu(run, iface);
  if (seen === undefined) return;
  if (net.mtu !== undefined && net.mtu !== seen)
    net.notes.push(`option/default says MTU ${net.mtu}, a container on it saw ${iface} MTU ${seen}: using ${seen}`);
  net.mtu = seen;
  net.containerMtu = seen;
}

/**
 * A container on an overlay: eth0 is the overlay (VXLAN), its traffic to the targets leaves by docker_gwbridge
 * (eth1). It hangs under the docker_gwbridge layer, its MTU the way-out interface's; the overlay layer records eth0.
 */
export function overlayContainerLayer(
  net: DockerNetwork,
  overlay: DockerNetworkLayer,
  gw: DockerNetworkLayer | undefined,
  run: InnerRun,
  image: string,
): InnerLayer {
  const out = egressOf(run);
  const overlayIface =
    out && out.iface !== 'eth0'
      ? 'eth0'
      : (run.output?.interfaces.find((i) => i.kind !== 'loopback' && i.name !== out?.iface)?.name ?? 'eth0');
  refineNetworkMtu(overlay, run, overlayIface);
  if (gw && out) refineNetworkMtu(gw, run, out.iface);
  const overlayMtu = ifaceMtu(run, overlayIface);
  const layer = containerLayer(
    containerLayerId(net.name),
    `container on overlay ${net.name}${gw ? ` (leaves by ${GWBRIDGE})` : ''}`,
    'container',
    gw ?? overlay,
    run,
    'overlay',
    image,
  );
  if (out) {
    layer.mtu = out.mtu;
    layer.egressIface = out.iface;
  }
  layer.overlay = { network: net.name, iface: overlayIface, ...(overlayMtu !== undefined ? { mtu: overlayMtu } : {}) };
  return layer;
}

export function containerLayer(
  id: string,
  name: string,
  kind: InnerLayer['kind'],
  parent: DockerNetworkLayer,
  run: InnerRun,
  variant: ContainerVariant,
  image: string,
): InnerLayer {
  const o = run.output;
  const mtu = ifaceMtu(run);
  return {
    id,
    kind,
    name,
    parent: parent.id,
    ...(mtu !== undefined ? { mtu } : {}),
    interfaces: o?.interfaces ?? [],
    uplinks: o?.uplinks ?? [],
    probes: o?.probes ?? [],
    notes: [...(o?.notes ?? []), ...(run.error ? [`no probe result: ${run.error}`] : [])],
    variant,
    network: parent.network,
    image,
    ms: run.ms,
    ...(o?.node ? { node: o.node } : {}),
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
  };
}
