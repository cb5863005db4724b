/**
 * docker-parent: macvlan and ipvlan networks, whose containers sit on the parent interface's own L2 and take its MTU.
 *
 * Docker ignores com.docker.network.driver.mtu for these drivers (moby/libnetwork#2274) and the kernel refuses a
 * macvlan/ipvlan link above its parent's MTU, so the MTU that matters is the parent's. Two things are worth saying:
 *   - the option says one MTU and containers get another (measured in the lab: option 1500 on a 1450 parent gives
 *     containers 1450): `mtu-option-ignored`, info, so nobody tunes a knob that does nothing;
 *   - the parent is a tunnel (VXLAN, WireGuard, ...): its MTU must leave room for the encapsulation inside the path
 *     it rides on. Too large for the daemon's uplink is `mtu-mismatch`; fitting, it is `tunnel-parent`, info: the
 *     containers get a low MTU on purpose, and it is what the report's layers show.
 * Stalls measured from a container on such a network are docker-blackhole's (fixed at the parent, fixForNetwork).
 */
import type { DockerDaemonLayer } from '../../model/layers.js';
import { MTU_OPTION, mssFor } from '../../model/net.js';
import type { Finding } from '../../model/report.js';
import { fixParentMtu } from '../knobs/fixes.js';
import type { DiagnosisInput, Rule } from '../rule.js';
import { childrenOf, daemonOf, existingNetworks, narrowestUplink, networkText, onParent } from './docker-common.js';

export const dockerParent: Rule = {
  id: 'docker-parent',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const net of existingNetworks(input.layers)) {
      if (!onParent(net)) continue;
      const daemon = daemonOf(input.layers, net);
      const driver = net.driver;
      const name = net.network;
      const parent = net.parentIface?.name;
      const parentMtu = net.parentIface?.mtu;
      const option = net.mtuOption;
      const seen = childrenOf(input.layers, net).find((c) => c.mtu !== undefined);
      const containerMtu = seen?.mtu ?? parentMtu;
      const parentLine = parent
        ? `parent ${parent}: ${parentMtu !== undefined ? `MTU ${parentMtu}` : 'MTU unknown'}${net.parentIface?.kind ? `, ${net.parentIface.kind}` : ''}`
        : undefined;
      const seenLine = seen ? `${seen.name}: eth0 MTU ${seen.mtu}` : undefined;

      if (option !== undefined && containerMtu !== undefined && option !== containerMtu) {
        findings.push({
          code: 'mtu-option-ignored',
          severity: 'info',
          layer: net.id,
          summary:
            `${networkText(net)} has ${MTU_OPTION}=${option}, which Docker does not apply to ${driver} networks: ` +
            `containers on it get ${parent ? `the MTU of the parent ${parent}, ` : ''}${containerMtu}.`,
          evidence: [
            `${name}: ${MTU_OPTION}=${option} (ignored by the ${driver} driver, moby/libnetwork#2274)`,
            ...(parentLine ? [parentLine] : []),
            ...(seenLine ? [seenLine] : []),
          ],
          fix: {
            summary: `Drop the option from ${name}'s definition: it changes nothing. The MTU of ${driver} containers is set on the parent${parent ? ` (ip link set dev ${parent} mtu N)` : ''}.`,
            steps: [],
          },
        });
      }

      const overhead = net.parentIface?.tunnelOverhead;
      if (!parent || parentMtu === undefined || overhead === undefined) continue;
      const uplink = daemon ? underlayOf(daemon, parent) : undefined;
      const kind = net.parentIface?.kind ?? 'tunnel';
      if (uplink && parentMtu + overhead > uplink.mtu) {
        // A container on it stalled: docker-blackhole reports that, with the same MTU.
        if (childrenOf(input.layers, net).some((c) => c.probes.some((p) => p.outcome === 'stall'))) continue;
        const fits = uplink.mtu - overhead;
        findings.push({
          code: 'mtu-mismatch',
          severity: 'warning',
          layer: net.id,
          summary:
            `${networkText(net)}: the parent ${parent} is a ${kind} tunnel with MTU ${parentMtu}, but its packets carry ${overhead} bytes of ` +
            `encapsulation over ${uplink.iface} (MTU ${uplink.mtu}): at most ${fits} fits. Containers on it advertise MSS ${mssFor(containerMtu ?? parentMtu)} ` +
            `and their large transfers stall wherever ICMP "fragmentation needed" is filtered. Fix: set ${parent}'s MTU to ${fits}.`,
          evidence: [
            parentLine!,
            ...(seenLine ? [seenLine] : []),
            `daemon namespace: uplink ${uplink.iface} MTU ${uplink.mtu}`,
          ],
          recommendedMtu: fits,
          fix: fixParentMtu(driver, name, parent, fits),
        });
      } else {
        findings.push({
          code: 'tunnel-parent',
          severity: 'info',
          layer: net.id,
          summary:
            `${networkText(net)}: the parent ${parent} is a ${kind} tunnel (MTU ${parentMtu}, ${overhead} bytes of encapsulation), so containers on it get ` +
            `MTU ${containerMtu ?? parentMtu} and advertise MSS ${mssFor(containerMtu ?? parentMtu)}. That fits${uplink ? ` ${uplink.iface} (MTU ${uplink.mtu})` : ''}; ` +
            `peers on ${parent}'s segment must use the same MTU.`,
          evidence: [parentLine!, ...(seenLine ? [seenLine] : [])],
        });
      }
    }
    return findings;
  },
};

/**
 * What a tunnel parent rides on: the daemon namespace's narrowest uplink, unless that uplink is the tunnel itself
 * (then its underlay is not visible from here).
 */
function underlayOf(daemon: DockerDaemonLayer, parent: string): { iface: string; mtu: number } | undefined {
  const u = narrowestUplink(daemon);
  if (u && u.iface !== parent) return { iface: u.iface, mtu: u.effectiveMtu };
  if (!u && daemon.mtu !== undefined) return { iface: 'uplink', mtu: daemon.mtu };
  return undefined;
}
