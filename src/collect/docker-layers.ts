/**
 * The nested Docker layer: find the daemon, inspect its networks, probe from inside (a container on the default
 * bridge, one with --network host, a `docker build` RUN step), and when the inner probe stalls while the daemon's
 * own namespace downloads fine, verify the fix by probing again on a temporary network with a lower MTU.
 *
 * It returns layers (daemon -> networks -> containers / build step, with parent links); the rules in
 * src/diagnose/rules/docker-*.ts turn them into findings. Everything created carries the run's labels and is
 * removed before returning, on SIGINT/SIGTERM (onCleanup), and by the next run if this one is killed.
 *
 * Layer facts written here (read by the rules and renderers):
 *   docker-daemon:  endpoint, source, reachable, required, version, apiVersion, os, kernel, probeImage,
 *                   probeImageMissing (why), probedFrom ('host-network container')
 *   docker-network: network, driver, bridge, mtuOption, containerMtu, isDefault, internal, origin, composeProject,
 *                   subnets, purpose ('existing' | 'verify')
 *   container / build-step: variant ('bridge' | 'build' | 'verify'), network, image, node, ms, exitCode
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { onCleanup } from '../cleanup.js';
import { resolveTargets } from '../probe/catalog.js';
import type { LayerContext } from '../run.js';
import type { Layer, ProbeResult } from '../types.js';
import { createDockerClient, describeUnreachable, type DockerClient } from './docker-api.js';
import { newCreated, removeRun, runLabels, sweepLeftovers } from './docker-cleanup.js';
import { resolveDockerEndpoint, type DockerEndpoint } from './docker-endpoint.js';
import { inspectDaemon, MTU_OPTION, type DaemonInspection, type DockerNetwork } from './docker.js';
import { loadProbeScript } from './docker-probe-script.js';
import { ensureImage, runProbeBuild, runProbeContainer, type InnerRun, type ProbeJob } from './docker-probe.js';

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
  /** Registers a cleanup for SIGINT/SIGTERM (src/cleanup.ts); returns its unregister function. */
  onCleanup?: (fn: () => Promise<void>) => () => void;
}

export const DAEMON_LAYER_ID = 'docker';
/** MTUs tried, largest first, when the recommended one still stalls: common tunnel MTUs down to IPv6's minimum. */
export const STEP_DOWN_MTUS = [1450, 1400, 1360, 1280] as const;
/** Reserved at the end for removing what we created. */
const CLEANUP_RESERVE_MS = 1500;
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/** The RunDeps.collectLayers hook: `deps.collectLayers = dockerLayers(deps)`. */
export function dockerLayers(deps: DockerLayerDeps): (ctx: LayerContext) => Promise<Layer[]> {
  return (ctx) => collectDockerLayers(ctx, deps);
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-');
export const networkLayerId = (name: string) => `docker-net-${slug(name)}`;

export async function collectDockerLayers(ctx: LayerContext, deps: DockerLayerDeps): Promise<Layer[]> {
  const { now } = deps;
  const required = ctx.options.docker === 'required';
  const unreachable = (message: string, endpoint?: DockerEndpoint): Layer[] => {
    if (!required) {
      ctx.host.notes.push(message);
      return [];
    }
    return [
      {
        id: DAEMON_LAYER_ID,
        kind: 'docker-daemon',
        name: `docker daemon (${endpoint?.host ?? 'not found'})`,
        parent: ctx.host.id,
        interfaces: [],
        uplinks: [],
        probes: [],
        notes: [message],
        facts: { reachable: false, required: true, ...(endpoint ? { endpoint: endpoint.host, source: endpoint.source } : {}) },
      },
    ];
  };

  let endpoint: DockerEndpoint;
  try {
    endpoint = await resolveDockerEndpoint({
      env: deps.env,
      homedir: deps.homedir ?? os.homedir(),
      readFile: deps.readFile ?? ((p) => readFile(p, 'utf8').catch(() => undefined)),
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

  const runId = randomBytes(6).toString('hex');
  const wallNow = deps.wallNow ?? Date.now;
  // A run cannot outlive --timeout; a minute of slack for clocks and slow removal.
  const labels = runLabels(runId, wallNow() + ctx.options.timeoutMs + 60_000);
  const created = newCreated();
  // Set when SIGINT/SIGTERM tears the run down: the process is exiting with the signal's code, so the collector
  // returns nothing rather than a report of aborted probes.
  let cancelled = false;
  const settle = (ls: Layer[]): Layer[] | Promise<Layer[]> => (cancelled ? new Promise<Layer[]>(() => undefined) : ls);
  const cleanup = async () => {
    cancelled = true;
    api.abortAll();
    await removeRun(api, runId, created, now() + 4000);
    // A create the daemon finished after we aborted it: one more pass catches it. (A ref'd timer: with the
    // probes aborted it may be all that keeps the process alive until the signal's exit code is set.)
    await new Promise((r) => setTimeout(r, 300));
    await removeRun(api, runId, created, now() + 2000);
  };
  const unregister = (deps.onCleanup ?? onCleanup)(cleanup);

  const daemon: Layer = {
    id: DAEMON_LAYER_ID,
    kind: 'docker-daemon',
    name: `docker daemon (${endpoint.host})`,
    parent: ctx.host.id,
    interfaces: [],
    uplinks: [],
    probes: [],
    notes: [],
    facts: {
      reachable: true,
      required,
      endpoint: endpoint.host,
      source: endpoint.source,
      version: inspection.version.version,
      apiVersion: inspection.version.apiVersion,
      ...(inspection.version.os ? { os: inspection.version.os } : {}),
      ...(inspection.version.kernel ? { kernel: inspection.version.kernel } : {}),
      probeImage: ctx.options.probeImage,
    },
  };
  const networks = inspection.networks.filter((n) => n.origin !== 'mtu-preflight');
  const networkLayers = networks.map((n) => networkLayer(n, daemon.id, inspection.version.major));
  const layers: Layer[] = [daemon, ...networkLayers];

  try {
    const [, image, script] = await Promise.all([
      sweepLeftovers(api, wallNow(), Math.min(workDeadline, now() + 3000))
        .then((s) => {
          const n = s.containers + s.networks + s.images;
          if (n) daemon.notes.push(`removed ${n} leftover(s) of an earlier, interrupted run (label io.mtu-preflight=1)`);
        })
        .catch(() => undefined),
      ensureImage(api, ctx.options.probeImage, ctx.options.pull, workDeadline),
      (deps.loadScript ?? loadProbeScript)(),
    ]);
    if (!image.ok) {
      daemon.facts!.probeImageMissing = image.reason;
      daemon.notes.push(`no probes inside the daemon: ${image.reason}`);
      return settle(layers);
    }
    if (image.pulled) daemon.notes.push(`pulled ${ctx.options.probeImage}`);

    const job: ProbeJob = {
      api,
      now,
      image: ctx.options.probeImage,
      script,
      labels,
      config: {
        v: 1,
        targets: resolveTargets(ctx.options.registries, ctx.options.urls),
        stallTimeoutMs: ctx.options.stallTimeoutMs,
        maxBytes: ctx.options.maxBytes,
        insecure: ctx.options.insecure,
      },
      env: Object.fromEntries(PROXY_VARS.filter((k) => deps.env[k]).map((k) => [k, deps.env[k]!])),
      ...(ctx.extraCa.length ? { ca: ctx.extraCa.join('\n') } : {}),
      created,
    };
    const name = (what: string) => `mtu-preflight-${runId}-${what}`;
    const loopbackProxy = Object.entries(job.env).find(([k, v]) => !/no_proxy/i.test(k) && /^(\w+:\/\/)?([^@/]*@)?(localhost|127\.[\d.]+|\[::1\])(:|\/|$)/i.test(v));
    if (loopbackProxy) {
      daemon.notes.push(`${loopbackProxy[0]} points at loopback (${loopbackProxy[1].replace(/\/\/[^@/]*@/, '//***@')}): containers on a bridge have their own loopback, so their probes cannot use that proxy`);
    }

    // (a) the default bridge (`docker run`) and (b) the daemon's own namespace, in parallel.
    const defaultNet = networks.find((n) => n.isDefault);
    const [onBridge, onHost] = await Promise.all([
      defaultNet ? runProbeContainer(job, 'bridge', name('bridge'), workDeadline) : Promise.resolve<InnerRun>({ error: 'the daemon has no default bridge', ms: 0 }),
      runProbeContainer(job, 'host', name('host'), workDeadline),
    ]);

    applyDaemonView(daemon, onHost);
    const bridgeLayer = defaultNet ? networkLayers[networks.indexOf(defaultNet)] : undefined;
    if (bridgeLayer) {
      layers.push(containerLayer('docker-container-bridge', 'container on the default bridge', 'container', bridgeLayer, onBridge, 'bridge', job.image));
      refineNetworkMtu(bridgeLayer, onBridge);
    }

    // (c) a build step, and the verification of a lower MTU when the bridge stalls but the daemon does not.
    const recommended = recommendFrom(onBridge, onHost);
    const [build, verified] = await Promise.all([
      bridgeLayer ? runProbeBuild(job, `mtu-preflight-probe:${runId}`, workDeadline) : Promise.resolve<InnerRun | undefined>(undefined),
      recommended !== undefined ? verifyMtus(job, recommended, name, workDeadline, labels) : Promise.resolve([] as Array<{ mtu: number; run: InnerRun }>),
    ]);
    if (bridgeLayer && build) {
      layers.push(containerLayer('docker-build', 'docker build RUN step (default bridge)', 'build-step', bridgeLayer, build, 'build', job.image));
    }
    for (const v of verified) {
      const net: Layer = {
        id: networkLayerId(`verify-${v.mtu}`),
        kind: 'docker-network',
        name: `temporary network, MTU ${v.mtu} (verification)`,
        parent: daemon.id,
        mtu: v.mtu,
        interfaces: [],
        uplinks: [],
        probes: [],
        notes: [],
        facts: { network: `verify-${v.mtu}`, driver: 'bridge', mtuOption: v.mtu, isDefault: false, purpose: 'verify' },
      };
      layers.push(net, containerLayer(`docker-container-verify-${v.mtu}`, `container on the MTU ${v.mtu} network`, 'container', net, v.run, 'verify', job.image));
    }
    return settle(layers);
  } catch (err) {
    // Every API failure is handled where it happens; this is a bug, and the run's report is still worth having.
    daemon.notes.push(`docker layer stopped early: ${(err as Error).message}`);
    return settle(layers);
  } finally {
    // The reserve is ours: remove what we made before the report is written; what does not finish in time
    // is left to the registered cleanup, which runs at exit.
    const done =
      !cancelled &&
      (await Promise.race([
        removeRun(api, runId, created, ctx.deadline).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, ctx.deadline - now())).unref?.()),
      ]));
    if (done) {
      unregister();
      await api.close();
    }
  }
}

function networkLayer(n: DockerNetwork, parent: string, major: number | undefined): Layer {
  const notes: string[] = [];
  if (n.isDefault && major !== undefined && major < 25) {
    notes.push(`Docker ${major}: ${n.bridge ?? 'docker0'} itself reads 1500 while no container is attached (moby#36659); the MTU here is the network's option and what a container saw`);
  }
  if (n.mtuOption === undefined && n.driver === 'bridge') notes.push(`no ${MTU_OPTION} option: the bridge driver's default 1500 (dockerd --mtu applies to the default bridge only)`);
  return {
    id: networkLayerId(n.name),
    kind: 'docker-network',
    name: `${n.name}${n.bridge ? ` (${n.bridge})` : ''}`,
    parent,
    ...(n.mtu !== undefined ? { mtu: n.mtu } : {}),
    interfaces: [],
    uplinks: [],
    probes: [],
    notes,
    facts: {
      network: n.name,
      driver: n.driver,
      isDefault: n.isDefault,
      purpose: 'existing',
      ...(n.internal ? { internal: true } : {}),
      ...(n.bridge ? { bridge: n.bridge } : {}),
      ...(n.mtuOption !== undefined ? { mtuOption: n.mtuOption } : {}),
      ...(n.origin ? { origin: n.origin } : {}),
      ...(n.labels['com.docker.compose.project'] ? { composeProject: n.labels['com.docker.compose.project'] } : {}),
      ...(n.subnets.length ? { subnets: n.subnets.join(', ') } : {}),
    },
  };
}

/** The host-network container's view is the daemon's namespace, one layer up. */
function applyDaemonView(daemon: Layer, run: InnerRun): void {
  if (!run.output) {
    daemon.notes.push(`could not probe from the daemon's namespace (--network host): ${run.error ?? 'no answer'}`);
    return;
  }
  daemon.interfaces = run.output.interfaces;
  daemon.uplinks = run.output.uplinks;
  daemon.probes = run.output.probes;
  if (run.output.mtu !== undefined) daemon.mtu = run.output.mtu;
  daemon.notes.push(...run.output.notes);
  daemon.facts!.probedFrom = 'host-network container';
  daemon.facts!.probeMs = run.ms;
}

function eth0Mtu(run: InnerRun): number | undefined {
  const o = run.output;
  if (!o) return undefined;
  return o.interfaces.find((i) => i.name === 'eth0')?.mtu ?? o.mtu;
}

/** What a container saw beats the option (and docker0, which lies while idle before Docker 25). */
function refineNetworkMtu(net: Layer, run: InnerRun): void {
  const seen = eth0Mtu(run);
  if (seen === undefined) return;
  if (net.mtu !== undefined && net.mtu !== seen) net.notes.push(`option/default says MTU ${net.mtu}, a container on it saw eth0 MTU ${seen}: using ${seen}`);
  net.mtu = seen;
  net.facts!.containerMtu = seen;
}

function containerLayer(id: string, name: string, kind: 'container' | 'build-step', parent: Layer, run: InnerRun, variant: string, image: string): Layer {
  const o = run.output;
  const mtu = eth0Mtu(run);
  return {
    id,
    kind,
    name,
    parent: parent.id,
    ...(mtu !== undefined ? { mtu } : {}),
    interfaces: o?.interfaces ?? [],
    uplinks: o?.uplinks ?? [],
    probes: o?.probes ?? [],
    notes: [...(o?.notes ?? []), ...(run.error ? [`no probe result: ${run.error}`] : [])],
    facts: {
      variant,
      network: String(parent.facts?.network ?? parent.name),
      image,
      ms: run.ms,
      ...(o?.node ? { node: o.node } : {}),
      ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    },
  };
}

const byTarget = (ps: readonly ProbeResult[]) => new Map(ps.map((p) => [p.url, p]));

/**
 * The MTU to verify: the daemon namespace's effective uplink MTU, when a target stalled on the bridge but
 * downloaded from the daemon's namespace (the trio of the field notes: inner stalls, outer works).
 */
export function recommendFrom(onBridge: InnerRun, onHost: InnerRun): number | undefined {
  const inner = onBridge.output?.probes ?? [];
  const outer = byTarget(onHost.output?.probes ?? []);
  const contrast = inner.some((p) => p.outcome === 'stall' && outer.get(p.url)?.outcome === 'ok');
  const mtu = onHost.output?.mtu;
  return contrast && mtu !== undefined ? mtu : undefined;
}

const allOk = (run: InnerRun) => !!run.output && run.output.probes.length > 0 && run.output.probes.every((p) => p.outcome === 'ok');

/**
 * Probe on a temporary network with MTU `recommended`; if that still stalls, on the step-down MTUs below it
 * (in parallel: one more round, not four). Returns every attempt, largest MTU first.
 */
async function verifyMtus(
  job: ProbeJob,
  recommended: number,
  name: (what: string) => string,
  deadline: number,
  labels: Record<string, string>,
): Promise<Array<{ mtu: number; run: InnerRun }>> {
  const attempt = async (mtu: number): Promise<{ mtu: number; run: InnerRun }> => {
    const t0 = job.now();
    let netId: string | undefined;
    try {
      const net = await job.api.call<{ Id: string }>('POST', '/networks/create', {
        json: { Name: name(`mtu${mtu}`), Driver: 'bridge', CheckDuplicate: true, Options: { [MTU_OPTION]: String(mtu) }, Labels: labels },
        deadline,
      });
      netId = net.Id;
      job.created.networks.add(netId);
      return { mtu, run: await runProbeContainer(job, name(`mtu${mtu}`), name(`verify${mtu}`), deadline) };
    } catch (err) {
      return { mtu, run: { error: `could not create a network with MTU ${mtu}: ${(err as Error).message}`, ms: Math.round(job.now() - t0) } };
    } finally {
      if (netId) {
        const id = netId;
        await job.api
          .call('DELETE', `/networks/${id}`, { deadline: Math.max(deadline, job.now()) + 2000, cleanup: true })
          .then(() => job.created.networks.delete(id))
          .catch(() => undefined);
      }
    }
  };
  const first = await attempt(recommended);
  if (allOk(first.run) || !first.run.output) return [first];
  const lower = STEP_DOWN_MTUS.filter((m) => m < recommended);
  const rest = await Promise.all(lower.map(attempt));
  return [first, ...rest];
}
