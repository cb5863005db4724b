/**
 * Across layers: a docker network whose containers (or build steps) stall while the daemon's own namespace
 * downloads the same target is a path-MTU black hole at that network: `pmtu-blackhole`, naming the network's MTU
 * and the daemon's uplink MTU, recommending the uplink's MTU, with what the verification network measured.
 * A network above the uplink MTU whose containers still download is `mtu-mismatch` (PMTUD repaired the path:
 * a latent risk, it stalls wherever ICMP "fragmentation needed" is filtered).
 */
import type { DockerDaemonLayer, DockerNetworkLayer, InnerLayer, Layer } from '../../model/layers.js';
import type { Finding, ProbeResult } from '../../model/report.js';
import { advertisedBelow, judgeMechanism, mechanismLine, routeException } from '../mechanism.js';
import { fmtMs, type DiagnosisInput, type Rule } from '../rule.js';
import {
  attemptText,
  childrenOf,
  daemonOf,
  egressText,
  engineMtuText,
  fixForDaemonNetwork,
  isPodman,
  hostBridgeOf,
  existingNetworks,
  isGwbridge,
  isOverlay,
  onParent,
  narrowestUplink,
  networkText,
  probeLine,
  stalledText,
  uplinkText,
  verificationAttempts,
  type Attempt,
} from './docker-common.js';
import { desktopName } from '../knobs/desktop.js';

const fixFor = (input: DiagnosisInput, net: DockerNetworkLayer, mtu: number, daemon: DockerDaemonLayer) =>
  fixForDaemonNetwork(input.ci, net, mtu, daemon);

/** The knob in one phrase, for the summary (the finding's fix has the commands). */
function setMtuText(net: DockerNetworkLayer, mtu: number, daemon?: DockerDaemonLayer): string {
  if (isPodman(daemon)) return `set the Podman network's MTU to ${mtu} (--opt mtu=${mtu})`;
  // The engine in a desktop product's VM: the product's own place for it (knobs/desktop.ts has the steps).
  if (daemon?.desktop && daemon.desktop.product !== 'podman-machine' && net.isDefault)
    return `set ${desktopName(daemon.desktop)}'s engine MTU to ${mtu} (${daemon.desktop.product === 'colima' ? "colima's docker: section" : 'Settings → Docker Engine'})`;
  const host = hostBridgeOf(net);
  if (host) return `set ${host}'s MTU and dockerd --mtu to ${mtu}`;
  if (isGwbridge(net)) return `re-create docker_gwbridge with MTU ${mtu}`;
  if (onParent(net) && net.parentIface) return `set the MTU of the parent ${net.parentIface.name} to ${mtu}`;
  return `set the Docker MTU to ${mtu}`;
}

interface Contrast {
  daemon: DockerDaemonLayer;
  /** Its containers (and build steps) that ran probes. */
  inner: InnerLayer[];
  /** The daemon namespace's probe of each target, by URL. */
  outer: Map<string, ProbeResult>;
  stalls: Array<{ c: InnerLayer; p: ProbeResult }>;
  /** The stalls whose target the daemon's own namespace fetched: the black hole is at this network. */
  contrast: Array<{ c: InnerLayer; p: ProbeResult }>;
  /** The stalls whose target the daemon's namespace fetched only with a route exception's smaller MSS. */
  unproven: Array<{ c: InnerLayer; p: ProbeResult }>;
}

/**
 * Whether the daemon namespace's download shows that full-size packets pass. Not when its socket advertised a smaller
 * MSS than its interface gives (a route exception), nor, with no socket state to read (a container without `ss`),
 * when this machine holds a route exception toward the same address: a daemon in this namespace shares its route
 * cache, and whichever probe ran first may have taught it (Node 24's ClientHello is ~1.6 KB). So the verdict does not
 * depend on which probe ran first: a success that may come from a learned MTU is never the "outer works" contrast.
 */
export function outerProven(layers: readonly Layer[], daemon: DockerDaemonLayer, p: ProbeResult): boolean {
  if (p.outcome !== 'ok') return false;
  const uplink = daemon.uplinks.find((u) => u.address === p.address);
  if (judgeMechanism(p, uplink).kind === 'learned-mss') return false;
  const adv = p.tcpInfo?.advMss;
  if (adv !== undefined) return !(uplink && advertisedBelow(adv, uplink.ifaceMtu));
  const host = layers.find((l) => l.kind === 'host');
  return !host?.uplinks.some((u) => u.address === p.address && routeException(u) !== undefined);
}

/** Inner stalls, outer works (the field notes' trio, less its verification): what a network's probes show. */
function contrastAt(layers: readonly Layer[], net: DockerNetworkLayer): Contrast | undefined {
  const daemon = daemonOf(layers, net);
  const inner = childrenOf(layers, net).filter((c) => c.probes.length > 0);
  if (!daemon || inner.length === 0) return undefined;
  const outer = new Map(daemon.probes.map((p) => [p.url, p]));
  const stalls = inner.flatMap((c) => c.probes.filter((p) => p.outcome === 'stall').map((p) => ({ c, p })));
  const fetchedOuter = stalls.filter(({ p }) => outer.get(p.url)?.outcome === 'ok');
  const contrast = fetchedOuter.filter(({ p }) => outerProven(layers, daemon, outer.get(p.url)!));
  const unproven = fetchedOuter.filter((s) => !contrast.includes(s));
  return { daemon, inner, outer, stalls, contrast, unproven };
}

/**
 * The MTU worth verifying on a temporary network: the daemon namespace's, when a container on a bridge (the default
 * one, docker_gwbridge for an overlay's containers) stalled on a target that namespace fetched. A bridge network
 * with that MTU is the same way out as either. macvlan/ipvlan containers leave by their parent, not by such a bridge.
 * The collector asks this before it verifies (LayerContext.planVerification).
 */
export function verificationMtu(layers: readonly Layer[]): number | undefined {
  for (const net of existingNetworks(layers)) {
    if (onParent(net)) continue;
    const c = contrastAt(layers, net);
    if (c && c.contrast.length > 0 && c.daemon.mtu !== undefined) return c.daemon.mtu;
  }
  return undefined;
}

export function verdictOf(
  attempts: Attempt[],
  recommended: number,
): { verified?: Finding['verified']; mtu: number; evidence: string[] } {
  if (attempts.length === 0) return { mtu: recommended, evidence: [] };
  const evidence = attempts.map((a) => `verification: ${attemptText(a)}`);
  const best = attempts.find((a) => a.ok);
  if (!best) {
    const tried = attempts.map((a) => a.mtu).join(', ');
    return {
      mtu: recommended,
      evidence,
      verified: { mtu: recommended, ok: false, detail: `no tried MTU worked (${tried}): ${attemptText(attempts[0]!)}` },
    };
  }
  const worse = attempts.filter((a) => a.mtu > best.mtu && !a.ok);
  const detail = [...worse.map(attemptText), attemptText(best)].join('; ');
  return { mtu: best.mtu, evidence, verified: { mtu: best.mtu, ok: true, detail } };
}

export const dockerBlackhole: Rule = {
  id: 'docker-blackhole',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const net of existingNetworks(input.layers)) {
      // An overlay's containers leave by docker_gwbridge: their probes hang under that layer; docker-overlay judges
      // the overlay itself (VXLAN inside the underlay).
      if (isOverlay(net)) continue;
      const at = contrastAt(input.layers, net);
      if (!at) continue;
      const { daemon, inner, outer, stalls, contrast, unproven } = at;
      const innerMtu = Math.max(net.mtu ?? 0, ...inner.map((c) => c.mtu ?? 0)) || undefined;
      const outerMtu = daemon.mtu;
      const oversized = innerMtu !== undefined && outerMtu !== undefined && innerMtu > outerMtu;
      const where = networkText(net);
      const uplink = narrowestUplink(daemon);
      const mtuEvidence = [
        ...inner.map((c) => `${c.name}: ${egressText(c)}`),
        uplink
          ? `daemon namespace: uplink ${uplink.iface} MTU ${uplink.effectiveMtu}${uplink.explanation ? ` (${uplink.explanation})` : ''}`
          : `daemon namespace: uplink MTU ${outerMtu ?? 'unknown'}`,
      ];

      if (stalls.length > 0) {
        // The daemon's own namespace stalls too: the black hole is further out, and the daemon layer's finding says so.
        if (contrast.length === 0 && [...stalls].every(({ p }) => outer.get(p.url)?.outcome === 'stall')) continue;
        if (contrast.length === 0 && unproven.length > 0) {
          const upstream = upstreamHole(input.layers, daemon, unproven, outer);
          if (upstream) findings.push(upstream);
          continue;
        }
        if (contrast.length === 0 && !oversized) {
          findings.push({
            code: 'transfer-stall',
            severity: 'error',
            layer: net.id,
            summary: `${stalls.map(({ p }) => p.host).join(', ')} from a container on ${where}: ${stalledText(stalls[0]!.p)}. The daemon's own namespace could not be compared, so the cause is not confirmed.`,
            evidence: [...stalls.map(({ c, p }) => probeLine(c.name, p)), ...mtuEvidence],
            targets: [...new Set(stalls.map(({ p }) => p.target))],
            fix: {
              summary:
                'Re-run with the probe image available so the daemon namespace (--network host) can be compared.',
              steps: [],
            },
          });
          continue;
        }
        const recommended = outerMtu ?? uplink?.effectiveMtu;
        // A macvlan/ipvlan on a tunnel parent leaves inside that tunnel: what fits is the path less its encapsulation,
        // and the verification networks (bridges, out by the daemon's route) do not measure that way.
        const tunnel = onParent(net) ? net.parentIface?.tunnelOverhead : undefined;
        const v =
          recommended === undefined
            ? undefined
            : tunnel !== undefined
              ? {
                  mtu: recommended - tunnel,
                  evidence: [
                    `parent ${net.parentIface?.name}: a ${net.parentIface?.kind ?? 'tunnel'} tunnel, ${tunnel} bytes of encapsulation inside MTU ${recommended}`,
                  ],
                }
              : verdictOf(verificationAttempts(input.layers, daemon), recommended);
        const okOuter = [...new Set(contrast.map(({ p }) => outer.get(p.url)))].filter((p): p is ProbeResult => !!p);
        const first = stalls[0]!;
        const verifiedText = v?.verified
          ? v.verified.ok
            ? ` (verified: ${v.verified.detail})`
            : ` (not verified: ${v.verified.detail})`
          : '';
        findings.push({
          code: 'pmtu-blackhole',
          severity: 'error',
          layer: net.id,
          summary:
            // "exceeds" only when it does: never an MTU that exceeds an equal one.
            (oversized
              ? `${where} MTU ${innerMtu} exceeds ${uplinkText(daemon)}: from a container on it ${first.p.host} ${stalledText(first.p)}`
              : `From a container on ${where} (MTU ${innerMtu ?? '?'}, ${uplinkText(daemon)}) ${first.p.host} ${stalledText(first.p)}`) +
            (okOuter[0]
              ? `, while the daemon's own namespace fetched ${okOuter[0].host} in ${fmtMs(okOuter[0].phases.doneMs)}`
              : '') +
            `. Path-MTU black hole.` +
            (v ? ` Fix: ${setMtuText(net, v.mtu, daemon)}${verifiedText}.` : ''),
          // One line per fact: several inner probes compare against the same outer probe.
          evidence: [
            ...new Set([
              ...stalls.map(({ c, p }) => probeLine(c.name, p)),
              ...okOuter.map((p) => probeLine('daemon namespace (--network host)', p)),
              ...mtuEvidence,
              ...(v?.evidence ?? []),
            ]),
          ],
          targets: [...new Set(stalls.map(({ p }) => p.target))],
          ...(v ? { recommendedMtu: v.mtu, fix: fixFor(input, net, v.mtu, daemon) } : {}),
          ...(v?.verified ? { verified: v.verified } : {}),
        });
        continue;
      }

      const allOk = inner.every((c) => c.probes.every((p) => p.outcome === 'ok'));
      // macvlan/ipvlan containers sit on their parent's L2, not behind the daemon's route: docker-parent compares
      // them with the parent (and a tunnel parent with what it rides on).
      if (oversized && allOk && !onParent(net))
        findings.push(latentMismatch(input, { net, daemon, inner, innerMtu, outerMtu, mtuEvidence }));
    }
    return findings;
  },
};

const innerMechanisms = (inner: readonly InnerLayer[]) =>
  inner.flatMap((c) =>
    c.probes.map((p) => ({
      c,
      m: judgeMechanism(
        p,
        c.uplinks.find((u) => u.address === p.address),
      ),
    })),
  );

/** An evidence line per inner probe whose socket shows the mechanism. */
function innerMechanismLines(inner: readonly InnerLayer[]): string[] {
  return innerMechanisms(inner)
    .map(({ c, m }) => mechanismLine(c.name, m))
    .filter((l): l is string => l !== undefined);
}

/** A network above the daemon's path whose containers still downloaded: a latent risk, with what repaired it. */
function latentMismatch(
  input: DiagnosisInput,
  at: {
    net: DockerNetworkLayer;
    daemon: DockerDaemonLayer;
    inner: InnerLayer[];
    innerMtu: number;
    outerMtu: number;
    mtuEvidence: string[];
  },
): Finding {
  const { net, daemon, inner, innerMtu, outerMtu, mtuEvidence } = at;
  return {
    code: 'mtu-mismatch',
    severity: 'warning',
    layer: net.id,
    summary:
      `${networkText(net)} MTU ${innerMtu} exceeds ${uplinkText(daemon)}: downloads from a container on it worked because ${repairText(inner)}, ` +
      `but they stall wherever that stops. Set ${engineMtuText(daemon)} to ${outerMtu}.`,
    evidence: [
      ...inner.flatMap((c) => c.probes.map((p) => probeLine(c.name, p))),
      ...innerMechanismLines(inner),
      ...mtuEvidence,
    ],
    recommendedMtu: outerMtu,
    fix: fixFor(input, net, outerMtu, daemon),
  };
}

/** What the inner sockets show made the servers' segments fit; both candidates when no socket state says which. */
function repairText(inner: readonly InnerLayer[]): string {
  const kinds = new Set(
    inner.flatMap((c) =>
      c.probes.map(
        (p) =>
          judgeMechanism(
            p,
            c.uplinks.find((u) => u.address === p.address),
          ).kind,
      ),
    ),
  );
  if (kinds.has('mss-clamp') && !kinds.has('pmtud')) return 'a hop on the path clamps the TCP MSS (not PMTUD)';
  if (kinds.has('pmtud') && !kinds.has('mss-clamp'))
    return 'ICMP "fragmentation needed" reaches the servers (PMTUD repaired the path)';
  return 'the servers\' segments were made to fit on the way: PMTUD (ICMP "fragmentation needed" reaching the servers) or an MSS clamp on the path (no socket state from inside the container says which)';
}

/**
 * Containers stalled and the daemon's namespace fetched the target only with a route exception's smaller MSS: the
 * hole is on the path beyond this machine, not at the network. Said on the daemon layer when the runner's own probe
 * of that target does not already say it (its stall is the host's pmtu-blackhole, which names the learned MTU).
 */
function upstreamHole(
  layers: readonly Layer[],
  daemon: DockerDaemonLayer,
  unproven: Array<{ c: InnerLayer; p: ProbeResult }>,
  outer: Map<string, ProbeResult>,
): Finding | undefined {
  const host = layers.find((l) => l.kind === 'host');
  const open = unproven.filter(({ p }) => !host?.probes.some((q) => q.url === p.url && q.outcome === 'stall'));
  if (open.length === 0) return undefined;
  const first = open[0]!;
  const ok = outer.get(first.p.url)!;
  const exception = [host, daemon]
    .flatMap((l) => l?.uplinks ?? [])
    .map((u) => (u.address === ok.address ? routeException(u) : undefined))
    .find((m) => m !== undefined);
  return {
    code: 'pmtu-blackhole',
    severity: 'error',
    layer: daemon.id,
    summary:
      `${first.p.host}: from containers ${stalledText(first.p)}; the daemon's own namespace fetched it only with the smaller MSS a learned path MTU${exception ? ` of ${exception}` : ''} gave it. ` +
      'The hole is on the path beyond this machine (a path-MTU black hole upstream), and it is back for every connection once that route exception expires.',
    evidence: [
      ...open.map(({ c, p }) => probeLine(c.name, p)),
      probeLine('daemon namespace (--network host)', ok),
      'a route exception toward the same address is held here: a success that may come from it does not show that full-size packets pass',
    ],
    targets: [...new Set(open.map(({ p }) => p.target))],
    ...(exception ? { recommendedMtu: exception } : {}),
  };
}
