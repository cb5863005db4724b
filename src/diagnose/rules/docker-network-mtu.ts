/**
 * Docker networks nothing probed, whose MTU is above what the daemon's traffic leaves by. The usual case is
 * dockerd --mtu N with user-defined networks (compose, `docker network create`, GitHub `container:` jobs) left at
 * 1500: --mtu applies to the default bridge only (moby#28314, moby#34981, moby#43197).
 * Reference MTU: the daemon namespace's uplink when it was probed, else the default bridge's MTU when dockerd was
 * given a lower one (the operator's statement of the path MTU).
 */
import type { DockerNetworkLayer } from '../../model/layers.js';
import { ETHERNET_MTU, MTU_OPTION, mssFor } from '../../model/net.js';
import type { Finding } from '../../model/report.js';
import type { DiagnosisInput, Rule } from '../rule.js';
import {
  childrenOf,
  daemonOf,
  existingNetworks,
  fixForDaemonNetwork,
  isGwbridge,
  isOverlay,
  networkText,
  onParent,
  uplinkText,
} from './docker-common.js';

export const dockerNetworkMtu: Rule = {
  id: 'docker-network-mtu',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const net of existingNetworks(input.layers)) {
      // An internal network has no way out: its MTU meets no smaller hop.
      if (net.mtu === undefined || net.internal) continue;
      // Overlays (VXLAN inside the underlay) and macvlan/ipvlan (the parent's MTU) have rules of their own.
      if (isOverlay(net) || onParent(net)) continue;
      if (childrenOf(input.layers, net).some((c) => c.probes.length > 0)) continue; // docker-blackhole judged it
      const daemon = daemonOf(input.layers, net);
      if (!daemon) continue;
      const defaultBridge = input.layers.find(
        (l): l is DockerNetworkLayer => l.kind === 'docker-network' && l.parent === daemon.id && l.isDefault,
      );
      const option = defaultBridge?.mtuOption;
      const dockerdMtu = option !== undefined && option < ETHERNET_MTU ? option : undefined;
      const ref = daemon.mtu ?? (net.isDefault ? undefined : dockerdMtu);
      if (ref === undefined || net.mtu <= ref) continue;
      const name = net.network;
      const isDefault = net.isDefault;
      const against = daemon.mtu !== undefined ? uplinkText(daemon) : `the default bridge's MTU ${ref} (dockerd --mtu)`;
      const why =
        !isDefault && dockerdMtu !== undefined
          ? ` dockerd --mtu=${dockerdMtu} applies to the default bridge only; this network kept ${net.mtu}.`
          : '';
      const role = isGwbridge(net)
        ? ' Containers on swarm overlays reach everything outside the swarm through it.'
        : '';
      findings.push({
        code: 'mtu-mismatch',
        severity: 'warning',
        layer: net.id,
        summary: `${networkText(net)} MTU ${net.mtu} exceeds ${against}: containers on it advertise MSS ${mssFor(net.mtu)} and their large downloads stall wherever ICMP "fragmentation needed" is filtered.${why}${role}`,
        evidence: [
          `${name}: driver ${net.driver}, ${net.mtuOption !== undefined ? `${MTU_OPTION}=${net.mtuOption}` : `no ${MTU_OPTION} option (driver default)`}`,
          ...(dockerdMtu !== undefined ? [`default bridge: ${MTU_OPTION}=${dockerdMtu}`] : []),
          ...(daemon.mtu !== undefined ? [`daemon namespace uplink MTU ${daemon.mtu}`] : []),
          ...(net.origin
            ? [`created by ${net.origin}${net.composeProject ? ` (project ${net.composeProject})` : ''}`]
            : []),
        ],
        recommendedMtu: ref,
        fix: fixForDaemonNetwork(input.ci, net, ref, daemon),
      });
    }
    return findings;
  },
};
