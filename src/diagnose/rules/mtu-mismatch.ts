/**
 * An inner network (a bridge with ports: docker0, br-*, cni0) whose MTU exceeds the path this
 * namespace leaves by. Containers on it advertise MSS = bridge MTU - 40, servers send segments
 * that do not fit, and unless PMTUD repairs the path their downloads stall.
 * Where this layer's own probes succeed it is a warning (latent risk: it bites the moment ICMP is filtered).
 */
import type { Finding } from '../../model/report.js';
import { fixDockerMtu } from '../knobs/fixes.js';
import { uplinkMtuText } from '../mechanism.js';
import type { DiagnosisInput, Rule } from '../rule.js';

export const mtuMismatch: Rule = {
  id: 'mtu-mismatch',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const layer of input.layers) {
      if (layer.kind !== 'host' || layer.mtu === undefined) continue;
      // A macOS or Windows bridge (bridge100 of vmnet, Hyper-V's vEthernet) carries VMs, not containers: a desktop
      // engine's networks are judged on the daemon layer, by what its containers measured.
      if (layer.platform) continue;
      const uplink = layer.uplinks.reduce<(typeof layer.uplinks)[number] | undefined>(
        (m, u) => (!m || u.effectiveMtu < m.effectiveMtu ? u : m),
        undefined,
      );
      const uplinkMtu = layer.mtu;
      for (const br of layer.interfaces) {
        if (br.kind !== 'bridge' || br.mtu <= uplinkMtu) continue;
        const idle = (br.ports?.length ?? 0) === 0;
        // The interface's MTU and the path's are told apart: "path MTU 1400 (eth0 itself is 1500; ...)".
        const uplinkText = uplink ? `uplink ${uplinkMtuText(uplink)}` : `this namespace's uplink MTU ${uplinkMtu}`;
        findings.push({
          code: 'mtu-mismatch',
          severity: 'warning',
          layer: layer.id,
          summary:
            `${br.name} MTU ${br.mtu} exceeds ${uplinkText}: containers on ${br.name} advertise MSS ${br.mtu - 40} and their large downloads stall wherever ICMP "fragmentation needed" is filtered.` +
            (idle
              ? ` (${br.name} has no ports now; before Docker 25 docker0 shows 1500 until a container attaches, so check with --docker.)`
              : ''),
          evidence: [
            `${br.name}: ${br.kind}, MTU ${br.mtu}, ${idle ? 'no ports' : `ports ${br.ports!.join(', ')}`}`,
            uplink
              ? `${uplink.iface}: MTU ${uplink.ifaceMtu}${uplink.routeMtu ? `, route mtu ${uplink.routeMtu}` : ''}${uplink.cachedPmtu ? `, learned path MTU ${uplink.cachedPmtu}` : ''}${uplink.explanation ? ` (${uplink.explanation})` : ''}`
              : `uplink MTU ${uplinkMtu}`,
          ],
          recommendedMtu: uplinkMtu,
          fix: fixDockerMtu(input.ci, uplinkMtu),
        });
      }
    }
    return findings;
  },
};
