/**
 * What the path's state says beyond a probe's outcome (src/diagnose/mechanism.ts):
 *  - `path-mtu-learned` (warning): this namespace holds a route exception toward a target, a path MTU learned from
 *    ICMP. Learned during this run, a probe's own full-size packets (Node 24's ~1.6 KB ClientHello) taught it: later
 *    connections advertise a smaller MSS and may work until it expires (net.ipv4.route.mtu_expires, 600 s), and the
 *    hole is still there. Left by an earlier run, the probes' successes may be its doing.
 *  - `mss-clamped` (info): downloads fit because a hop clamps the MSS of SYNs; not PMTUD, and TCP only.
 * Judged where the namespace outlives the run (the runner's and the daemon's), not in throw-away containers.
 */
import type { Finding, Layer, ProbeResult, Uplink } from '../../model/report.js';
import { fixPathBlackhole } from '../knobs/fixes.js';
import { judgeMechanism, learnedText, mechanismLine, routeException } from '../mechanism.js';
import { probeHost, type DiagnosisInput, type Rule } from '../rule.js';

const uplinkOf = (layer: Layer, p: ProbeResult): Uplink | undefined =>
  layer.uplinks.find((u) => u.address === p.address);

function learnedFinding(layer: Layer, u: Uplink, mtu: number): Finding {
  const probes = layer.probes.filter((p) => p.address === u.address);
  const worked = probes.filter((p) => p.outcome === 'ok');
  const expires = u.pmtuExpiresSec !== undefined ? `, for ${u.pmtuExpiresSec} s more` : '';
  const taught =
    u.pmtuLearned === 'this-run'
      ? `a probe of this run taught it: its own full-size packets (a TLS ClientHello, ~1.6 KB from Node 24) drew ICMP "fragmentation needed" from a hop that carries ${mtu}`
      : u.pmtuLearned === 'earlier'
        ? `it was there before any probe ran: an earlier run or job left it${worked.length ? `, so the downloads that worked here may be its doing` : ''}`
        : 'the kernel learned it from ICMP "fragmentation needed"';
  return {
    code: 'path-mtu-learned',
    severity: 'warning',
    layer: layer.id,
    summary:
      `${u.target}: this namespace holds a learned path MTU of ${mtu} toward ${u.address} (a route exception ${learnedText(u.pmtuLearned)}; ${u.iface} itself is ${u.ifaceMtu})${expires}. ` +
      `Until it expires new connections advertise MSS ${mtu - 40} and may work; then they advertise ${u.ifaceMtu - 40} again and stall if the hop drops what does not fit.`,
    evidence: [
      `ip route get ${u.address}: cache${u.pmtuExpiresSec !== undefined ? ` expires ${u.pmtuExpiresSec}sec` : ''} mtu ${mtu}`,
      `${u.iface}: interface MTU ${u.ifaceMtu}`,
      taught,
      ...probes
        .map((p) => mechanismLine(probeHost(p, layer.probes), judgeMechanism(p, u)))
        .filter((l) => l !== undefined),
    ],
    targets: [...new Set(probes.map((p) => p.target))],
    recommendedMtu: mtu,
    fix: fixPathBlackhole(u.iface, u.gateway, mtu, u.address.includes(':') ? 6 : 4),
  };
}

function clampFinding(layer: Layer): Finding | undefined {
  const clamped = layer.probes.flatMap((p) => {
    const m = judgeMechanism(p, uplinkOf(layer, p));
    return m.kind === 'mss-clamp' ? [{ p, m }] : [];
  });
  if (clamped.length === 0) return undefined;
  const { m } = clamped[0]!;
  return {
    code: 'mss-clamped',
    severity: 'info',
    layer: layer.id,
    summary: `${clamped.map(({ p }) => probeHost(p, layer.probes)).join(', ')}: downloads fit because a hop on the path clamps the TCP MSS (the server sends with ${m.serverMss}, below the ${m.advMss} advertised here). That is not PMTUD: it covers TCP only, and only behind that hop.`,
    evidence: clamped.map(({ p, m }) => mechanismLine(p.url, m)!),
    targets: [...new Set(clamped.map(({ p }) => p.target))],
  };
}

export const pathState: Rule = {
  id: 'path-state',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const layer of input.layers) {
      if (layer.kind !== 'host' && layer.kind !== 'docker-daemon') continue;
      for (const u of layer.uplinks) {
        const mtu = routeException(u);
        if (mtu !== undefined) findings.push(learnedFinding(layer, u, mtu));
      }
      const clamp = clampFinding(layer);
      if (clamp) findings.push(clamp);
    }
    return findings;
  },
};
