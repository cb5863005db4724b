/**
 * Docker networks as layers: what the inspection says of each (with the notes a reader needs to weigh its MTU),
 * this run's temporary verification networks, and docker_gwbridge when it appeared with our overlay probe.
 */
import {
  GWBRIDGE,
  IDLE_BRIDGE_REPORTS_MTU_SINCE,
  isParentDriver,
  MTU_OPTION,
  PODMAN_MTU_OPTION,
  VXLAN_OVERHEAD,
} from '../../model/net.js';
import type { DockerDaemonLayer, DockerNetworkLayer } from '../../model/layers.js';
import { egressOf } from './containers.js';
import { networkLayerId } from './ids.js';
import type { DockerNetwork } from './inspect.js';
import type { InnerRun } from './runs.js';

/** A Podman network: its MTU as Podman stores it (the option `mtu`), and what Podman does without one. */
function podmanNetworkNotes(n: DockerNetwork): string[] {
  if (n.driver !== 'bridge') return [];
  if (n.mtuOption !== undefined) return [`Podman network option ${PODMAN_MTU_OPTION}=${n.mtuOption}`];
  return [
    `no ${PODMAN_MTU_OPTION} option: Podman's bridge default 1500 (Podman does not take the host's MTU, podman#20009)${n.isDefault ? "; the default network's own MTU cannot be set (podman#27917): a network created with the option, made the default in containers.conf, can" : ''}`,
  ];
}

/** What the inspection says about a network that a reader of the report needs to weigh its MTU. */
function networkNotes(n: DockerNetwork, major: number | undefined, podman = false): string[] {
  if (podman) return podmanNetworkNotes(n);
  const notes: string[] = [];
  if (n.isDefault && major !== undefined && major < IDLE_BRIDGE_REPORTS_MTU_SINCE) {
    notes.push(
      `Docker ${major}: ${n.bridge ?? 'docker0'} itself reads 1500 while no container is attached (moby#36659); the MTU here is the network's option and what a container saw`,
    );
  }
  if (n.isDefault && n.bridge && n.bridge !== 'docker0')
    notes.push(`dockerd --bridge=${n.bridge}: the default network is the host's own bridge ${n.bridge}`);
  if (n.mtuOption === undefined && n.driver === 'bridge') {
    notes.push(
      `no ${MTU_OPTION} option: the bridge driver's default 1500 (dockerd --mtu applies to the default bridge only${n.gwbridge ? ', not to docker_gwbridge' : ''})`,
    );
  }
  if (n.driver === 'overlay') {
    const given = n.mtuOption !== undefined ? `${MTU_OPTION}=${n.mtuOption}` : 'no option (1500)';
    notes.push(
      `overlay: containers get MTU ${n.mtu}: ${given} taken as the underlay's MTU, minus ${VXLAN_OVERHEAD} bytes of VXLAN${n.encrypted ? ' and the ESP of --opt encrypted' : ''}`,
    );
    if (n.ingress)
      notes.push(
        'the routing mesh (ingress): it carries published ports of swarm services; checked by its options only',
      );
    else if (!n.attachable)
      notes.push('not attachable: only swarm services join it, so it is checked by its options only');
  }
  // (An MTU option on a macvlan/ipvlan network does nothing: docker-parent's mtu-option-ignored says so.)
  if (isParentDriver(n.driver) && !n.parent)
    notes.push(`no parent: Docker made a dummy interface, so containers on it reach nothing outside the network`);
  return notes;
}

function networkName(n: DockerNetwork): string {
  // docker_gwbridge is both the network's and the bridge's name: say it once.
  if (n.bridge) return n.bridge === n.name ? n.name : `${n.name} (${n.bridge})`;
  if (n.driver === 'overlay') return `${n.name} (overlay${n.ingress ? ', ingress' : ''})`;
  if (isParentDriver(n.driver)) return `${n.name} (${n.driver}${n.parent ? ` on ${n.parent}` : ''})`;
  return n.name;
}

export function networkLayer(
  n: DockerNetwork,
  parent: string,
  major: number | undefined,
  podman = false,
): DockerNetworkLayer {
  const composeProject = n.labels['com.docker.compose.project'];
  return {
    id: networkLayerId(n.name),
    kind: 'docker-network',
    name: networkName(n),
    parent,
    ...(n.mtu !== undefined ? { mtu: n.mtu } : {}),
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: networkNotes(n, major, podman),
    network: n.name,
    driver: n.driver,
    purpose: 'existing',
    isDefault: n.isDefault,
    internal: n.internal,
    subnets: n.subnets,
    gwbridge: n.gwbridge === true,
    ...(n.bridge ? { bridge: n.bridge } : {}),
    ...(n.mtuOption !== undefined ? { mtuOption: n.mtuOption } : {}),
    ...(n.origin ? { origin: n.origin } : {}),
    ...(composeProject ? { composeProject } : {}),
    ...(n.scope ? { scope: n.scope } : {}),
    ...(n.driver === 'overlay'
      ? { overlay: { attachable: n.attachable === true, ingress: n.ingress === true, encrypted: n.encrypted === true } }
      : {}),
    ...(n.parent ? { parentIface: { name: n.parent } } : {}),
    ...(n.mode ? { mode: n.mode } : {}),
  };
}

export function verificationNetworkLayer(mtu: number, parent: string): DockerNetworkLayer {
  return {
    id: networkLayerId(`verify-${mtu}`),
    kind: 'docker-network',
    name: `temporary network, MTU ${mtu} (verification)`,
    parent,
    mtu,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [],
    network: `verify-${mtu}`,
    driver: 'bridge',
    purpose: 'verify',
    isDefault: false,
    internal: false,
    subnets: [],
    gwbridge: false,
    mtuOption: mtu,
  };
}

/**
 * The docker_gwbridge layer the overlay containers left by: the one GET /networks listed, else the one inspected after
 * the probes (Docker creates docker_gwbridge when the first container on an overlay starts on a node, so our probe
 * may have made it), else what the containers saw on their way-out interface.
 */
export function gwbridgeLayer(
  nets: DockerNetworkLayer[],
  daemon: DockerDaemonLayer,
  runs: Array<{ net: DockerNetwork; run: InnerRun }>,
  inspected: DockerNetwork | undefined,
): DockerNetworkLayer | undefined {
  const listed = nets.find((l) => l.gwbridge);
  if (listed) return listed;
  const first = runs[0]!.net.name;
  if (inspected) {
    const layer = networkLayer(inspected, daemon.id, undefined);
    layer.notes.push(
      `not there before this run: Docker created ${GWBRIDGE} when the probe container joined overlay ${first} (it does on a node's first overlay container, with the bridge driver's defaults unless it was created beforehand)`,
    );
    return layer;
  }
  const seen = runs.map((r) => egressOf(r.run)).find((e) => e !== undefined);
  if (!seen) return undefined;
  return {
    id: networkLayerId(GWBRIDGE),
    kind: 'docker-network',
    name: GWBRIDGE,
    parent: daemon.id,
    mtu: seen.mtu,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [`could not inspect ${GWBRIDGE}: its MTU is what the container on overlay ${first} saw on ${seen.iface}`],
    network: GWBRIDGE,
    driver: 'bridge',
    purpose: 'existing',
    isDefault: false,
    internal: false,
    subnets: [],
    bridge: GWBRIDGE,
    gwbridge: true,
  };
}
