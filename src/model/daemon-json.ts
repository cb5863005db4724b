/**
 * A Docker daemon layer's `facts` in the JSON report (schema v1), both ways: written from the typed fields by
 * layer-json.ts's layerFacts, read back by its fromLayerJson.
 */
import type { DesktopEngine, DockerDaemonLayer, EngineIdentity, RootlessState } from './layers.js';
import type { LayerJson } from './layer-json.js';
import { bool, defined, num, only, str, type LayerFacts } from './facts.js';

/** A daemon's facts: its endpoint, version, swarm state and how it was probed. */
export function daemonFacts(l: DockerDaemonLayer): LayerFacts {
  return defined([
    ['reachable', l.reachable],
    ['required', l.required],
    ['endpoint', l.endpoint?.host],
    ['source', l.endpoint?.source],
    ['version', l.version?.version],
    ['apiVersion', l.version?.apiVersion],
    ['os', l.version?.os],
    ['kernel', l.version?.kernel],
    ['probeImage', l.probeImage],
    ['swarm', l.swarm?.state],
    ['swarmNodes', l.swarm?.nodes],
    ['swarmNodeAddr', l.swarm?.nodeAddr],
    ['probeImageMissing', l.probeImageMissing],
    ['probedFrom', l.view?.from],
    ['probeMs', l.view?.ms],
    ['engine', l.engine?.name],
    ['engineVersion', l.engine?.version],
    ['rootless', l.rootless ? true : undefined],
    ['rootlessTap', l.rootless?.tap?.name],
    ['rootlessTapMtu', l.rootless?.tap?.mtu],
    ['desktop', l.desktop?.product],
    ['desktopProfile', l.desktop?.profile],
    ['desktopEvidence', l.desktop?.evidence],
  ]);
}

/** fromLayerJson's daemon layer. */
export function fromDaemonJson(base: Omit<LayerJson, 'facts'>, f: LayerFacts): DockerDaemonLayer {
  const host = str(f, 'endpoint');
  const version = str(f, 'version');
  const major = version !== undefined ? Number.parseInt(version, 10) : Number.NaN;
  const swarm = str(f, 'swarm');
  const probedFrom = str(f, 'probedFrom');
  return only({
    ...base,
    kind: 'docker-daemon' as const,
    reachable: f.reachable !== false,
    required: bool(f, 'required'),
    endpoint: host !== undefined ? { host, source: str(f, 'source') ?? '' } : undefined,
    version:
      version !== undefined
        ? only({
            version,
            apiVersion: str(f, 'apiVersion') ?? '',
            os: str(f, 'os'),
            kernel: str(f, 'kernel'),
            major: Number.isFinite(major) ? major : undefined,
          })
        : undefined,
    swarm:
      swarm !== undefined
        ? only({ state: swarm, nodes: num(f, 'swarmNodes'), nodeAddr: str(f, 'swarmNodeAddr') })
        : undefined,
    probeImage: str(f, 'probeImage'),
    probeImageMissing: str(f, 'probeImageMissing'),
    view:
      probedFrom === 'host-network container'
        ? { from: 'host-network container' as const, ms: num(f, 'probeMs') ?? 0 }
        : undefined,
    desktop: desktopOf(f),
    engine: engineOf(f),
    rootless: rootlessOf(f),
  });
}

function engineOf(f: LayerFacts): EngineIdentity | undefined {
  const name = (['docker', 'podman'] as const).find((e) => e === f.engine);
  return name ? { name, version: str(f, 'engineVersion') ?? '' } : undefined;
}

function rootlessOf(f: LayerFacts): RootlessState | undefined {
  if (f.rootless !== true) return undefined;
  const tap = str(f, 'rootlessTap');
  const mtu = num(f, 'rootlessTapMtu');
  return tap !== undefined && mtu !== undefined ? { tap: { name: tap, mtu } } : {};
}

const DESKTOPS = ['docker-desktop', 'colima', 'podman-machine'] as const;
function desktopOf(f: LayerFacts): DesktopEngine | undefined {
  const product = DESKTOPS.find((d) => d === f.desktop);
  if (!product) return undefined;
  return only({ product, profile: str(f, 'desktopProfile'), evidence: str(f, 'desktopEvidence') ?? '' });
}
