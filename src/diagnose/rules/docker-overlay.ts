/**
 * docker-overlay: a swarm overlay whose containers' MTU leaves no room for VXLAN inside the underlay.
 *
 * An overlay carries container-to-container traffic between nodes in VXLAN (50 bytes: outer Ethernet, IPv4, UDP,
 * VXLAN; ESP on top with --opt encrypted), so its MTU must be at most the underlay's minus that. Docker's overlay
 * driver reads com.docker.network.driver.mtu as the underlay's MTU (default 1500) and subtracts the 50 itself, so on
 * a 1450 underlay an overlay without the option gives containers 1450 where 1400 fits. That traffic never leaves by
 * the daemon's uplink route to the registries (overlay containers reach those through docker_gwbridge, judged by
 * docker-blackhole and docker-network-mtu like any bridge), so nothing here can be probed from one node: the finding
 * is a warning from the numbers, the way cross-node traffic will break.
 */
import { isInner } from '../../model/layers.js';
import { ETHERNET_MTU, MTU_OPTION, overlayMtu, VXLAN_OVERHEAD } from '../../model/net.js';
import type { Finding } from '../../model/report.js';
import { fixOverlayMtu } from '../knobs/fixes.js';
import type { DiagnosisInput, Rule } from '../rule.js';
import { daemonOf, existingNetworks, isOverlay, narrowestUplink, networkText } from './docker-common.js';

export const dockerOverlay: Rule = {
  id: 'docker-overlay',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const net of existingNetworks(input.layers)) {
      if (!isOverlay(net) || net.mtu === undefined) continue;
      const daemon = daemonOf(input.layers, net);
      const uplink = daemon ? narrowestUplink(daemon) : undefined;
      const underlay = uplink?.effectiveMtu ?? daemon?.mtu;
      if (!daemon || underlay === undefined) continue;
      const encrypted = net.overlay?.encrypted === true;
      const fits = overlayMtu(underlay, encrypted);
      if (net.mtu <= fits) continue;
      const name = net.network;
      const option = net.mtuOption;
      // The probe container on this overlay (hung under docker_gwbridge, its way out) saw the overlay on eth0.
      const seen = input.layers
        .filter(isInner)
        .filter((c) => c.overlay?.network === name && c.overlay.mtu !== undefined)
        .map((c) => `${c.name}: eth0 on the overlay MTU ${c.overlay!.mtu}`);
      const nodes = daemon.swarm?.nodes;
      const encap = `${VXLAN_OVERHEAD} bytes of VXLAN${encrypted ? ' and the ESP of --opt encrypted' : ''}`;
      findings.push({
        code: 'mtu-mismatch',
        severity: 'warning',
        layer: net.id,
        summary:
          `${networkText(net)} gives containers MTU ${net.mtu}, but its traffic between nodes travels in VXLAN inside the underlay ` +
          `(${uplink ? `${uplink.iface} ` : ''}MTU ${underlay}), which leaves room for ${fits} after ${encap}: ` +
          `container-to-container packets over ${fits} bytes are fragmented or dropped between nodes. ` +
          `Fix: re-create it with ${MTU_OPTION}=${underlay} (containers then get ${fits}).`,
        evidence: [
          `${name}: ${option !== undefined ? `${MTU_OPTION}=${option}` : `no ${MTU_OPTION} option (the driver takes ${ETHERNET_MTU})`}, taken as the underlay's MTU: containers get ${option ?? ETHERNET_MTU} - ${VXLAN_OVERHEAD} = ${net.mtu}`,
          ...seen,
          `daemon namespace: ${uplink ? `uplink ${uplink.iface} MTU ${uplink.effectiveMtu}${uplink.explanation ? ` (${uplink.explanation})` : ''}` : `uplink MTU ${underlay}`}`,
          ...(nodes === 1
            ? ['this node is alone in its swarm: nothing crosses the underlay yet, so no probe can show the loss']
            : []),
        ],
        recommendedMtu: fits,
        fix: fixOverlayMtu(
          {
            name,
            ...(net.overlay?.ingress ? { ingress: true } : {}),
            ...(net.overlay?.attachable ? { attachable: true } : {}),
            ...(encrypted ? { encrypted: true } : {}),
          },
          underlay,
          fits,
        ),
      });
    }
    return findings;
  },
};
