/**
 * buildx builders on a daemon: where `docker buildx build` RUN steps really run. The docker-container driver makes a
 * container named buildx_buildkit_<node> (docker/buildx driver/driver.go BuilderName; the node is <builder>0,
 * store/nodegroup.go), privileged, with a volume <container>_state at /var/lib/buildkit and no labels
 * (driver/docker-container/driver.go create), on the network `--driver-opt network=` named (else the default bridge).
 * Its RUN steps run in its network namespace (buildkitd's host mode) or on buildkitd's own CNI bridge inside it
 * (bridge mode, moby/buildkit#4352).
 *
 * findBuilders() lists the running containers by that name and reads buildx's state where the job can; each builder
 * is then probed from inside its namespace by a probe container with NetworkMode container:<id> (it shares the
 * builder's interfaces and routes: what a RUN step in host mode sees). parseBuilderContainers() is pure.
 */
import type { DockerClient } from './api.js';
import {
  buildxConfigDir,
  readBuildxState,
  workerNetOf,
  type BuildxBuilder,
  type BuildxNode,
  type BuildxState,
  type StateFs,
} from './buildx-state.js';
import type { RunSession } from './lifecycle.js';
import { runProbeContainer, type InnerRun, type ProbeJob } from './runs.js';
import { attemptMtu, type Attempted } from './verify.js';

export const BUILDER_PREFIX = 'buildx_buildkit_';
/** At most this many builders are probed (each is one more container start). */
export const MAX_BUILDER_PROBES = 3;
/** The MTU of buildkitd's bridge: the CNI bridge plugin's default, its config having no mtu key. */
export const CNI_BRIDGE_MTU = 1500;

export interface BuilderContainer {
  id: string;
  /** buildx_buildkit_<node> */
  name: string;
  /** The node's name (<builder>0). */
  node: string;
  /** HostConfig.NetworkMode: 'default' and 'bridge' are the default bridge, 'host', or a network's name. */
  networkMode: string;
  /** The networks it is attached to (NetworkSettings.Networks). */
  networks: string[];
  image: string;
  /** Its command line, split on blanks (buildkitd and its flags). */
  command: string[];
}

interface RawContainer {
  Id?: string;
  Names?: string[] | null;
  Image?: string;
  Command?: string;
  HostConfig?: { NetworkMode?: string } | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

/** `GET /containers/json` entries that are builder containers of the docker-container driver. */
export function parseBuilderContainers(json: unknown): BuilderContainer[] {
  const list = (Array.isArray(json) ? json : []) as RawContainer[];
  const out: BuilderContainer[] = [];
  for (const c of list) {
    const name = (c.Names ?? []).map((n) => n.replace(/^\//, '')).find((n) => n.startsWith(BUILDER_PREFIX));
    if (!name || !c.Id) continue;
    out.push({
      id: c.Id,
      name,
      node: name.slice(BUILDER_PREFIX.length),
      networkMode: c.HostConfig?.NetworkMode ?? 'default',
      networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
      image: c.Image ?? '',
      command: (c.Command ?? '').split(/\s+/).filter(Boolean),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The docker network a builder's traffic leaves by: its own network ('bridge' for the default one), or 'host'. */
export function builderNetwork(c: BuilderContainer): string {
  if (c.networkMode === 'default') return c.networks[0] ?? 'bridge';
  if (c.networkMode.startsWith('container:')) return c.networkMode;
  return c.networkMode;
}

/** What buildx's state says of a builder container: its builder, node, and whether it is the current one. */
export interface BuilderDefinition {
  builder: BuildxBuilder;
  node: BuildxNode;
  current: boolean;
}

export function definitionOf(state: BuildxState | undefined, c: BuilderContainer): BuilderDefinition | undefined {
  for (const builder of state?.builders ?? []) {
    const node = builder.nodes.find((n) => n.name === c.node);
    if (node && builder.driver === 'docker-container')
      return { builder, node, current: state?.current === builder.name };
  }
  return undefined;
}

/** The builder's name: buildx's record, else the node name less its index (<builder>0). */
export const builderName = (c: BuilderContainer, def?: BuilderDefinition) =>
  def?.builder.name ?? c.node.replace(/\d+$/, '');

/** buildkitd's worker network mode: buildx's record (flags, then buildkitd.toml), else the container's command. */
export function builderWorkerNet(c: BuilderContainer, def?: BuilderDefinition): string | undefined {
  if (def) {
    const fromState = workerNetOf(def.node.flags, def.node.buildkitdToml);
    if (fromState) return fromState;
  }
  return workerNetOf(c.command);
}

/**
 * Builders buildx knows of that this run cannot probe, one note each: the kubernetes and remote drivers (buildkitd in
 * pods or elsewhere, not a container of this daemon), cloud builders, and docker-container builders whose container
 * is not running here (another context, or not started yet: buildx starts it at the first build, setup-buildx-action
 * at once).
 */
export function unreachableNotes(state: BuildxState | undefined, found: readonly BuilderContainer[]): string[] {
  const notes: string[] = [];
  for (const b of state?.builders ?? []) {
    if (b.driver === 'docker') continue;
    const where = b.nodes.map((n) => n.endpoint).filter(Boolean);
    if (b.driver === 'docker-container') {
      const missing = b.nodes.filter((n) => !found.some((c) => c.node === n.name));
      if (missing.length)
        notes.push(
          `buildx builder ${b.name} (docker-container): no running container ${missing.map((n) => BUILDER_PREFIX + n.name).join(', ')} on this daemon (another endpoint${where.length ? `: ${where.join(', ')}` : ''}, or not started yet): not probed`,
        );
      continue;
    }
    const why =
      b.driver === 'kubernetes'
        ? 'its buildkitd runs in Kubernetes pods, whose network is the cluster CNI, not a Docker network'
        : b.driver === 'remote'
          ? 'its buildkitd is a remote endpoint, not a container of this daemon'
          : b.driver === 'cloud'
            ? "it builds on Docker Build Cloud's machines"
            : 'its driver runs buildkitd outside this daemon';
    notes.push(
      `buildx builder ${b.name} (${b.driver || 'unknown'} driver${where.length ? `, ${where.join(', ')}` : ''}): not probed: ${why}`,
    );
  }
  return notes;
}

/** GET /containers/json filtered by name (a substring match: the prefix is checked again by the parser). */
export async function listBuilderContainers(api: DockerClient, deadline: number): Promise<BuilderContainer[]> {
  const json = await api.call('GET', '/containers/json', {
    query: { filters: JSON.stringify({ name: [BUILDER_PREFIX], status: ['running'] }) },
    deadline,
  });
  return parseBuilderContainers(json);
}

export interface BuilderRun {
  container: BuilderContainer;
  definition?: BuilderDefinition;
  /** From inside its namespace; absent for network=host builders (the daemon's view is theirs). */
  run?: InnerRun;
  /** A probe on a temporary network with the MTU of the bridge buildkitd puts RUN steps on. */
  replica?: Attempted;
}

/** Probe each builder (up to MAX_BUILDER_PROBES) from inside its namespace, in parallel. */
export async function probeBuilders(
  job: ProbeJob,
  session: RunSession,
  builders: readonly BuilderContainer[],
  state: BuildxState | undefined,
  deadline: number,
): Promise<BuilderRun[]> {
  return Promise.all(
    builders.slice(0, MAX_BUILDER_PROBES).map(async (container, i): Promise<BuilderRun> => {
      const definition = definitionOf(state, container);
      const base = { container, ...(definition ? { definition } : {}) };
      if (container.networkMode === 'host') return base;
      // buildkitd's bridge mode gives RUN steps a CNI bridge at 1500 (no mtu key: moby/buildkit#4352): measure that
      // MTU beside the builder's own namespace rather than after it, one stall timeout sooner to the verdict.
      const bridgeMode = builderWorkerNet(container, definition) === 'bridge';
      const [run, replica] = await Promise.all([
        runProbeContainer(job, `container:${container.id}`, session.name(`builder${i}`), deadline),
        bridgeMode ? attemptMtu(job, session, CNI_BRIDGE_MTU, deadline, `bkbr${i}`) : Promise.resolve(undefined),
      ]);
      return { ...base, run, ...(replica ? { replica } : {}) };
    }),
  );
}

/** The bridge a builder's namespace holds (buildkit0 in bridge mode), with its MTU, from the probe's interfaces. */
export function builderBridge(run: InnerRun | undefined): { name: string; mtu: number } | undefined {
  const b = run?.output?.interfaces.find((i) => i.kind === 'bridge');
  return b ? { name: b.name, mtu: b.mtu } : undefined;
}

/**
 * For each builder whose RUN steps sit on a bridge larger than the builder's own way out: one probe from a temporary
 * network with the bridge's MTU (it advertises the MSS such a RUN step does, out by the same daemon). buildkitd's
 * step namespaces come and go with each RUN, so this stand-in is what can be measured without running a build.
 */
export async function replicateBridges(
  job: ProbeJob,
  session: RunSession,
  runs: BuilderRun[],
  deadline: number,
): Promise<void> {
  await Promise.all(
    runs.map(async (r) => {
      const bridge = builderBridge(r.run);
      const egress = r.run?.output?.mtu;
      if (!bridge || egress === undefined || bridge.mtu <= egress) return;
      if (builderWorkerNet(r.container, r.definition) === 'host') return;
      if (r.replica?.mtu === bridge.mtu) return;
      r.replica = await attemptMtu(job, session, bridge.mtu, deadline, `bkbr${bridge.mtu}`);
    }),
  );
}

export interface FoundBuilders {
  containers: BuilderContainer[];
  state?: BuildxState;
  notes: string[];
}

/** The builder containers on this daemon and buildx's state, whichever can be had; what could not, in notes. */
export async function discoverBuilders(
  api: DockerClient,
  fs: StateFs,
  env: NodeJS.ProcessEnv,
  homedir: string,
  deadline: number,
): Promise<FoundBuilders> {
  const [containers, state] = await Promise.all([
    listBuilderContainers(api, deadline).catch((err: Error) => err),
    readBuildxState(fs, buildxConfigDir(env, homedir)).catch(() => undefined),
  ]);
  const notes: string[] = [];
  if (containers instanceof Error) {
    notes.push(`could not list buildx builder containers: ${containers.message}`);
    return { containers: [], ...(state ? { state } : {}), notes };
  }
  notes.push(...unreachableNotes(state, containers));
  if (containers.length > MAX_BUILDER_PROBES)
    notes.push(
      `probed ${MAX_BUILDER_PROBES} of ${containers.length} buildx builders (${containers
        .slice(MAX_BUILDER_PROBES)
        .map((c) => c.name)
        .join(', ')} not probed)`,
    );
  return { containers, ...(state ? { state } : {}), notes };
}
