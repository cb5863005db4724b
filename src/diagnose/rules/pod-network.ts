/**
 * A job in a Kubernetes pod with no Docker daemon between it and the path: its own eth0, which the CNI made, is the
 * inner layer. When the runner's own probes stall, or its path is smaller than its eth0 (a learned path MTU), the fix
 * is the pod network's (the CNI's MTU, MSS clamping on the node), not dockerd's: `pod-network-mtu` (info, beside the
 * stall or path finding that makes the verdict), naming the CNI as the pod shows it or saying it cannot tell.
 */
import type { HostLayer, Layer, PodNetworkLayer } from '../../model/layers.js';
import type { Finding } from '../../model/report.js';
import { fixPodNetwork } from '../knobs/kubernetes.js';
import type { DiagnosisInput, Rule } from '../rule.js';
import { narrowestUplink } from './docker-common.js';

const CNI_LABEL = { flannel: 'flannel', calico: 'Calico', cilium: 'Cilium' } as const;

export const podNetwork: Rule = {
  id: 'pod-network',
  evaluate(input: DiagnosisInput): Finding[] {
    if (!input.ci.kubernetes) return [];
    const pod = input.layers.find((l): l is PodNetworkLayer => l.kind === 'pod-network');
    const host = input.layers.find((l: Layer): l is HostLayer => l.kind === 'host');
    if (!pod || !host) return [];
    const stalls = host.probes.filter((p) => p.outcome === 'stall');
    const u = narrowestUplink(host);
    const smaller = u && u.effectiveMtu < u.ifaceMtu ? u : undefined;
    if (stalls.length === 0 && !smaller) return [];
    const mtu = smaller?.effectiveMtu;
    const cni = pod.cni ? `${CNI_LABEL[pod.cni]} (${pod.evidence[0] ?? 'seen'})` : 'a CNI this pod does not show';
    const what = stalls.length
      ? `downloads from this pod stall (${[...new Set(stalls.map((p) => p.host))].join(', ')})`
      : `the path from this pod is MTU ${smaller!.effectiveMtu}, below its ${smaller!.iface} MTU ${smaller!.ifaceMtu}`;
    return [
      {
        code: 'pod-network-mtu',
        severity: 'info',
        layer: pod.id,
        summary: `This job runs in a Kubernetes pod on ${cni}, with no Docker daemon in between: ${what}. The pod's ${u?.iface ?? 'eth0'} MTU${u ? ` ${u.ifaceMtu}` : ''} is the pod network's, so the fix is the CNI's MTU or MSS clamping on the nodes (the cluster admin's), not dockerd.`,
        evidence: [...pod.evidence.map((e) => `pod network: ${e}`), ...pod.notes],
        ...(mtu !== undefined ? { recommendedMtu: mtu } : {}),
        fix: fixPodNetwork(pod.cni, mtu),
      },
    ];
  },
};
