/**
 * buildx builders, judged as docker-blackhole judges a network's containers: by contrast with the daemon's own
 * namespace. A builder whose namespace stalls on a target the daemon's namespace fetched is a path-MTU black hole at
 * the builder (its RUN steps stall the same way: `pmtu-blackhole` naming it, the daemon's MTU verified on a temporary
 * network); one whose downloads work over a larger MTU is `mtu-mismatch`. The bridge of buildkitd's bridge mode is
 * judged against the builder's own way out: a probe at the bridge's MTU that stalls while the builder's namespace
 * fetched is a black hole at the bridge, and running RUN steps in the builder's namespace is the verified fix.
 */
import type { BuildkitBridgeLayer, BuildxBuilderLayer, DockerDaemonLayer, Layer } from '../../model/layers.js';
import type { Finding, ProbeResult } from '../../model/report.js';
import { fixBuilderNetwork, fixBuildkitBridge } from '../knobs/buildx.js';
import { fmtMs, type DiagnosisInput, type Rule } from '../rule.js';
import { outerProven, verdictOf } from './docker-blackhole.js';
import { fetched, narrowestUplink, probeLine, stalledText, uplinkText, verificationAttempts } from './docker-common.js';
import { mssFor } from '../../model/net.js';

const builders = (layers: readonly Layer[]) =>
  layers.filter((l): l is BuildxBuilderLayer => l.kind === 'buildx-builder');

/** The daemon a builder runs on: its parent (network=host), or its network's parent. */
function daemonOfBuilder(layers: readonly Layer[], b: BuildxBuilderLayer): DockerDaemonLayer | undefined {
  const byId = new Map(layers.map((l) => [l.id, l]));
  let cur: Layer | undefined = b;
  for (let i = 0; i < 3 && cur; i++) {
    cur = cur.parent !== undefined ? byId.get(cur.parent) : undefined;
    if (cur?.kind === 'docker-daemon') return cur;
  }
  return undefined;
}

interface BuilderContrast {
  daemon: DockerDaemonLayer;
  stalls: ProbeResult[];
  /** The stalls whose target the daemon's namespace fetched with full-size packets. */
  contrast: Array<{ p: ProbeResult; outer: ProbeResult }>;
}

function contrastOf(layers: readonly Layer[], b: BuildxBuilderLayer): BuilderContrast | undefined {
  const daemon = daemonOfBuilder(layers, b);
  if (!daemon || b.probes.length === 0) return undefined;
  const outer = new Map(daemon.probes.map((p) => [p.url, p]));
  const stalls = b.probes.filter((p) => p.outcome === 'stall');
  const contrast = stalls
    .map((p) => ({ p, outer: outer.get(p.url) }))
    .filter((x): x is { p: ProbeResult; outer: ProbeResult } => !!x.outer && outerProven(layers, daemon, x.outer));
  return { daemon, stalls, contrast };
}

/** The MTU worth verifying for a builder that stalled where the daemon's namespace did not (LayerContext.planVerification). */
export function builderVerificationMtu(layers: readonly Layer[]): number | undefined {
  for (const b of builders(layers)) {
    const c = contrastOf(layers, b);
    if (c && c.contrast.length > 0 && c.daemon.mtu !== undefined) return c.daemon.mtu;
  }
  return undefined;
}

const mssText = (mtu: number | undefined) => (mtu !== undefined ? ` (advertises MSS ${mssFor(mtu)})` : '');

function judgeBuilder(input: DiagnosisInput, b: BuildxBuilderLayer): Finding | undefined {
  const c = contrastOf(input.layers, b);
  if (!c) return undefined;
  const { daemon, stalls, contrast } = c;
  const outerMtu = daemon.mtu ?? narrowestUplink(daemon)?.effectiveMtu;
  const where = `buildx builder ${b.builder} (container ${b.container} on ${b.network})`;
  const mtuEvidence = [
    `${b.name}: eth0 MTU ${b.mtu ?? '?'}${mssText(b.mtu)}${b.workerNet ? `, buildkitd worker network ${b.workerNet}` : ''}`,
    `daemon namespace: ${uplinkText(daemon).replace(/^the daemon's /, '')}`,
  ];
  if (contrast.length > 0 && outerMtu !== undefined) {
    const v = verdictOf(verificationAttempts(input.layers, daemon), outerMtu);
    const first = contrast[0]!;
    const verifiedText = v.verified ? ` (${v.verified.ok ? 'verified' : 'not verified'}: ${v.verified.detail})` : '';
    return {
      code: 'pmtu-blackhole',
      severity: 'error',
      layer: b.id,
      summary:
        `From inside ${where}, MTU ${b.mtu ?? '?'}, where its RUN steps run: ${first.p.host} ${stalledText(first.p)}, ` +
        `while the daemon's own namespace (${uplinkText(daemon)}) fetched it in ${fmtMs(first.outer.phases.doneMs)}. ` +
        `Path-MTU black hole: every RUN step of this builder that downloads stalls the same way. Fix: re-create the builder with network=host or on a network with MTU ${v.mtu}${verifiedText}.`,
      evidence: [
        ...new Set([
          ...stalls.map((p) => probeLine(b.name, p)),
          ...contrast.map((x) => probeLine('daemon namespace (--network host)', x.outer)),
          ...mtuEvidence,
          ...v.evidence,
        ]),
      ],
      targets: [...new Set(stalls.map((p) => p.target))],
      recommendedMtu: v.mtu,
      fix: fixBuilderNetwork(input.ci, b.builder, v.mtu),
      ...(v.verified ? { verified: v.verified } : {}),
    };
  }
  if (stalls.length === 0 && b.mtu !== undefined && outerMtu !== undefined && b.mtu > outerMtu) {
    return {
      code: 'mtu-mismatch',
      severity: 'warning',
      layer: b.id,
      summary: `${where} has MTU ${b.mtu}, above ${uplinkText(daemon)}: its downloads worked because the path repaired the oversize packets, but its RUN steps stall wherever that stops. Re-create it with network=host or on a network with MTU ${outerMtu}.`,
      evidence: [...b.probes.map((p) => probeLine(b.name, p)), ...mtuEvidence],
      recommendedMtu: outerMtu,
      fix: fixBuilderNetwork(input.ci, b.builder, outerMtu),
    };
  }
  return undefined;
}

function judgeBridge(input: DiagnosisInput, br: BuildkitBridgeLayer): Finding | undefined {
  const b = input.layers.find((l): l is BuildxBuilderLayer => l.id === br.parent && l.kind === 'buildx-builder');
  const egress = b ? (narrowestUplink(b)?.effectiveMtu ?? b.mtu) : undefined;
  if (!b || br.mtu === undefined || egress === undefined || br.mtu <= egress) return undefined;
  const where = `buildkitd's bridge ${br.bridge} in builder ${b.builder}`;
  const inside = b.probes.filter((p) => p.outcome === 'ok');
  const stalled = br.probes.find((p) => p.outcome === 'stall');
  const evidence = [
    `${br.name}: MTU ${br.mtu}${mssText(br.mtu)}: RUN steps in buildkitd's bridge mode sit on it`,
    `${b.name}: way out MTU ${egress}`,
    ...br.probes.map((p) => probeLine(`a network with the bridge's MTU ${br.replica?.mtu ?? br.mtu}`, p)),
    ...inside.map((p) => probeLine(`${b.name} (its own namespace)`, p)),
  ];
  if (stalled && inside[0]) {
    const ok = inside[0];
    return {
      code: 'pmtu-blackhole',
      severity: 'error',
      layer: br.id,
      summary:
        `${where} has MTU ${br.mtu}, above the builder's way out (MTU ${egress}): at the bridge's MTU ${stalled.host} ${stalledText(stalled)}. ` +
        `Path-MTU black hole for every RUN step of ${b.builder}; no dockerd or network MTU reaches this bridge. Fix: run RUN steps in the builder's namespace, buildkitd --oci-worker-net=host (verified: the builder's namespace at MTU ${egress} fetched ${fetched(ok)}).`,
      evidence,
      targets: [...new Set(br.probes.filter((p) => p.outcome === 'stall').map((p) => p.target))],
      // No recommendedMtu: no MTU setting reaches this bridge (the fix is host mode), so the headline and the
      // report must not tell anyone to set one. What was verified is the builder's namespace at its MTU.
      verified: { mtu: egress, ok: true, detail: `the builder's own namespace (MTU ${egress}) fetched ${fetched(ok)}` },
      fix: fixBuildkitBridge(input.ci, b.builder, br.bridge, egress),
    };
  }
  return {
    code: 'mtu-mismatch',
    severity: 'warning',
    layer: br.id,
    summary: `${where} has MTU ${br.mtu}, above the builder's way out (MTU ${egress}): RUN steps on it advertise MSS ${mssFor(br.mtu)} and stall wherever the path does not repair oversize packets.${br.probes.length ? '' : ' Not measured at the bridge\u2019s MTU.'} Run RUN steps in the builder's namespace (--oci-worker-net=host).`,
    evidence,
    fix: fixBuildkitBridge(input.ci, b.builder, br.bridge, egress),
  };
}

export const buildxBuilder: Rule = {
  id: 'buildx-builder',
  evaluate(input: DiagnosisInput): Finding[] {
    const out: Finding[] = [];
    for (const l of input.layers) {
      const f =
        l.kind === 'buildx-builder'
          ? judgeBuilder(input, l)
          : l.kind === 'buildkit-bridge'
            ? judgeBridge(input, l)
            : undefined;
      if (f) out.push(f);
    }
    return out;
  },
};
