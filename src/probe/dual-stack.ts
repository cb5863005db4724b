/**
 * A dual-stack name is probed once per address family.
 *
 * Clients with Happy Eyeballs (Node 20+, curl, browsers) race IPv6 and IPv4 and keep whichever connects first; both
 * connect (SYNs are small), so a job may download over either. An IPv6 path that drops full-size packets stalls the
 * downloads that happen to take it, while the address getaddrinfo sorts first (often IPv4, always for ULA IPv6)
 * works. So: the first probe goes where getaddrinfo points, as a client would; as soon as the lookup shows both
 * families, a second probe of the same URL is pinned to the other one (ProbeSettings.family), from the same answer.
 *
 * A family that cannot even connect (no IPv6 route: ENETUNREACH; nothing listens on it) is what Happy Eyeballs
 * falls back from: when the other family connected, that probe is dropped and a note says so, instead of failing
 * the run of every runner without IPv6.
 */
import type { ProbeResult } from '../model/report.js';
import type { Target } from './catalog.js';
import { probeTarget, type LookupAddress, type ProbeDeps, type ProbeSettings } from './download.js';

export interface FamilyProbes {
  /** The probe getaddrinfo's order chose first, then (for a dual-stack name) the other family's. */
  probes: ProbeResult[];
  /** What was probed and left out, and why. */
  notes: string[];
}

/** Connected: TCP got through at some point (the probe failed later, if it failed). */
const connected = (p: ProbeResult) => p.phases.connectMs !== undefined || p.outcome === 'ok';

export async function probeEachFamily(target: Target, settings: ProbeSettings, deps: ProbeDeps): Promise<FamilyProbes> {
  const host = new URL(target.url).hostname;
  let other: Promise<ProbeResult> | undefined;
  let answered = false;
  const lookup = (name: string): Promise<LookupAddress[]> => {
    const answer = deps.lookup(name);
    if (name === host && !answered && settings.family === undefined) {
      answered = true;
      // Registered before the probe's own continuation: `other` is set before the first probe can finish.
      answer.then(
        (addrs) => {
          const first = addrs[0]?.family;
          const second = addrs.find((a) => a.family !== first)?.family;
          if (!first || !second) return;
          const fromSameAnswer = (n: string) => (n === host ? Promise.resolve(addrs) : deps.lookup(n));
          other = probeTarget(target, { ...settings, family: second }, { ...deps, lookup: fromSameAnswer });
        },
        () => undefined,
      );
    }
    return answer;
  };
  const first = await probeTarget(target, settings, { ...deps, lookup });
  if (!other) return { probes: [first], notes: [] };
  const second = await other;
  const probes = [first, second];
  const kept = probes.filter((p) => connected(p) || !probes.some((q) => q !== p && connected(q)));
  const notes = probes
    .filter((p) => !kept.includes(p))
    .map(
      (p) =>
        `${p.host} over IPv${p.family} (${p.address ?? 'no address'}) could not connect (${p.error?.code ?? p.outcome}) while IPv${p.family === 4 ? 6 : 4} did: ` +
        `clients fall back to the family that connects, so only that one was judged`,
    );
  return { probes: kept, notes };
}
