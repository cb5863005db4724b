/**
 * Issue 11, a job in a Kubernetes pod with no Docker daemon: the runner namespace stands in for the pod (its eth0 at
 * 1500), the router's 1450 hop toward it drops ICMP frag-needed (the black hole), and the CLI runs with
 * KUBERNETES_SERVICE_HOST set, as a pod's environment has it, and --docker off.
 *
 * STAND-IN: no Kubernetes cluster runs here. The "Calico pod" is the runner namespace given Calico's routing as it
 * looks from inside a pod (test/fixtures/pod-calico-ipip): `default via 169.254.1.1 dev eth0` with
 * `169.254.1.1 dev eth0 scope link`, the router holding 169.254.1.1 on its side as the node's cali* veth answers it
 * (Calico does it by proxy ARP). The plain pod keeps the lab's ordinary gateway: the CNI cannot be told.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab } from './harness/lab.js';
import { runCli } from './cli.js';

let lab: Lab | undefined;

beforeAll(() => {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
});

afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function must(p: Promise<{ code: number | null; stderr: string }>, what: string): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.stderr.trim()}`);
}

const args = (l: Lab) => [
  '--url',
  `https://${l.registryName}/blob?bytes=8388608`,
  '--registries',
  'none',
  '--ca-file',
  l.caFile,
  '--docker',
  'off',
  '--json',
  '--no-lint',
];
const inPod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe('a job in a Kubernetes pod behind a 1450 black hole (pod stand-in, see the header)', () => {
  it("a Calico-routed pod: the fix names Calico's MTU knobs and MSS clamping on the node", async () => {
    lab = await createLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    await must(lab.execIn('router', 'ip', ['addr', 'add', '169.254.1.1/32', 'dev', 'to-runner']), 'router 169.254.1.1');
    await must(lab.exec('ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']), 'pod link route');
    await must(lab.exec('ip', ['route', 'replace', 'default', 'via', '169.254.1.1', 'dev', 'eth0']), 'pod default');
    const r = await runCli(lab, args(lab), { env: inPod });
    const codes = (r.report?.findings ?? []).map((f) => f.code);
    console.log(
      `[pod-lab] calico pod: exit ${r.code}, ${r.report?.verdict}, ${(r.ms / 1000).toFixed(1)} s, codes ${codes.join(',')}`,
    );
    expect(r.report?.verdict, r.stderr).toBe('fail');
    const pod = r.report?.layers.find((l) => l.id === 'pod-network');
    expect(pod?.kind).toBe('pod-network');
    expect(pod?.facts).toMatchObject({ cni: 'calico' });
    const f = r.report?.findings.find((x) => x.code === 'pod-network-mtu');
    expect(f?.summary).toMatch(/Kubernetes pod on Calico \(default gateway 169\.254\.1\.1/);
    const snippets = (f?.fix?.steps ?? []).map((s) => s.snippet).join('\n');
    expect(snippets).toContain('calicoNetwork');
    expect(snippets).toContain('veth_mtu');
    expect(snippets).toContain('--clamp-mss-to-pmtu');
  });

  it('a pod that shows no CNI: every CNI knob, and the report says it cannot tell', async () => {
    lab = await createLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await runCli(lab, args(lab), { env: inPod });
    expect(r.report?.verdict, r.stderr).toBe('fail');
    const pod = r.report?.layers.find((l) => l.id === 'pod-network');
    expect(pod?.notes.join(' ')).toMatch(/cannot tell the CNI from inside this pod/);
    const f = r.report?.findings.find((x) => x.code === 'pod-network-mtu');
    const titles = (f?.fix?.steps ?? []).map((s) => s.title).join('\n');
    expect(titles).toMatch(/Calico/);
    expect(titles).toMatch(/flannel/);
    expect(titles).toMatch(/Cilium/);
  });

  it('without KUBERNETES_SERVICE_HOST: no pod layer, no pod finding', async () => {
    lab = await createLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await runCli(lab, args(lab));
    expect(r.report?.verdict, r.stderr).toBe('fail');
    expect(r.report?.layers.some((l) => l.kind === 'pod-network')).toBe(false);
    expect(r.report?.findings.some((x) => x.code === 'pod-network-mtu')).toBe(false);
  });
});
