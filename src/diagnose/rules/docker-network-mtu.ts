/**
 * Docker networks nothing probed, whose MTU is above what the daemon's traffic leaves by. The usual case is
 * dockerd --mtu N with user-defined networks (compose, `docker network create`, GitHub `container:` jobs) left at
 * 1500: --mtu applies to the default bridge only (moby#28314, moby#34981, moby#43197).
 * Reference MTU: the daemon namespace's uplink when it was probed, else the default bridge's MTU when dockerd was
 * given a lower one (the operator's statement of the path MTU).
 */
import type { Finding } from '../../model/report.js';
import type { Facts, Rule } from '../rule.js';
import { childrenOf, daemonOf, engineOf, fixForNetwork, isGwbridge, isOverlay, isParentDriver, networkText, uplinkText } from './docker-common.js';

export const dockerNetworkMtu: Rule = {
  id: 'docker-network-mtu',
  evaluate(facts: Facts): Finding[] {
    const findings: Finding[] = [];
    for (const net of facts.layers) {
      if (net.kind !== 'docker-network' || net.facts?.purpose === 'verify' || net.mtu === undefined) continue;
      // An internal network has no way out: its MTU meets no smaller hop.
      if (net.facts?.internal === true) continue;
      // Overlays (VXLAN inside the underlay) and macvlan/ipvlan (the parent's MTU) have rules of their own.
      if (isOverlay(net) || isParentDriver(net)) continue;
      if (childrenOf(facts.layers, net).some((c) => c.probes.length > 0)) continue; // docker-blackhole judged it
      const daemon = daemonOf(facts.layers, net);
      if (!daemon) continue;
      const defaultBridge = facts.layers.find((l) => l.kind === 'docker-network' && l.parent === daemon.id && l.facts?.isDefault === true);
      const dockerdMtu = typeof defaultBridge?.facts?.mtuOption === 'number' && defaultBridge.facts.mtuOption < 1500 ? defaultBridge.facts.mtuOption : undefined;
      const ref = daemon.mtu ?? (net.facts?.isDefault ? undefined : dockerdMtu);
      if (ref === undefined || net.mtu <= ref) continue;
      const name = String(net.facts?.network ?? net.name);
      const isDefault = net.facts?.isDefault === true;
      const against = daemon.mtu !== undefined ? uplinkText(daemon) : `the default bridge's MTU ${ref} (dockerd --mtu)`;
      const why = !isDefault && dockerdMtu !== undefined ? ` dockerd --mtu=${dockerdMtu} applies to the default bridge only; this network kept ${net.mtu}.` : '';
      const role = isGwbridge(net) ? ' Containers on swarm overlays reach everything outside the swarm through it.' : '';
      findings.push({
        code: 'mtu-mismatch',
        severity: 'warning',
        layer: net.id,
        summary: `${networkText(net)} MTU ${net.mtu} exceeds ${against}: containers on it advertise MSS ${net.mtu - 40} and their large downloads stall wherever ICMP "fragmentation needed" is filtered.${why}${role}`,
        evidence: [
          `${name}: driver ${net.facts?.driver ?? '?'}, ${net.facts?.mtuOption !== undefined ? `com.docker.network.driver.mtu=${net.facts.mtuOption}` : 'no com.docker.network.driver.mtu option (driver default)'}`,
          ...(dockerdMtu !== undefined ? [`default bridge: com.docker.network.driver.mtu=${dockerdMtu}`] : []),
          ...(daemon.mtu !== undefined ? [`daemon namespace uplink MTU ${daemon.mtu}`] : []),
          ...(net.facts?.origin ? [`created by ${net.facts.origin}${net.facts.composeProject ? ` (project ${net.facts.composeProject})` : ''}`] : []),
        ],
        recommendedMtu: ref,
        fix: fixForNetwork(facts.ci, net, ref, engineOf(daemon)),
      });
    }
    return findings;
  },
};
