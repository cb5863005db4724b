/**
 * Kubernetes pod-network knobs, for a job that runs in a pod (GitLab's Kubernetes executor, ARC in Kubernetes mode,
 * kaniko or buildah builds): the pod's eth0 MTU is the CNI's, and only the cluster admin changes it. Checked against:
 * - Calico, "Configure MTU to maximize network performance" (docs.tigera.io, calico/latest/networking/configuring/mtu):
 *   operator installs set `spec.calicoNetwork.mtu` of the Installation `default`; manifest installs the `veth_mtu`
 *   key of ConfigMap calico-config, then restart the calico-node DaemonSet; new pods get the MTU.
 * - flannel: it computes the MTU from the interface it uses (`--iface`, else the default route's) less its backend's
 *   encapsulation, writes it to /run/flannel/subnet.env, and has no MTU setting of its own (flannel-io/flannel#463,
 *   Documentation/running.md): the knob is that node interface's MTU.
 * - Cilium, Helm chart value `MTU` ("Configure the underlying network MTU to overwrite auto-detected MTU",
 *   install/kubernetes/cilium/README.md).
 * - MSS clamping on the node (iptables TCPMSS --clamp-mss-to-pmtu, host.ts): covers every pod behind it.
 * A job's own container cannot change its eth0 or routes without CAP_NET_ADMIN, which job pods do not get by default.
 */
import type { Fix, FixStep } from '../../model/report.js';
import { mssFor } from '../../model/net.js';
import { mssClampStep } from './host.js';

export type Cni = 'flannel' | 'calico' | 'cilium';

function cniSteps(cni: Cni | undefined, mtu: string): FixStep[] {
  const calico: FixStep[] = [
    {
      title: 'Calico, operator install (cluster admin): the Installation resource',
      language: 'sh',
      snippet: `kubectl patch installation.operator.tigera.io default --type merge -p '{"spec":{"calicoNetwork":{"mtu":${mtu}}}}'`,
    },
    {
      title: 'Calico, manifest install (cluster admin): veth_mtu in calico-config, then restart calico-node',
      language: 'sh',
      snippet: `kubectl patch configmap/calico-config -n kube-system --type merge -p '{"data":{"veth_mtu":"${mtu}"}}'\nkubectl rollout restart daemonset calico-node -n kube-system`,
    },
  ];
  const flannel: FixStep = {
    title:
      "flannel (cluster admin): it has no MTU setting; pods get the MTU of the node interface it uses (--iface) less the backend's encapsulation (VXLAN 50). Lower that interface's MTU, or clamp the MSS",
    language: 'sh',
    snippet: 'cat /run/flannel/subnet.env   # on a node: FLANNEL_MTU is what pods get',
  };
  const cilium: FixStep = {
    title:
      'Cilium (cluster admin): the Helm value MTU (the underlying network MTU; pods get it less the tunnel overhead)',
    language: 'sh',
    snippet: `helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set MTU=${mtu}`,
  };
  if (cni === 'calico') return calico;
  if (cni === 'flannel') return [flannel];
  if (cni === 'cilium') return [cilium];
  return [...calico, flannel, cilium];
}

/**
 * The fix for a job in a pod whose own probes stall or whose path is smaller than its eth0: the CNI's MTU or MSS
 * clamping on the node (the cluster admin's), and what the job itself can do (nothing, without NET_ADMIN).
 * `mtu`: the path's MTU when known.
 */
export function fixPodNetwork(cni: Cni | undefined, mtu: number | undefined): Fix {
  const value = mtu !== undefined ? String(mtu) : '<the path MTU>';
  const mss = mtu !== undefined ? String(mssFor(mtu)) : '<path MTU - 40>';
  return {
    summary: `The pod's eth0 MTU is set by the ${cni ?? 'cluster'} CNI: the cluster admin lowers the pod network's MTU${mtu !== undefined ? ` to ${mtu}` : ''} or clamps the MSS on the nodes. A job (GitLab's Kubernetes executor, ARC in Kubernetes mode, kaniko or buildah in a pod) cannot change either from its own config.`,
    steps: [
      ...cniSteps(cni, value),
      mssClampStep('On every node (cluster admin, e.g. from a privileged DaemonSet): clamp the MSS of forwarded SYNs'),
      {
        title:
          'From the job itself, only if its container has CAP_NET_ADMIN (pods do not by default): advertise a smaller MSS on its route',
        language: 'sh',
        snippet: `ip route change $(ip route show default | head -n1) advmss ${mss}`,
      },
    ],
  };
}
