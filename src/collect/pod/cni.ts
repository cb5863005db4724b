/**
 * The pod network a job runs on when it runs in a Kubernetes pod (KUBERNETES_SERVICE_HOST): which CNI made the
 * pod's eth0, as far as the pod shows it. identifyPodNetwork() is pure and tested over captured pods
 * (test/fixtures/seed-001-drone-pod-flannel-1450, test/fixtures/pod-calico-*); readPodNetwork() reads the few files.
 *
 * What a pod shows, by CNI (checked against each one's docs):
 * - flannel writes /run/flannel/subnet.env (FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ) on each
 *   node (flannel Documentation/running.md: "subnet address and MTU that it supports"); its CNI config has
 *   "type": "flannel"; host-network pods see flannel.1 and cni0.
 * - Calico gives every pod the link-local default gateway 169.254.1.1, answered by proxy ARP on the node's cali*
 *   veth (Calico docs, "Calico networking" FAQ; captured in pods: `default via 169.254.1.1 dev eth0`); its CNI
 *   config has "type": "calico"; host-network pods see cali*, vxlan.calico, tunl0.
 * - Cilium's CNI config has "type": "cilium-cni"; host-network pods see cilium_host, cilium_net, cilium_vxlan.
 * Anything else (an ordinary pod with only eth0 and no CNI files mounted) cannot tell, and the report says so.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseProcNetRoute } from '../host/routes.js';

export type CniName = 'flannel' | 'calico' | 'cilium';

export interface PodNetwork {
  cni?: CniName;
  /** How it was told, one line each (the file or the interface or route that says it). */
  evidence: string[];
  /** The MTU the CNI says it gives pods (FLANNEL_MTU, a conflist's "mtu"), when it says one. */
  cniMtu?: number;
  /** flannel's backend / Calico's encapsulation, when a file says. */
  backend?: string;
}

export interface PodObservation {
  /** Interface names of the pod's namespace (/sys/class/net). */
  ifaces: string[];
  /** IPv4 default gateways (/proc/net/route). */
  gateways: string[];
  /** IPv4 on-link subnets (/proc/net/route routes without a gateway), as a.b.c.d/len, with their interface. */
  subnets?: Array<{ cidr: string; iface: string }>;
  /** Interface MTUs by name (/sys/class/net/<if>/mtu), where read. */
  mtus?: Record<string, number>;
  /** /etc/cni/net.d/* when mounted: name and text. */
  cniConfigs: Array<{ name: string; text: string }>;
  /** /run/flannel/subnet.env when mounted. */
  flannelEnv?: string;
}

const CNI_TYPES: Record<string, CniName> = { flannel: 'flannel', calico: 'calico', 'cilium-cni': 'cilium' };
const IFACE_SIGNS: Array<[RegExp, CniName]> = [
  [/^(flannel\.\d+|cni0|flannel-wg)$/, 'flannel'],
  [/^(cali[0-9a-f]{6,}|vxlan\.calico|wireguard\.cali)$/, 'calico'],
  [/^(cilium_host|cilium_net|cilium_vxlan|lxc_health)$/, 'cilium'],
];

/** The plugin types of a CNI config (.conf or .conflist): "type" of the config or of each of its plugins. */
function pluginTypes(text: string): { types: string[]; mtu?: number } {
  try {
    const c = JSON.parse(text) as { type?: unknown; mtu?: unknown; plugins?: Array<{ type?: unknown; mtu?: unknown }> };
    const entries = [c, ...(Array.isArray(c.plugins) ? c.plugins : [])];
    const types = entries.map((e) => e.type).filter((t): t is string => typeof t === 'string');
    const mtu = entries.map((e) => e.mtu).find((m): m is number => typeof m === 'number' && m > 0);
    return { types, ...(mtu !== undefined ? { mtu } : {}) };
  } catch {
    return { types: [] };
  }
}

export function identifyPodNetwork(o: PodObservation): PodNetwork {
  const evidence: string[] = [];
  let cni: CniName | undefined;
  let cniMtu: number | undefined;
  let backend: string | undefined;
  const say = (name: CniName, why: string) => {
    cni ??= name;
    if (name === cni) evidence.push(why);
  };
  if (o.flannelEnv !== undefined) {
    const mtu = /^FLANNEL_MTU=(\d+)\s*$/m.exec(o.flannelEnv)?.[1];
    say('flannel', `/run/flannel/subnet.env${mtu ? `: FLANNEL_MTU=${mtu}` : ''}`);
    if (mtu) cniMtu = Number(mtu);
  }
  for (const f of o.cniConfigs) {
    const { types, mtu } = pluginTypes(f.text);
    const t = types.find((x) => CNI_TYPES[x]);
    if (!t) continue;
    say(CNI_TYPES[t]!, `/etc/cni/net.d/${f.name}: "type": "${t}"${mtu ? `, "mtu": ${mtu}` : ''}`);
    if (mtu && CNI_TYPES[t] === cni) cniMtu ??= mtu;
    const be = /"Type"\s*:\s*"([\w-]+)"/.exec(f.text)?.[1];
    if (be && CNI_TYPES[t] === 'flannel') backend ??= be;
  }
  for (const [re, name] of IFACE_SIGNS) {
    const seen = o.ifaces.filter((i) => re.test(i));
    if (seen.length) say(name, `interface${seen.length > 1 ? 's' : ''} ${seen.slice(0, 3).join(', ')}`);
  }
  // kube-flannel.yml's default Network is 10.244.0.0/16 and its VXLAN pods get 1500 - 50: a pod that shows both is
  // most likely on flannel (seed 001's pod: eth0 1450, 10.244.1.113/24). Said as "likely": other CNIs can be set so.
  const flannelNet = (o.subnets ?? []).find((n) => /^10\.244\.\d+\.\d+\/(1[6-9]|2\d)$/.test(n.cidr));
  if (!cni && flannelNet && o.mtus?.[flannelNet.iface] === 1450)
    say(
      'flannel',
      `likely: pod subnet ${flannelNet.cidr} inside 10.244.0.0/16 (kube-flannel.yml's default Network) and ${flannelNet.iface} MTU 1450 (1500 less VXLAN's 50)`,
    );
  if (o.gateways.includes('169.254.1.1'))
    say('calico', "default gateway 169.254.1.1 (Calico's link-local next hop, answered by proxy ARP on the node)");
  return {
    ...(cni ? { cni } : {}),
    evidence,
    ...(cniMtu !== undefined ? { cniMtu } : {}),
    ...(backend ? { backend } : {}),
  };
}

/** At most this many CNI config files are read, each up to 64 KiB. */
const MAX_CONFIGS = 8;
const MAX_CONFIG_BYTES = 64 * 1024;

const text = (p: string) =>
  readFile(p, 'utf8').then(
    (t) => (t.length <= MAX_CONFIG_BYTES ? t : undefined),
    () => undefined,
  );

/** What the pod's files say (`root`: '/' on a live system). Never throws: what cannot be read is absent. */
export async function readPodNetwork(root = '/'): Promise<PodObservation> {
  const [ifaces, route, names, flannelEnv] = await Promise.all([
    readdir(path.join(root, 'sys/class/net')).catch(() => [] as string[]),
    text(path.join(root, 'proc/net/route')),
    readdir(path.join(root, 'etc/cni/net.d')).catch(() => [] as string[]),
    text(path.join(root, 'run/flannel/subnet.env')),
  ]);
  const confNames = names.filter((n) => /\.(conf|conflist|json)$/.test(n)).slice(0, MAX_CONFIGS);
  const confs = await Promise.all(
    confNames.map(async (name) => ({ name, text: await text(path.join(root, 'etc/cni/net.d', name)) })),
  );
  const routes = route ? parseProcNetRoute(route) : [];
  const gateways = routes.filter((r) => r.prefixLength === 0 && r.gateway).map((r) => r.gateway!);
  const subnets = routes
    .filter((r) => r.prefixLength > 0 && !r.gateway)
    .map((r) => ({ cidr: `${r.destination}/${r.prefixLength}`, iface: r.iface }));
  const mtus: Record<string, number> = {};
  await Promise.all(
    ifaces.slice(0, 64).map(async (i) => {
      const m = Number((await text(path.join(root, 'sys/class/net', i, 'mtu')))?.trim());
      if (Number.isFinite(m) && m > 0) mtus[i] = m;
    }),
  );
  return {
    ifaces,
    gateways,
    subnets,
    mtus,
    cniConfigs: confs.filter((c): c is { name: string; text: string } => c.text !== undefined),
    ...(flannelEnv !== undefined ? { flannelEnv } : {}),
  };
}
