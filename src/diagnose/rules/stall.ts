/**
 * TCP connected, then the transfer stopped: the signature of a path-MTU black hole.
 * It is called `pmtu-blackhole` when something corroborates it:
 *  - the kernel holds out-of-order segments behind a gap (ss: rcv_ooopack > 0): the tail of the
 *    server's flight arrived, its full-size segments did not;
 *  - or, the other way, the server SACKed the tail of our request and never ACKed its full-size head
 *    (src/model/tcp.ts requestHeadLost): our own full-size segments are dropped on the way out;
 *  - or this layer leaves by a path smaller than 1500 / than one of its own networks.
 * Without either it is `transfer-stall`: same severity, but it does not claim a cause it cannot show
 * (a server that accepts and never speaks looks the same from here).
 */
import type { Finding, Layer, ProbeResult } from '../../model/report.js';
import { fixDockerMtu, fixPathBlackhole } from '../knobs/fixes.js';
import { fixHostInterfaceMtu } from '../knobs/desktop.js';
import { requestHeadLost } from '../../model/tcp.js';
import { judgeMechanism, mechanismLine, routeException, uplinkMtuText } from '../mechanism.js';
import { fmtBytes, fmtMs, probeHost, type DiagnosisInput, type Rule } from '../rule.js';

const PHASE_TEXT = {
  connect: 'the TLS handshake',
  tls: 'the TLS handshake',
  headers: 'waiting for the response',
  body: 'the download',
} as const;

function stallEvidence(p: ProbeResult): string[] {
  const ev = [
    `${p.url}: TCP connected in ${fmtMs(p.phases.connectMs)}${p.address ? ` to ${p.address}` : ''}`,
    p.phases.tlsMs !== undefined ? `TLS handshake done at ${fmtMs(p.phases.tlsMs)}` : 'TLS handshake never completed',
    `then ${fmtBytes(p.stall?.afterBytes ?? p.bytes)} received and nothing for ${fmtMs(p.stall?.idleMs)}`,
  ];
  const t = p.tcpInfo;
  if (t) {
    const bits = [
      t.bytesAcked !== undefined ? `bytes_acked ${t.bytesAcked} (the server's kernel got our request)` : '',
      `bytes_received ${t.bytesReceived ?? 0}`,
      t.rcvOooPack
        ? `rcv_ooopack ${t.rcvOooPack} (segments behind a gap arrived; the full-size ones before them did not)`
        : '',
      t.rcvMss !== undefined ? `rcvmss ${t.rcvMss}` : '',
      requestHeadLost(t)
        ? `sacked ${t.sacked} with bytes_acked ${t.bytesAcked ?? 0} (the server got the tail of our request, never its first, full-size segment: dropped on the way out)`
        : '',
    ].filter(Boolean);
    ev.push(`kernel socket state (ss -tin): ${bits.join(', ')}`);
  }
  return ev;
}

/** The smallest MTU this layer's traffic leaves with, when below what its own networks use. */
function layerMismatch(layer: Layer): { uplinkMtu: number; innerMtu: number } | undefined {
  if (layer.mtu === undefined) return undefined;
  const inner = Math.max(
    0,
    ...layer.interfaces.filter((i) => i.kind === 'bridge' && (i.ports?.length ?? 0) > 0).map((i) => i.mtu),
  );
  if (inner > layer.mtu) return { uplinkMtu: layer.mtu, innerMtu: inner };
  return undefined;
}

export const stall: Rule = {
  id: 'stall',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const layer of input.layers) {
      const stalled = layer.probes.filter((p) => p.outcome === 'stall');
      if (stalled.length === 0) continue;
      // Full-size segments lost while shorter ones behind them arrived: the server's (rcv_ooopack) or ours (sacked).
      const ooo = stalled.some(
        (p) => (p.tcpInfo?.rcvOooPack ?? 0) > 0 || (p.tcpInfo !== undefined && requestHeadLost(p.tcpInfo)),
      );
      const smallUplink = layer.uplinks.find((u) => u.effectiveMtu < 1500);
      const mismatch = layerMismatch(layer);
      const corroborated = ooo || !!smallUplink || !!mismatch;
      const first = stalled[0]!;
      const phase = PHASE_TEXT[first.stall?.phase ?? 'tls'];
      const hosts = stalled.map((p) => probeHost(p, layer.probes)).join(', ');
      const uplink = layer.uplinks.find((u) => u.address === first.address) ?? layer.uplinks[0];
      const evidence = stalled.flatMap(stallEvidence);
      if (smallUplink) evidence.push(`uplink ${uplinkMtuText(smallUplink)}`);
      for (const p of stalled) {
        const line = mechanismLine(
          probeHost(p, layer.probes),
          judgeMechanism(
            p,
            layer.uplinks.find((u) => u.address === p.address),
          ),
        );
        if (line) evidence.push(line);
      }
      if (mismatch)
        evidence.push(`a bridge here has MTU ${mismatch.innerMtu}, above the uplink's ${mismatch.uplinkMtu}`);
      // The same URL over the other address family (src/probe/dual-stack.ts): the path of one family is at fault.
      const otherFamilyOk = layer.probes.filter(
        (q) => q.outcome === 'ok' && stalled.some((p) => p.url === q.url && p.family !== q.family),
      );
      for (const q of otherFamilyOk) {
        const bad = stalled.find((p) => p.url === q.url)!;
        evidence.push(
          `${q.host} over IPv${q.family} (${q.address}) downloaded fine while IPv${bad.family} (${bad.address}) stalled: only the IPv${bad.family} path drops full-size packets`,
        );
      }
      const okCount = layer.probes.filter((p) => p.outcome === 'ok').length - otherFamilyOk.length;
      if (okCount)
        evidence.push(`${okCount} other target(s) downloaded fine from this layer: the stall is path-specific`);
      if (corroborated) {
        const recommended = smallUplink?.effectiveMtu ?? mismatch?.uplinkMtu;
        const learned =
          smallUplink && routeException(smallUplink) === smallUplink.effectiveMtu ? smallUplink : undefined;
        // macOS and Windows have no per-route advmss: their interface's MTU is the knob (knobs/desktop.ts).
        const pathFix =
          layer.kind === 'host' && layer.platform
            ? fixHostInterfaceMtu(layer.platform, uplink?.iface, recommended ?? 1400)
            : fixPathBlackhole(uplink?.iface, uplink?.gateway, recommended ?? 1400, first.family === 6 ? 6 : 4);
        // A hole beyond this machine with a Docker daemon here: every layer's MTU at the path's, beside the clamp.
        const docker = input.layers.some((l) => l.kind === 'docker-daemon') && recommended !== undefined;
        findings.push({
          code: 'pmtu-blackhole',
          severity: 'error',
          layer: layer.id,
          summary:
            `${hosts}: TCP connected, then ${phase} stalled: full-size packets are dropped on the path and no ICMP "fragmentation needed" comes back (path-MTU black hole).` +
            (learned
              ? ` The path MTU is ${recommended}, learned from ICMP by this machine (${learned.iface} itself is ${learned.ifaceMtu}): the hole is beyond it, on the path.`
              : recommended
                ? ` Path MTU here is ${recommended}.`
                : ''),
          evidence,
          targets: stalled.map((p) => p.target),
          ...(recommended ? { recommendedMtu: recommended } : {}),
          fix: docker
            ? { ...pathFix, steps: [...pathFix.steps, ...fixDockerMtu(input.ci, recommended).steps] }
            : pathFix,
        });
      } else {
        findings.push({
          code: 'transfer-stall',
          severity: 'error',
          layer: layer.id,
          summary: `${hosts}: TCP connected, then ${phase} stalled with no new bytes for ${fmtMs(first.stall?.idleMs)}. This matches a path-MTU black hole, but nothing here confirms it (no out-of-order segments seen, uplink MTU ${layer.mtu ?? 'unknown'}).`,
          evidence,
          targets: stalled.map((p) => p.target),
          fix: {
            summary:
              'Probe from one layer up (the node, or with --docker) to compare; if the outer layer downloads fine, lower the inner MTU. A server that accepts and never answers looks the same.',
            steps: [],
          },
        });
      }
    }
    return findings;
  },
};
