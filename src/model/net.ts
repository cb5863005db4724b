/**
 * The network arithmetic and the names every stage shares: encapsulation overheads, MSS, Docker's MTU option and
 * the engine versions that gate a fix. One place, so that collect, diagnose, the knobs and the lint agree.
 */
import type { InterfaceKind } from './report.js';

/** Ethernet's MTU, and what every bridge driver, container runtime and cloud image assumes without being told. */
export const ETHERNET_MTU = 1500;
/** IPv6's minimum link MTU (RFC 8200): the smallest MTU worth recommending. */
export const IPV6_MIN_MTU = 1280;

/** The network option that sets a Docker bridge's (and Podman's compat API's) MTU. */
export const MTU_OPTION = 'com.docker.network.driver.mtu';

/** The option Podman stores a network's MTU as (netavark and CNI; `podman network create --opt mtu=N`). */
export const PODMAN_MTU_OPTION = 'mtu';
/** The MTU slirp4netns and rootlesskit give their tap by default (moby contrib/dockerd-rootless.sh, containers.conf). */
export const USER_STACK_TAP_MTU = 65520;

/** VXLAN encapsulation: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 bytes. */
export const VXLAN_OVERHEAD = 50;
/** ESP on an encrypted overlay: SPI 4 + sequence 4 + IV 8 + pad length 1 + next header 1 + ICV 8 (libnetwork's pktExpansion). */
export const ESP_OVERHEAD = 26;

/**
 * Encapsulation bytes per tunnel kind over an IPv4 underlay:
 * VXLAN 50 (outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14), Geneve 50 plus options
 * (OVN's 8 bytes of options make 1442), WireGuard 60 (IP 20 + UDP 8 + header 32; 80 over IPv6),
 * IP-in-IP 20, SIT 20, GRE 24, ip6tnl 40, PPPoE 8.
 */
export const TUNNEL_OVERHEAD: Partial<Record<InterfaceKind, number>> = {
  vxlan: VXLAN_OVERHEAD,
  geneve: 50,
  wireguard: 60,
  ipip: 20,
  sit: 20,
  gre: 24,
  ip6tnl: 40,
  ppp: 8,
};

/** The tunnel's name as users know it. */
export const TUNNEL_LABEL: Partial<Record<InterfaceKind, string>> = {
  vxlan: 'VXLAN',
  geneve: 'Geneve',
  wireguard: 'WireGuard',
  ipip: 'IP-in-IP',
  sit: 'SIT (IPv6-in-IPv4)',
  gre: 'GRE',
  ip6tnl: 'IPv6 tunnel',
  ppp: 'PPPoE',
};

/** The MSS a host advertises on a link of this MTU: less the IP header (20, IPv6 40) and the TCP header (20). */
export function mssFor(mtu: number, family: 4 | 6 = 4): number {
  return mtu - (family === 6 ? 60 : 40);
}

/**
 * The MTU Docker's overlay driver gives containers (and its VXLAN device): it reads com.docker.network.driver.mtu as
 * the MTU of the underlay (default 1500) and subtracts the encapsulation itself, so the option is 1450 for 1400 inside.
 */
export function overlayMtu(option: number | undefined, encrypted = false): number {
  let mtu = (option ?? ETHERNET_MTU) - VXLAN_OVERHEAD;
  // Encrypted overlays lose ESP's bytes too, rounded down to a multiple of 4 (the cipher's block alignment).
  if (encrypted) mtu = mtu - ESP_OVERHEAD - ((mtu - ESP_OVERHEAD) % 4);
  return mtu;
}

/** Docker network drivers whose MTU comes from the parent interface, whatever the options say (moby/libnetwork#2274). */
export const PARENT_DRIVERS: ReadonlySet<string> = new Set(['macvlan', 'ipvlan']);
export const isParentDriver = (driver: string | undefined): boolean =>
  driver !== undefined && PARENT_DRIVERS.has(driver);

/** The bridge network Docker creates on first use of an overlay on a node (or that an operator created first). */
export const GWBRIDGE = 'docker_gwbridge';

/** MTUs tried, largest first, when the recommended one still stalls: common tunnel MTUs down to IPv6's minimum. */
export const STEP_DOWN_MTUS = [1450, 1400, 1360, IPV6_MIN_MTU] as const;

/** dockerd's `default-network-opts` (daemon.json) and `--default-network-opt` flag exist from Docker 24.0. */
export const DEFAULT_NETWORK_OPTS_SINCE = 24;
/** Whether an engine of this major version can give networks it creates an MTU by default (unknown: assume it can). */
export const hasDefaultNetworkOpts = (major: number | undefined): boolean =>
  major === undefined || major >= DEFAULT_NETWORK_OPTS_SINCE;
/** Before Docker 25 an idle docker0 reports MTU 1500 whatever --mtu says (moby#36659). */
export const IDLE_BRIDGE_REPORTS_MTU_SINCE = 25;
