/**
 * Which layers the host-level rules (stall, mtu-mismatch, probe failures) should see once the docker layer exists.
 * The inner layers (docker networks, containers, build steps) are judged by the docker-* rules, which compare
 * them with the daemon's namespace; temporary verification networks are evidence, not findings; and a host bridge
 * (docker0) that a probed docker network describes from inside is not judged again by its idle interface MTU.
 */
import type { DockerNetworkLayer, Layer } from '../../model/layers.js';
import type { DiagnosisInput, Rule } from '../rule.js';

const INNER_KINDS = new Set<Layer['kind']>([
  'docker-network',
  'container',
  'build-step',
  'buildx-builder',
  'buildkit-bridge',
  'pod-network',
]);

/** Layers of temporary verification networks and everything attached to them. */
export function verificationLayerIds(layers: readonly Layer[]): Set<string> {
  const ids = new Set(layers.filter((l) => l.kind === 'docker-network' && l.purpose === 'verify').map((l) => l.id));
  for (const l of layers) if (l.parent && ids.has(l.parent)) ids.add(l.id);
  return ids;
}

/** Bridges a probed daemon reported from its own namespace, by name. */
function coveredBridges(layers: readonly Layer[]): Set<string> {
  const out = new Set<string>();
  for (const d of layers) {
    if (d.kind !== 'docker-daemon' || !d.view) continue;
    const seen = new Set(d.interfaces.map((i) => i.name));
    for (const n of layers.filter((l): l is DockerNetworkLayer => l.kind === 'docker-network' && l.parent === d.id)) {
      if (n.bridge !== undefined && seen.has(n.bridge)) out.add(n.bridge);
    }
  }
  return out;
}

/** The input a host-level rule sees: no inner docker layers, and host bridges the docker layer covers left out. */
export function hostView(input: DiagnosisInput): DiagnosisInput {
  const covered = coveredBridges(input.layers);
  const layers = input.layers
    .filter((l) => !INNER_KINDS.has(l.kind))
    .map((l) =>
      l.kind === 'host' && covered.size
        ? { ...l, interfaces: l.interfaces.filter((i) => !(i.kind === 'bridge' && covered.has(i.name))) }
        : l,
    );
  return { ...input, layers };
}

/** The input a rule that applies to every layer sees: everything but the verification networks. */
export function withoutVerification(input: DiagnosisInput): DiagnosisInput {
  const skip = verificationLayerIds(input.layers);
  return skip.size ? { ...input, layers: input.layers.filter((l) => !skip.has(l.id)) } : input;
}

export const scoped = (rule: Rule, view: (f: DiagnosisInput) => DiagnosisInput): Rule => ({
  id: rule.id,
  evaluate: (f) => rule.evaluate(view(f)),
});
