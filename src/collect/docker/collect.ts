/**
 * The nested Docker layer, in sequence: find the daemon and inspect it; open a run session on it (labels, cleanup,
 * cancellation: lifecycle.ts); probe from inside at once (a container on the default bridge, one with --network host,
 * one per overlay/macvlan/ipvlan network, a `docker build` RUN step: runs.ts); verify a lower MTU the diagnosis asks
 * for, started on the first answers (verify.ts); hand everything to the pure layer builder (layers.ts).
 * Everything created is removed before returning, on SIGINT/SIGTERM, and by the next run if this one is killed.
 */
import { randomBytes } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Layer } from '../../model/layers.js';
import { GWBRIDGE, isParentDriver } from '../../model/net.js';
import { CONTAINER_PROXY_VARIABLES } from '../../model/proxy.js';
import { resolveTargets } from '../../probe/catalog.js';
import { redactUrl } from '../../util/redact.js';
import { onCleanup } from '../../util/cleanup.js';
import { byDeadline } from '../../util/deadline.js';
import type { CollectedLayers, LayerCollector, LayerContext } from '../context.js';
import { createDockerClient, describeUnreachable, type DockerClient } from './api.js';
import { discoverBuilders, probeBuilders, replicateBridges, type FoundBuilders } from './builders.js';
import { resolveDockerEndpoint, type DockerEndpoint } from './endpoint.js';
import { inspectDaemon, inspectNetwork, type DaemonInspection, type DockerNetwork } from './inspect.js';
import { buildDaemonLayers, unreachableDaemonLayer, type DaemonObservation, type DaemonRuns } from './layers.js';
import { openSession, sweepLeftovers, type RunSession } from './lifecycle.js';
import { loadProbeScript } from './probe-script.js';
import { ensureImage, runProbeBuild, runProbeContainer, type InnerRun, type ProbeJob } from './runs.js';
import { verifyEarly, type EarlyVerification } from './verify.js';

export interface DockerLayerDeps {
  env: NodeJS.ProcessEnv;
  /** The run's clock (ctx.deadline is in its terms). */
  now: () => number;
  /** Wall clock (epoch ms) for the expiry labels that let a later run sweep our leftovers. */
  wallNow?: () => number;
  homedir?: string;
  readFile?: (p: string) => Promise<string | undefined>;
  loadScript?: () => Promise<string>;
  createClient?: (endpoint: DockerEndpoint, now: () => number) => DockerClient;
  /** Registers a cleanup for SIGINT/SIGTERM (src/util/cleanup.ts); returns its unregister function. */
  onCleanup?: (fn: () => Promise<void>) => () => void;
}

/**
 * Probe containers on networks other than the default bridge (attachable overlays, macvlan, ipvlan), at most: each is
 * one more container start in parallel, and a daemon may have dozens of networks.
 */
export const MAX_SHAPE_PROBES = 4;
/** Reserved at the end for removing what we created. */
const CLEANUP_RESERVE_MS = 1500;
/** How long the probes wait, after their preparation, for the runner's handshakes (LayerContext.outerHandshakes). */
const HANDSHAKE_GRACE_MS = 150;
const LOOPBACK_PROXY = /^(\w+:\/\/)?([^@/]*@)?(localhost|127\.[\d.]+|\[::1\])(:|\/|$)/i;

/** The run's layer-collector hook: `deps.collectLayers = dockerLayers(deps)`. */
export function dockerLayers(deps: DockerLayerDeps): LayerCollector {
  return (ctx) => collectDockerLayers(ctx, deps);
}

export async function collectDockerLayers(ctx: LayerContext, deps: DockerLayerDeps): Promise<CollectedLayers> {
  const { now } = deps;
  const required = ctx.options.docker === 'required';
  const unreachable = (message: string, endpoint?: DockerEndpoint): CollectedLayers =>
    required
      ? { layers: [unreachableDaemonLayer(ctx.hostId, message, endpoint)], notes: [] }
      : { layers: [], notes: [message] };

  let endpoint: DockerEndpoint;
  try {
    endpoint = await resolveDockerEndpoint({
      env: deps.env,
      homedir: deps.homedir ?? os.homedir(),
      readFile: deps.readFile ?? ((p) => readFile(p, 'utf8').catch(() => undefined)),
      exists: (p) =>
        access(p).then(
          () => true,
          () => false,
        ),
    });
  } catch (err) {
    return unreachable(describeUnreachable(err, deps.env.DOCKER_HOST ?? '?'));
  }

  const api = (deps.createClient ?? createDockerClient)(endpoint, now);
  const workDeadline = ctx.deadline - CLEANUP_RESERVE_MS;
  let inspection: DaemonInspection;
  try {
    inspection = await inspectDaemon(api, Math.min(workDeadline, now() + 5000));
  } catch (err) {
    await api.close();
    const why = describeUnreachable(err, endpoint.host);
    return unreachable(endpoint.notes?.length ? `${why}; ${endpoint.notes.join('; ')}` : why, endpoint);
  }

  const wallNow = deps.wallNow ?? Date.now;
  // A run cannot outlive --timeout; a minute of slack for clocks and slow removal.
  const session = openSession(api, randomBytes(6).toString('hex'), wallNow() + ctx.options.timeoutMs + 60_000, now);
  const unregister = (deps.onCleanup ?? onCleanup)(() => session.cancel());
  const observation: DaemonObservation = {
    endpoint,
    inspection,
    required,
    probeImage: ctx.options.probeImage,
    notes: [],
  };
  // Cancelled by SIGINT/SIGTERM: the process is exiting with the signal's code, so the collector returns nothing
  // rather than a report of aborted probes.
  const settle = (): CollectedLayers | Promise<CollectedLayers> =>
    session.cancelled
      ? new Promise<CollectedLayers>(() => undefined)
      : { layers: buildDaemonLayers(observation, ctx.hostId), notes: [] };
  try {
    await probeDaemon(ctx, deps, api, session, observation, workDeadline);
  } catch (err) {
    // Every API failure is handled where it happens; this is a bug, and the run's report is still worth having.
    observation.lateNotes = [`docker layer stopped early: ${(err as Error).message}`];
  }
  // The reserve is ours: remove what we made before the report is written. The layers are built after it: a
  // container's exit code comes in with its exit, after its answer (runs.ts).
  if (await session.finish(ctx.deadline, now)) {
    unregister();
    await api.close();
  }
  return settle();
}

/** Networks a container of ours joins to look from inside: attachable overlays, macvlan and ipvlan. */
function probesItself(n: DockerNetwork): boolean {
  if (n.internal) return false;
  return (n.driver === 'overlay' && n.attachable === true && n.ingress !== true) || isParentDriver(n.driver);
}

/** The probes inside one daemon; what they find goes into `o` as it comes (a failure keeps what came before it). */
async function probeDaemon(
  ctx: LayerContext,
  deps: DockerLayerDeps,
  api: DockerClient,
  session: RunSession,
  o: DaemonObservation,
  workDeadline: number,
): Promise<void> {
  const { now } = deps;
  const networks = o.inspection.networks.filter((n) => n.origin !== 'mtu-preflight');
  const probed = networks.filter(probesItself);
  const shapeNets = probed.slice(0, MAX_SHAPE_PROBES);
  if (probed.length > shapeNets.length) {
    o.notes.push(
      `probed from ${shapeNets.length} of ${probed.length} overlay/macvlan/ipvlan networks (${shapeNets.map((n) => n.name).join(', ')}); the others are checked by their options only`,
    );
  }
  const [, image, script, found] = await Promise.all([
    sweepLeftovers(api, (deps.wallNow ?? Date.now)(), Math.min(workDeadline, now() + 3000))
      .then((s) => {
        const n = s.containers + s.networks + s.images;
        if (n) o.notes.push(`removed ${n} leftover(s) of an earlier, interrupted run (label io.mtu-preflight=1)`);
      })
      .catch(() => undefined),
    ensureImage(api, ctx.options.probeImage, ctx.options.pull, workDeadline),
    (deps.loadScript ?? loadProbeScript)(),
    discoverBuildersOf(deps, api, Math.min(workDeadline, now() + 3000)),
  ]);
  o.notes.push(...found.notes);
  if (!image.ok) {
    o.probeImageMissing = image.reason;
    o.notes.push(`no probes inside the daemon: ${image.reason}`);
    return;
  }
  if (image.pulled) o.notes.push(`pulled ${ctx.options.probeImage}`);

  // The runner's handshakes, if done by now (they run meanwhile; a short grace, never a stall's worth).
  const handshakes = ctx.outerHandshakes
    ? await byDeadline(ctx.outerHandshakes, now() + HANDSHAKE_GRACE_MS, now, undefined)
    : undefined;
  const job = probeJob(ctx, deps, api, session, script, handshakes);
  const loopbackProxy = Object.entries(job.env).find(([k, v]) => !/no_proxy/i.test(k) && LOOPBACK_PROXY.test(v));
  if (loopbackProxy) {
    o.notes.push(
      `${loopbackProxy[0]} points at loopback (${loopbackProxy[1].replace(/\/\/[^@/]*@/, '//***@')}): containers on a bridge have their own loopback, so their probes cannot use that proxy`,
    );
  }

  // (a) the default bridge (`docker run`), (b) the daemon's own namespace, (c) the other network shapes and (d) a
  // build step, all at once: the build depends on nothing the others find, and a stall costs each of them the stall
  // timeout, so running it beside them rather than after them takes one stall timeout off the time to verdict.
  const defaultNet = networks.find((n) => n.isDefault);
  const buildWork: Promise<InnerRun | undefined> = defaultNet
    ? // Settled whatever happens: if the steps below throw, nobody awaits it.
      runProbeBuild(job, `mtu-preflight-probe:${session.runId}`, workDeadline).catch((err: Error) => ({
        error: `build step failed: ${err.message}`,
        ms: 0,
      }))
    : Promise.resolve(undefined);
  const bridgeWork = defaultNet
    ? runProbeContainer(job, 'bridge', session.name('bridge'), workDeadline)
    : Promise.resolve(undefined);
  const hostWork = runProbeContainer(job, 'host', session.name('host'), workDeadline);
  // (e) the verification of a lower MTU starts as soon as the daemon namespace's answer shows its uplink below the
  // default bridge, while the other shapes and the builders still probe; it counts once the bridge's stall is in and
  // the diagnosis asks for it (verify.ts; planned again below if it did not start).
  const verification = verifyEarly(
    job,
    session,
    bridgeWork,
    hostWork,
    earlyVerification(ctx, o, defaultNet),
    workDeadline,
  );
  const earlyVerify = verification.early.catch(() => undefined);
  const [builders, bridge, host, ...onShapes] = await Promise.all([
    probeBuilders(job, session, found.containers, found.state, workDeadline),
    bridgeWork,
    hostWork,
    ...shapeNets.map((n, i) => runProbeContainer(job, n.name, session.name(`net${i}`), workDeadline)),
  ]);
  const runs: DaemonRuns = {
    ...(bridge ? { bridge } : {}),
    host: host,
    shapes: shapeNets.map((net, i) => ({ net, run: onShapes[i]! })),
    verify: [],
    builders,
  };
  // Docker creates docker_gwbridge on a node's first overlay container: our probe may just have made it.
  if (runs.shapes.some((r) => r.net.driver === 'overlay') && !networks.some((n) => n.gwbridge)) {
    const gw = await inspectNetwork(api, GWBRIDGE, Math.min(workDeadline, now() + 3000));
    if (gw) runs.gwbridge = gw;
  }
  o.runs = runs;

  // The verification, when it did not start early and the diagnosis asks for one now, while the build step finishes.
  const verifying = earlyVerify.then((early) => {
    if (early) return early;
    const mtu = ctx.planVerification(buildDaemonLayers(o, ctx.hostId));
    return mtu !== undefined ? verification.later(mtu) : [];
  });
  const [build, verified] = await Promise.all([
    buildWork,
    verifying,
    replicateBridges(job, session, builders, workDeadline),
  ]);
  o.runs = { ...runs, ...(build ? { build } : {}), verify: verified };
}

/** What verifyEarly asks: the MTU worth trying ahead, and the diagnosis' plan on the first answers. */
function earlyVerification(
  ctx: LayerContext,
  o: DaemonObservation,
  defaultNet: DockerNetwork | undefined,
): EarlyVerification {
  const partial = (bridge: InnerRun | undefined, host: InnerRun): Layer[] =>
    buildDaemonLayers(
      { ...o, runs: { ...(bridge ? { bridge } : {}), host, shapes: [], verify: [], builders: [] } },
      ctx.hostId,
    );
  return {
    // The daemon namespace fetched, by an uplink below the bridge's MTU: the MTU the diagnosis asks for if the
    // bridge stalls (docker-blackhole.ts verificationMtu: the daemon's).
    ahead: (host) => {
      const daemonMtu = host.output?.probes.some((p) => p.outcome === 'ok') ? host.output.mtu : undefined;
      return defaultNet && daemonMtu !== undefined && (defaultNet.mtu ?? 1500) > daemonMtu ? daemonMtu : undefined;
    },
    plan: (bridge, host) => (bridge ? ctx.planVerification(partial(bridge, host)) : undefined),
  };
}

/** The inner probes' contrast: each target's handshake from the runner, when it had one (InnerProbeConfig). */
function outerHandshakeMs(
  targets: ProbeJob['config']['targets'],
  handshakes: ReadonlyMap<string, number> | undefined,
): { outerHandshakeMs?: Record<string, number> } {
  const known = targets.flatMap((t) => {
    const ms = handshakes?.get(redactUrl(t.url));
    return ms !== undefined ? [[t.url, Math.round(ms)] as const] : [];
  });
  return known.length ? { outerHandshakeMs: Object.fromEntries(known) } : {};
}

function probeJob(
  ctx: LayerContext,
  deps: DockerLayerDeps,
  api: DockerClient,
  session: RunSession,
  script: string,
  handshakes?: ReadonlyMap<string, number>,
): ProbeJob {
  const targets = resolveTargets(ctx.options.registries, ctx.options.urls);
  return {
    api,
    now: deps.now,
    image: ctx.options.probeImage,
    script,
    labels: session.labels,
    config: {
      v: 1,
      targets,
      stallTimeoutMs: ctx.options.stallTimeoutMs,
      maxBytes: ctx.options.maxBytes,
      insecure: ctx.options.insecure,
      ...outerHandshakeMs(targets, handshakes),
    },
    env: Object.fromEntries(CONTAINER_PROXY_VARIABLES.filter((k) => deps.env[k]).map((k) => [k, deps.env[k]!])),
    ...(ctx.extraCa.length ? { ca: ctx.extraCa.join('\n') } : {}),
    created: session.created,
  };
}

/** buildx's builders on this daemon (containers) and in the job's buildx state (files), never failing the run. */
function discoverBuildersOf(deps: DockerLayerDeps, api: DockerClient, deadline: number): Promise<FoundBuilders> {
  const fs = {
    readFile: deps.readFile ?? ((p: string) => readFile(p, 'utf8').catch(() => undefined)),
    readdir: (p: string) => readdir(p).catch(() => undefined),
  };
  return discoverBuilders(api, fs, deps.env, deps.homedir ?? os.homedir(), deadline).catch((err: Error) => ({
    containers: [],
    notes: [`could not look for buildx builders: ${err.message}`],
  }));
}
