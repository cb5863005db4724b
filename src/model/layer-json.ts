/**
 * A layer as the JSON report (schema v1, README "JSON schema") writes it: the fields every layer has, and its
 * kind-specific ones flattened into `facts`, with the keys and values the report has had since 0.1.0. The one place
 * that mapping is written, both ways: toLayerJson for the renderer, fromLayerJson for tools and tests that start
 * from a written report.
 */
import type { ContainerVariant, Layer, LayerBase, LayerKind } from './layers.js';
import type { InterfaceKind } from './report.js';
import { daemonFacts, fromDaemonJson } from './daemon-json.js';
import { bool, defined, num, only, str, type LayerFacts } from './facts.js';

export type { LayerFacts } from './facts.js';

/**
 * The JSON report's `facts` of a layer (schema v1, README "JSON schema"): the same keys and values the report has
 * always had. Undefined for a layer with none (the host).
 */
export function layerFacts(l: Layer): LayerFacts | undefined {
  switch (l.kind) {
    case 'host':
      return l.platform ? { platform: l.platform } : undefined;
    case 'docker-daemon':
      return daemonFacts(l);
    case 'docker-network':
      if (l.purpose === 'verify') {
        return defined([
          ['network', l.network],
          ['driver', l.driver],
          ['mtuOption', l.mtuOption],
          ['isDefault', l.isDefault],
          ['purpose', l.purpose],
        ]);
      }
      return defined([
        ['network', l.network],
        ['driver', l.driver],
        ['isDefault', l.isDefault],
        ['purpose', l.purpose],
        ['internal', l.internal || undefined],
        ['bridge', l.bridge],
        ['mtuOption', l.mtuOption],
        ['origin', l.origin],
        ['composeProject', l.composeProject],
        ['subnets', l.subnets.length ? l.subnets.join(', ') : undefined],
        ['scope', l.scope],
        ['attachable', l.overlay?.attachable],
        ['ingress', l.overlay?.ingress],
        ['encrypted', l.overlay?.encrypted || undefined],
        ['gwbridge', l.gwbridge || undefined],
        ['parent', l.parentIface?.name],
        ['mode', l.mode],
        ['parentMtu', l.parentIface?.mtu],
        ['parentKind', l.parentIface?.kind],
        ['parentTunnelOverhead', l.parentIface?.tunnelOverhead],
        ['containerMtu', l.containerMtu],
      ]);
    case 'container':
    case 'build-step':
      return defined([
        ['variant', l.variant],
        ['network', l.network],
        ['image', l.image],
        ['ms', l.ms],
        ['node', l.node],
        ['exitCode', l.exitCode],
        ['overlay', l.overlay?.network],
        ['overlayIface', l.overlay?.iface],
        ['overlayMtu', l.overlay?.mtu],
        ['egressIface', l.egressIface],
      ]);
    case 'buildx-builder':
      return defined([
        ['builder', l.builder],
        ['container', l.container],
        ['network', l.network],
        ['workerNet', l.workerNet],
        ['source', l.source],
        ['current', l.current],
        ['driverOpts', l.driverOpts?.join(' ')],
        ['buildkitdFlags', l.buildkitdFlags?.join(' ')],
        ['image', l.image],
        ['ms', l.ms],
      ]);
    case 'buildkit-bridge':
      return defined([
        ['bridge', l.bridge],
        ['builder', l.builder],
        ['replicaMtu', l.replica?.mtu],
        ['replicaMs', l.replica?.ms],
      ]);
    case 'pod-network':
      return defined([
        ['cni', l.cni],
        ['cniEvidence', l.evidence.length ? l.evidence.join('; ') : undefined],
        ['cniMtu', l.cniMtu],
        ['backend', l.backend],
      ]);
  }
}

/** A layer as the JSON report (schema v1) writes it. */
export interface LayerJson extends LayerBase {
  kind: LayerKind;
  facts?: LayerFacts;
}

/** The fields every layer has, written in the order the layer holds them (the report's order since v1). */
const BASE_KEYS: ReadonlySet<string> = new Set([
  'id',
  'kind',
  'name',
  'parent',
  'mtu',
  'interfaces',
  'uplinks',
  'probes',
  'notes',
]);

export function toLayerJson(l: Layer): LayerJson {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(l)) if (BASE_KEYS.has(k) && v !== undefined) out[k] = v;
  const facts = layerFacts(l);
  if (facts && Object.keys(facts).length) out.facts = facts;
  return out as unknown as LayerJson;
}

const ORIGINS = ['compose', 'github-actions', 'mtu-preflight'] as const;

/**
 * A layer of a JSON report (schema v1) read back into its typed form: the inverse of toLayerJson, for tools and tests
 * that start from a written report. Unknown kinds are not guessed at: the caller gets undefined.
 */
export function fromLayerJson(j: LayerJson): Layer | undefined {
  const f = j.facts ?? {};
  // The common fields in the order the JSON has them, so that writing the layer again gives the same text.
  const base = Object.fromEntries(Object.entries(j).filter(([k]) => BASE_KEYS.has(k))) as Omit<LayerJson, 'facts'>;
  switch (j.kind) {
    case 'host': {
      const platform = (['darwin', 'win32'] as const).find((p) => p === f.platform);
      return only({ ...base, kind: 'host' as const, platform });
    }
    case 'docker-daemon':
      return fromDaemonJson(base, f);
    case 'docker-network': {
      const driver = str(f, 'driver') ?? 'bridge';
      const parent = str(f, 'parent');
      const subnets = str(f, 'subnets');
      const origin = ORIGINS.find((o) => o === f.origin);
      return only({
        ...base,
        kind: 'docker-network' as const,
        network: str(f, 'network') ?? j.name,
        driver,
        purpose: f.purpose === 'verify' ? ('verify' as const) : ('existing' as const),
        isDefault: bool(f, 'isDefault'),
        internal: bool(f, 'internal'),
        bridge: str(f, 'bridge'),
        mtuOption: num(f, 'mtuOption'),
        containerMtu: num(f, 'containerMtu'),
        origin,
        composeProject: str(f, 'composeProject'),
        subnets: subnets ? subnets.split(', ') : [],
        scope: str(f, 'scope'),
        overlay:
          driver === 'overlay'
            ? { attachable: bool(f, 'attachable'), ingress: bool(f, 'ingress'), encrypted: bool(f, 'encrypted') }
            : undefined,
        gwbridge: bool(f, 'gwbridge'),
        parentIface:
          parent !== undefined
            ? only({
                name: parent,
                mtu: num(f, 'parentMtu'),
                kind: str(f, 'parentKind') as InterfaceKind | undefined,
                tunnelOverhead: num(f, 'parentTunnelOverhead'),
              })
            : undefined,
        mode: str(f, 'mode'),
      });
    }
    case 'container':
    case 'build-step': {
      const overlay = str(f, 'overlay');
      return only({
        ...base,
        kind: j.kind,
        variant: (str(f, 'variant') ?? 'bridge') as ContainerVariant,
        network: str(f, 'network') ?? '',
        image: str(f, 'image') ?? '',
        ms: num(f, 'ms') ?? 0,
        node: str(f, 'node'),
        exitCode: num(f, 'exitCode'),
        egressIface: str(f, 'egressIface'),
        overlay:
          overlay !== undefined
            ? only({ network: overlay, iface: str(f, 'overlayIface') ?? 'eth0', mtu: num(f, 'overlayMtu') })
            : undefined,
      });
    }
    default:
      return fromBuilderJson(j, base, f);
  }
}

/** fromLayerJson's buildx and pod-network layers; undefined for a kind this version does not know. */
function fromBuilderJson(j: LayerJson, base: Omit<LayerJson, 'facts'>, f: LayerFacts): Layer | undefined {
  if (j.kind === 'buildx-builder') {
    const words = (k: string) => str(f, k)?.split(' ').filter(Boolean);
    return only({
      ...base,
      kind: 'buildx-builder' as const,
      builder: str(f, 'builder') ?? j.name,
      container: str(f, 'container') ?? '',
      network: str(f, 'network') ?? '',
      workerNet: str(f, 'workerNet'),
      source: f.source === 'buildx-state' ? ('buildx-state' as const) : ('container' as const),
      current: typeof f.current === 'boolean' ? f.current : undefined,
      driverOpts: words('driverOpts'),
      buildkitdFlags: words('buildkitdFlags'),
      image: str(f, 'image') ?? '',
      ms: num(f, 'ms') ?? 0,
    });
  }
  if (j.kind === 'pod-network') {
    const cni = (['flannel', 'calico', 'cilium'] as const).find((c) => c === f.cni);
    const evidence = str(f, 'cniEvidence');
    return only({
      ...base,
      kind: 'pod-network' as const,
      cni,
      evidence: evidence ? evidence.split('; ') : [],
      cniMtu: num(f, 'cniMtu'),
      backend: str(f, 'backend'),
    });
  }
  if (j.kind !== 'buildkit-bridge') return undefined;
  const mtu = num(f, 'replicaMtu');
  return only({
    ...base,
    kind: 'buildkit-bridge' as const,
    bridge: str(f, 'bridge') ?? '',
    builder: str(f, 'builder') ?? '',
    replica: mtu !== undefined ? { mtu, ms: num(f, 'replicaMs') ?? 0 } : undefined,
  });
}
