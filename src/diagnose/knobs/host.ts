/**
 * Knobs on a host rather than in Docker or the CI system: MSS clamping and the advertised MSS of a route (iproute2's
 * `advmss`, the iptables TCPMSS target's --clamp-mss-to-pmtu), and the MTU of an interface Docker does not own
 * (a macvlan/ipvlan parent). They hold on every Linux; no version gates them.
 */
import type { Fix, FixStep } from '../../model/report.js';
import { MTU_OPTION, mssFor } from '../../model/net.js';

/**
 * Clamp the MSS of forwarded TCP handshakes to the outgoing route's MTU: containers' SYNs then advertise what fits
 * the uplink, whatever their network's MTU, so servers send segments that fit. The fix that exists where no knob
 * reaches the network containers are on.
 */
export function mssClampStep(title: string): FixStep {
  return {
    title,
    language: 'sh',
    snippet: 'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
  };
}

/**
 * A black hole beyond this machine (the small hop is further up the path): the server's segments must
 * shrink. Advertising a smaller MSS on our route makes every server send segments that fit; MSS clamping
 * on the router that owns the small link fixes it for everyone behind it.
 */
export function fixPathBlackhole(
  iface: string | undefined,
  gateway: string | undefined,
  mtu: number,
  family: 4 | 6 = 4,
): Fix {
  const route = gateway ? `default via ${gateway} dev ${iface ?? 'IFACE'}` : `default dev ${iface ?? 'IFACE'}`;
  const mss = mssFor(mtu, family);
  return {
    summary: `Make servers send segments that fit a ${mtu}-byte path${family === 6 ? ' (IPv6)' : ''}: clamp the MSS on the hop with the small MTU, or advertise MSS ${mss} from this machine.`,
    steps: [
      mssClampStep('On the router or node that owns the small link (fixes every host behind it)'),
      {
        title: `On this machine: advertise a smaller MSS on the route (downloads then fit ${mtu})`,
        language: 'sh',
        snippet: `ip ${family === 6 ? '-6 ' : ''}route change ${route} advmss ${mss}`,
      },
      {
        title: 'Not a fix: net.ipv4.tcp_mtu_probing only shrinks what this machine sends; downloads still stall',
        language: 'sh',
        snippet: '# sysctl net.ipv4.tcp_mtu_probing=1   (does not help downloads)',
      },
    ],
  };
}

/**
 * macvlan/ipvlan containers get their parent interface's MTU: Docker ignores com.docker.network.driver.mtu for these
 * drivers (moby/libnetwork#2274; at moby v29.7 the drivers store the option and never apply it:
 * daemon/libnetwork/drivers/macvlan/macvlan_store.go) and the kernel refuses a macvlan/ipvlan link above its parent's
 * MTU. The knob is the parent (or the VLAN sub-interface Docker made for `-o parent=eth0.10`).
 */
export function fixParentMtu(driver: string, network: string, parent: string, mtu: number): Fix {
  return {
    summary: `Set the MTU of ${parent}, the parent of ${driver} network ${network}, to ${mtu}: its containers take the parent's MTU (Docker ignores ${MTU_OPTION} for ${driver}).`,
    steps: [
      {
        title: `Now (containers started afterwards get it; running ones keep theirs until restarted)`,
        language: 'sh',
        snippet: `ip link set dev ${parent} mtu ${mtu}`,
      },
      {
        title: `Persistently: the parent's own configuration (netplan shown; ifupdown: \`mtu ${mtu}\` under \`iface ${parent}\`)`,
        language: 'yaml',
        snippet: `network:\n  ethernets:   # or vlans: / bridges:, wherever ${parent} is defined\n    ${parent}:\n      mtu: ${mtu}`,
      },
    ],
  };
}
