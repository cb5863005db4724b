/**
 * Interfaces of this network namespace, from /sys/class/net.
 * readSysClassNet() is the only part that touches the file system; it snapshots the few
 * files that matter, and parseSysClassNet() turns a snapshot into typed interfaces.
 * Snapshots are plain JSON, so real trees captured on real machines are unit-test fixtures.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { InterfaceKind, NetInterface } from '../../model/report.js';
import { TUNNEL_LABEL, TUNNEL_OVERHEAD } from '../../model/net.js';

/** The sysfs facts of one interface, as strings exactly as read (trimmed). */
export interface SysNetEntry {
  mtu?: string;
  operstate?: string;
  type?: string;
  uevent?: string;
  ifindex?: string;
  iflink?: string;
  /** Target of the `master` symlink's basename. */
  master?: string;
  /** Entries of brif/ (bridge ports). */
  brif?: string[];
  /** tun_flags exists for tun/tap devices. */
  tunFlags?: string;
  /** A `device` link exists: backed by hardware (or a virtio device). */
  hasDevice?: boolean;
}

export type SysNetSnapshot = Record<string, SysNetEntry>;

async function readText(p: string): Promise<string | undefined> {
  try {
    return (await readFile(p, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Snapshot /sys/class/net under `root` ('/' on a live system). Throws if the folder is absent (not Linux). */
export async function readSysClassNet(root = '/'): Promise<SysNetSnapshot> {
  const base = path.join(root, 'sys/class/net');
  const names = await readdir(base);
  const snap: SysNetSnapshot = {};
  await Promise.all(
    names.map(async (name) => {
      const dir = path.join(base, name);
      const entry: SysNetEntry = {};
      const [mtu, operstate, type, uevent, ifindex, iflink, tunFlags] = await Promise.all(
        ['mtu', 'operstate', 'type', 'uevent', 'ifindex', 'iflink', 'tun_flags'].map((f) =>
          readText(path.join(dir, f)),
        ),
      );
      Object.assign(entry, { mtu, operstate, type, uevent, ifindex, iflink, tunFlags });
      try {
        entry.master = path.basename(await readlink(path.join(dir, 'master')));
      } catch {
        /* not enslaved */
      }
      try {
        entry.brif = (await readdir(path.join(dir, 'brif'))).sort();
      } catch {
        /* not a bridge */
      }
      try {
        await readlink(path.join(dir, 'device'));
        entry.hasDevice = true;
      } catch {
        /* virtual */
      }
      for (const k of Object.keys(entry) as Array<keyof SysNetEntry>) if (entry[k] === undefined) delete entry[k];
      snap[name] = entry;
    }),
  );
  return snap;
}

// ARPHRD_* values from linux/if_arp.h
const ARPHRD: Record<string, InterfaceKind> = {
  '772': 'loopback',
  '768': 'ipip',
  '776': 'sit',
  '778': 'gre',
  '769': 'ip6tnl',
  '823': 'gre', // ip6gre
  '512': 'ppp',
};

const DEVTYPE_KINDS: Record<string, InterfaceKind> = {
  bridge: 'bridge',
  vxlan: 'vxlan',
  geneve: 'geneve',
  wireguard: 'wireguard',
  vlan: 'vlan',
  bond: 'bond',
  macvlan: 'macvlan',
  macvtap: 'macvlan',
  ipvlan: 'ipvlan',
  ipvtap: 'ipvlan',
  ppp: 'ppp',
};

export function classifyInterface(name: string, e: SysNetEntry): InterfaceKind {
  const devtype = /^DEVTYPE=(\S+)/m.exec(e.uevent ?? '')?.[1];
  if (devtype && DEVTYPE_KINDS[devtype]) return DEVTYPE_KINDS[devtype];
  if (e.brif) return 'bridge';
  if (e.type && ARPHRD[e.type]) return ARPHRD[e.type]!;
  if (e.tunFlags !== undefined) {
    // IFF_TAP = 0x0002
    return (Number.parseInt(e.tunFlags, 16) & 0x2) !== 0 ? 'tap' : 'tun';
  }
  if (e.hasDevice) return 'physical';
  if (/^dummy/.test(name)) return 'dummy';
  // A virtual Ethernet whose link is another interface: veth (the common case: container eth0, vethXXXX).
  if (e.type === '1' && e.iflink !== undefined && e.ifindex !== undefined && e.iflink !== e.ifindex) return 'veth';
  if (/^veth/.test(name)) return 'veth';
  if (e.type === '65534' && /^(wg|tailscale)/.test(name)) return name.startsWith('wg') ? 'wireguard' : 'tun';
  return 'other';
}

/** Why an interface's MTU is what it is, when its kind explains it. */
export function explainMtu(iface: Pick<NetInterface, 'name' | 'mtu' | 'kind'>): string | undefined {
  const overhead = TUNNEL_OVERHEAD[iface.kind];
  const label = TUNNEL_LABEL[iface.kind];
  if (overhead && label) {
    const exact =
      1500 - overhead === iface.mtu
        ? `: ${iface.mtu} = 1500 - ${overhead} bytes of ${label} overhead`
        : ` (${label} adds ${overhead} bytes per packet)`;
    return `${iface.name} is a ${label} tunnel${exact}`;
  }
  if (/^tailscale/.test(iface.name)) return `${iface.name} is a Tailscale (WireGuard) tunnel: Tailscale uses MTU 1280`;
  if (iface.kind === 'tun') return `${iface.name} is a tun device (VPN): its MTU is set by the VPN software`;
  return undefined;
}

export function parseSysClassNet(snap: SysNetSnapshot): NetInterface[] {
  const out: NetInterface[] = [];
  for (const name of Object.keys(snap).sort()) {
    const e = snap[name]!;
    const mtu = Number.parseInt(e.mtu ?? '', 10);
    if (!Number.isFinite(mtu)) continue;
    const kind = classifyInterface(name, e);
    const iface: NetInterface = { name, mtu, state: e.operstate ?? 'unknown', kind };
    if (e.master) iface.master = e.master;
    if (e.brif) iface.ports = e.brif;
    const overhead = TUNNEL_OVERHEAD[kind];
    if (overhead) iface.tunnelOverhead = overhead;
    out.push(iface);
  }
  return out;
}
