/**
 * The pod-network layer beside the other collectors: when the job runs in a Kubernetes pod (KUBERNETES_SERVICE_HOST),
 * one layer under the runner's namespace that says which CNI made its eth0, or that the pod does not show it.
 */
import type { CollectedLayers, LayerCollector, LayerContext } from '../context.js';
import type { PodNetworkLayer } from '../../model/layers.js';
import { identifyPodNetwork, readPodNetwork, type PodNetwork, type PodObservation } from './cni.js';

export const POD_NETWORK_LAYER_ID = 'pod-network';

const CNI_LABEL = { flannel: 'flannel', calico: 'Calico', cilium: 'Cilium' } as const;

export function podNetworkLayer(hostId: string, n: PodNetwork): PodNetworkLayer {
  return {
    id: POD_NETWORK_LAYER_ID,
    kind: 'pod-network',
    name: `pod network (${n.cni ? CNI_LABEL[n.cni] : 'CNI not shown'})`,
    parent: hostId,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: n.cni
      ? []
      : [
          'cannot tell the CNI from inside this pod: no /etc/cni/net.d or /run/flannel/subnet.env mounted, and its interfaces and routes do not say (ask the cluster admin, or run `kubectl get pods -n kube-system` for calico-node, kube-flannel or cilium)',
        ],
    ...(n.cni ? { cni: n.cni } : {}),
    evidence: n.evidence,
    ...(n.cniMtu !== undefined ? { cniMtu: n.cniMtu } : {}),
    ...(n.backend ? { backend: n.backend } : {}),
  };
}

/** `inner` (the Docker collector, when on) plus the pod network when in a pod. */
export function withPodNetwork(
  env: NodeJS.ProcessEnv,
  inner?: LayerCollector,
  read: () => Promise<PodObservation> = () => readPodNetwork('/'),
): LayerCollector | undefined {
  if (!env.KUBERNETES_SERVICE_HOST) return inner;
  return async (ctx: LayerContext): Promise<CollectedLayers> => {
    const none: CollectedLayers = { layers: [], notes: [] };
    const [rest, pod] = await Promise.all([inner ? inner(ctx) : none, read().catch(() => undefined)]);
    const layer = podNetworkLayer(ctx.hostId, identifyPodNetwork(pod ?? { ifaces: [], gateways: [], cniConfigs: [] }));
    return { layers: [...rest.layers, layer], notes: rest.notes };
  };
}
