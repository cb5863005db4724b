/**
 * Which CNI a pod shows, over captured pods: seed 001's flannel pod (`ip a` in a Drone Kubernetes runner's pod) and
 * a Calico IP-in-IP pod (test/fixtures/pod-calico-ipip, see its README). The captures are `ip` output: the helper
 * below turns them into what readPodNetwork() reads from /sys/class/net and /proc/net/route.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { podNetworkLayer, withPodNetwork } from '../../../../src/collect/pod/collect.js';
import { identifyPodNetwork, type PodObservation } from '../../../../src/collect/pod/cni.js';
import { diagnose } from '../../../../src/diagnose/index.js';
import { fromLayerJson, toLayerJson } from '../../../../src/model/layer-json.js';
import type { HostLayer } from '../../../../src/model/layers.js';
import type { ProbeResult } from '../../../../src/model/report.js';

const FIX = path.resolve(import.meta.dirname, '../../../fixtures');
const read = (dir: string, f: string) => readFileSync(path.join(FIX, dir, f), 'utf8');

/** `ip a` (and `ip r`) as the pod's files would give them. */
function observe(ipAddr: string, ipRoute = ''): PodObservation {
  const ifaces: string[] = [];
  const mtus: Record<string, number> = {};
  const subnets: Array<{ cidr: string; iface: string }> = [];
  let cur = '';
  for (const line of ipAddr.split('\n')) {
    const head = /^\d+: ([^:@]+)[^:]*: .* mtu (\d+)/.exec(line);
    if (head) {
      cur = head[1]!;
      ifaces.push(cur);
      mtus[cur] = Number(head[2]);
    }
    const inet = /^\s+inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(line);
    if (inet && Number(inet[2]) < 32 && cur !== 'lo') {
      const len = Number(inet[2]);
      const a = inet[1]!.split('.').map(Number);
      const n = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) & (len ? ~0 << (32 - len) : 0);
      subnets.push({ cidr: `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/${len}`, iface: cur });
    }
  }
  const gateways = [...ipRoute.matchAll(/^default via (\S+)/gm)].map((m) => m[1]!);
  return { ifaces, gateways, subnets, mtus, cniConfigs: [] };
}

describe('identifyPodNetwork over captured pods', () => {
  it("seed 001's flannel pod: likely flannel (10.244.0.0/16 and eth0 1450), said as likely", () => {
    const n = identifyPodNetwork(observe(read('seed-001-drone-pod-flannel-1450', 'ip-addr.txt')));
    expect(n.cni).toBe('flannel');
    expect(n.evidence).toEqual([
      "likely: pod subnet 10.244.1.0/24 inside 10.244.0.0/16 (kube-flannel.yml's default Network) and eth0 MTU 1450 (1500 less VXLAN's 50)",
    ]);
  });

  it('the Calico pod: its default gateway 169.254.1.1 (tunl0 is not taken for a sign)', () => {
    const cap = observe(read('pod-calico-ipip', 'ip-addr.txt'), read('pod-calico-ipip', 'ip-route.txt'));
    const n = identifyPodNetwork(cap);
    expect(n.cni).toBe('calico');
    expect(n.evidence).toEqual([
      "default gateway 169.254.1.1 (Calico's link-local next hop, answered by proxy ARP on the node)",
    ]);
    expect(identifyPodNetwork({ ...cap, gateways: [] }).cni).toBeUndefined();
  });

  it('files beat guesses: subnet.env and CNI configs, with the MTU they say', () => {
    const n = identifyPodNetwork({
      ifaces: ['lo', 'eth0'],
      gateways: [],
      flannelEnv:
        'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
      cniConfigs: [
        {
          name: '10-flannel.conflist',
          text: '{"name":"cbr0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true}},{"type":"portmap"}]}',
        },
      ],
    });
    expect(n).toMatchObject({ cni: 'flannel', cniMtu: 1450 });
    expect(n.evidence).toEqual([
      '/run/flannel/subnet.env: FLANNEL_MTU=1450',
      '/etc/cni/net.d/10-flannel.conflist: "type": "flannel"',
    ]);
    const cilium = identifyPodNetwork({
      ifaces: ['lo', 'eth0', 'cilium_host', 'cilium_net'],
      gateways: [],
      cniConfigs: [
        {
          name: '05-cilium.conflist',
          text: '{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni","mtu":1450}]}',
        },
      ],
    });
    expect(cilium).toMatchObject({ cni: 'cilium', cniMtu: 1450 });
    expect(cilium.evidence[1]).toBe('interfaces cilium_host, cilium_net');
  });

  it('an ordinary pod with only eth0 and nothing mounted: cannot tell, and the layer says so', () => {
    const n = identifyPodNetwork({
      ifaces: ['lo', 'eth0'],
      gateways: ['10.0.0.1'],
      cniConfigs: [],
      mtus: { eth0: 1500 },
    });
    expect(n).toEqual({ evidence: [] });
    const layer = podNetworkLayer('host', n);
    expect(layer.name).toBe('pod network (CNI not shown)');
    expect(layer.notes[0]).toMatch(/^cannot tell the CNI from inside this pod/);
    expect(fromLayerJson(toLayerJson(layer))).toEqual(layer);
  });

  it('only in a pod: no KUBERNETES_SERVICE_HOST, no collector added', () => {
    expect(withPodNetwork({}, undefined)).toBeUndefined();
    expect(withPodNetwork({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, undefined)).toBeTypeOf('function');
  });
});

const stall: ProbeResult = {
  target: 'npm',
  url: 'https://registry.npmjs.org/',
  host: 'registry.npmjs.org',
  address: '104.16.0.35',
  outcome: 'stall',
  phases: { connectMs: 7, doneMs: 3100 },
  bytes: 0,
  capped: false,
  samples: [],
  stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
};
const host: HostLayer = {
  id: 'host',
  kind: 'host',
  name: 'runner',
  mtu: 1500,
  interfaces: [{ name: 'eth0', mtu: 1500, state: 'up', kind: 'veth' }],
  uplinks: [
    {
      target: 'npm',
      address: '104.16.0.35',
      iface: 'eth0',
      ifaceMtu: 1500,
      effectiveMtu: 1500,
      kind: 'veth',
      gateway: '169.254.1.1',
    },
  ],
  probes: [stall],
  notes: [],
};

describe('pod-network-mtu: the fix speaks of the pod network', () => {
  const k8s = { system: 'gitlab-ci' as const, kubernetes: true, container: true };
  const run = (layers: Parameters<typeof diagnose>[0]['layers'], ci = k8s) =>
    diagnose({ layers, ci, stallTimeoutMs: 3000, minThroughput: 65536 });
  const calico = podNetworkLayer('host', {
    cni: 'calico',
    evidence: ["default gateway 169.254.1.1 (Calico's link-local next hop, answered by proxy ARP on the node)"],
  });

  it("a black hole from a Calico pod: Calico's knobs, MSS clamping on the node, and what the job cannot do", () => {
    const d = run([host, calico]);
    const f = d.findings.find((x) => x.code === 'pod-network-mtu')!;
    expect(f).toMatchObject({ severity: 'info', layer: 'pod-network' });
    expect(f.summary).toMatch(/Kubernetes pod on Calico \(default gateway 169\.254\.1\.1/);
    const snippets = f.fix!.steps.map((s) => s.snippet).join('\n');
    expect(snippets).toContain(
      `kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"mtu":<the path MTU>}}}'`,
    );
    expect(snippets).toContain('veth_mtu');
    expect(snippets).toContain('--clamp-mss-to-pmtu');
    expect(f.fix!.summary).toMatch(
      /GitLab's Kubernetes executor, ARC in Kubernetes mode, kaniko or buildah in a pod\) cannot change either/,
    );
    expect(d.verdict).toBe('fail'); // the stall's own finding makes the verdict
  });

  it("a learned path MTU below eth0 fills the MTU in; an unknown CNI gets every CNI's knob", () => {
    const learned = { ...host, probes: [], uplinks: [{ ...host.uplinks[0]!, effectiveMtu: 1400 }] };
    const f = run([learned, podNetworkLayer('host', { evidence: [] })]).findings.find(
      (x) => x.code === 'pod-network-mtu',
    )!;
    expect(f.recommendedMtu).toBe(1400);
    const titles = f.fix!.steps.map((s) => s.title).join('\n');
    expect(titles).toMatch(/Calico, operator/);
    expect(titles).toMatch(/flannel/);
    expect(titles).toMatch(/Cilium/);
    expect(f.summary).toMatch(/a CNI this pod does not show/);
  });

  it('not in a pod, or nothing wrong: no finding', () => {
    expect(run([host, calico], { ...k8s, kubernetes: false }).findings.some((x) => x.code === 'pod-network-mtu')).toBe(
      false,
    );
    const fine = {
      ...host,
      probes: [{ ...stall, outcome: 'ok' as const, bytes: 1, capped: true, throughputBps: 1e7 }],
    };
    expect(run([fine, calico]).findings.some((x) => x.code === 'pod-network-mtu')).toBe(false);
  });
});
