/**
 * The nested Docker layer: find the daemon, inspect its networks, probe from inside (a container on the default
 * bridge, one with --network host, a `docker build` RUN step), and when the inner probe stalls while the daemon's
 * own namespace downloads fine, verify the fix by probing again on a temporary network with a lower MTU.
 *
 * It returns layers (daemon -> networks -> containers / build step, with parent links); the rules in
 * src/diagnose/rules/docker-*.ts turn them into findings. Everything created carries the run's labels and is
 * removed before returning, on SIGINT/SIGTERM (onCleanup), and by the next run if this one is killed.
 *
 * Besides the default bridge it probes from a container on each attachable swarm overlay and each macvlan/ipvlan
 * network (up to MAX_SHAPE_PROBES): an overlay container reaches the targets through docker_gwbridge (its eth1), so
 * that container hangs under the docker_gwbridge layer (re-inspected after the probe: Docker creates it on a node's
 * first overlay container), and the overlay layer keeps what the container saw on its eth0.
 *
 * Layer facts written here (read by the rules and renderers):
 *   docker-daemon:  endpoint, source, reachable, required, version, apiVersion, os, kernel, probeImage,
 *                   probeImageMissing (why), probedFrom ('host-network container'), swarm (state), swarmNodes,
 *                   swarmNodeAddr
 *   docker-network: network, driver, bridge, mtuOption, containerMtu, isDefault, internal, origin, composeProject,
 *                   subnets, purpose ('existing' | 'verify'), scope, attachable, ingress, encrypted (overlay),
 *                   gwbridge, parent, mode, parentMtu, parentKind, parentTunnelOverhead (macvlan/ipvlan)
 *   container / build-step: variant ('bridge' | 'build' | 'verify' | 'overlay' | 'macvlan' | 'ipvlan'), network,
 *                   image, node, ms, exitCode, egressIface, overlay, overlayIface, overlayMtu
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { onCleanup } from '../../util/cleanup.js';
import { resolveTargets } from '../../probe/catalog.js';
import type { LayerContext } from '../../run.js';
import type { Layer, ProbeResult } from '../../model/report.js';
import { createDockerClient, describeUnreachable, type DockerClient } from './api.js';
import { newCreated, removeRun, runLabels, sweepLeftovers } from './lifecycle.js';
import { resolveDockerEndpoint, type DockerEndpoint } from './endpoint.js';
import { GWBRIDGE, MTU_OPTION, PARENT_DRIVERS, STEP_DOWN_MTUS, VXLAN_OVERHEAD } from '../../model/net.js';
import { inspectDaemon, inspectNetwork, type DaemonInspection, type DockerNetwork } from './inspect.js';
import { loadProbeScript } from './probe-script.js';
import { ensureImage, runProbeBuild, runProbeContainer, type InnerRun, type ProbeJob } from './runs.js';

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
/**
 * Probe containers on networks other than the default bridge (attachable overlays, macvlan, ipvlan), at most: each is
 * one more container start in parallel, and a daemon may have dozens of networks.
 */
export const MAX_SHAPE_PROBES = 4;
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
  const swarm = inspection.swarm;
  if (swarm && swarm.state !== 'inactive') {
    Object.assign(daemon.facts!, { swarm: swarm.state, ...(swarm.nodes ? { swarmNodes: swarm.nodes } : {}), ...(swarm.nodeAddr ? { swarmNodeAddr: swarm.nodeAddr } : {}) });
  }
  const networks = inspection.networks.filter((n) => n.origin !== 'mtu-preflight');
  const networkLayers = networks.map((n) => networkLayer(n, daemon.id, inspection.version.major));
  const layers: Layer[] = [daemon, ...networkLayers];
  const probed = networks.filter(probesItself);
  const shapeNets = probed.slice(0, MAX_SHAPE_PROBES);
  if (probed.length > shapeNets.length) {
    daemon.notes.push(`probed from ${shapeNets.length} of ${probed.length} overlay/macvlan/ipvlan networks (${shapeNets.map((n) => n.name).join(', ')}); the others are checked by their options only`);
  }

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

    // (a) the default bridge (`docker run`), (b) the daemon's own namespace, (c) the other network shapes and (d) a
    // build step, all at once: the build depends on nothing the others find, and a stall costs each of them the stall
    // timeout, so running it beside them rather than after them takes one stall timeout off the time to verdict.
    const defaultNet = networks.find((n) => n.isDefault);
    const buildWork: Promise<InnerRun | undefined> = defaultNet
      ? // Settled whatever happens: if the steps below throw, nobody awaits it.
        runProbeBuild(job, `mtu-preflight-probe:${runId}`, workDeadline).catch((err: Error) => ({ error: `build step failed: ${err.message}`, ms: 0 }))
      : Promise.resolve(undefined);
    const [onBridge, onHost, ...onShapes] = await Promise.all([
      defaultNet ? runProbeContainer(job, 'bridge', name('bridge'), workDeadline) : Promise.resolve<InnerRun>({ error: 'the daemon has no default bridge', ms: 0 }),
      runProbeContainer(job, 'host', name('host'), workDeadline),
      ...shapeNets.map((n, i) => runProbeContainer(job, n.name, name(`net${i}`), workDeadline)),
    ]);

    applyDaemonView(daemon, onHost);
    applyParents(networkLayers, daemon);
    const bridgeLayer = defaultNet ? networkLayers[networks.indexOf(defaultNet)] : undefined;
    if (bridgeLayer) {
      layers.push(containerLayer('docker-container-bridge', 'container on the default bridge', 'container', bridgeLayer, onBridge, 'bridge', job.image));
      refineNetworkMtu(bridgeLayer, onBridge);
    }
    const shapeRuns = shapeNets.map((n, i) => ({ net: n, layer: networkLayers[networks.indexOf(n)]!, run: onShapes[i]! }));
    const overlayRuns = shapeRuns.filter((r) => r.net.driver === 'overlay');
    const gwLayer = overlayRuns.length ? await gwbridgeLayer(api, layers, daemon, overlayRuns, Math.min(workDeadline, now() + 3000)) : undefined;
    for (const { net, layer, run } of shapeRuns) {
      if (net.driver === 'overlay') layers.push(overlayContainerLayer(net, layer, gwLayer, run, job.image));
      else {
        layers.push(containerLayer(`docker-container-net-${slug(net.name)}`, `container on ${net.driver} network ${net.name}`, 'container', layer, run, net.driver, job.image));
        refineNetworkMtu(layer, run);
      }
    }

    // (e) the verification of a lower MTU when the bridge (or an overlay's way out, docker_gwbridge) stalls but the
    // daemon does not, while the build step finishes.
    const recommended = recommendFrom([onBridge, ...overlayRuns.map((r) => r.run)], onHost);
    const [build, verified] = await Promise.all([
      buildWork,
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

/** Networks a container of ours joins to look from inside: attachable overlays, macvlan and ipvlan. */
function probesItself(n: DockerNetwork): boolean {
  if (n.internal) return false;
  return (n.driver === 'overlay' && n.attachable === true && n.ingress !== true) || PARENT_DRIVERS.has(n.driver);
}

function networkNotes(n: DockerNetwork, major: number | undefined): string[] {
  const notes: string[] = [];
  if (n.isDefault && major !== undefined && major < 25) {
    notes.push(`Docker ${major}: ${n.bridge ?? 'docker0'} itself reads 1500 while no container is attached (moby#36659); the MTU here is the network's option and what a container saw`);
  }
  if (n.isDefault && n.bridge && n.bridge !== 'docker0') notes.push(`dockerd --bridge=${n.bridge}: the default network is the host's own bridge ${n.bridge}`);
  if (n.mtuOption === undefined && n.driver === 'bridge') {
    notes.push(`no ${MTU_OPTION} option: the bridge driver's default 1500 (dockerd --mtu applies to the default bridge only${n.gwbridge ? ', not to docker_gwbridge' : ''})`);
  }
  if (n.driver === 'overlay') {
    const given = n.mtuOption !== undefined ? `${MTU_OPTION}=${n.mtuOption}` : 'no option (1500)';
    notes.push(`overlay: containers get MTU ${n.mtu}: ${given} taken as the underlay's MTU, minus ${VXLAN_OVERHEAD} bytes of VXLAN${n.encrypted ? ' and the ESP of --opt encrypted' : ''}`);
    if (n.ingress) notes.push('the routing mesh (ingress): it carries published ports of swarm services; checked by its options only');
    else if (!n.attachable) notes.push('not attachable: only swarm services join it, so it is checked by its options only');
  }
  if (PARENT_DRIVERS.has(n.driver)) {
    if (!n.parent) notes.push(`no parent: Docker made a dummy interface, so containers on it reach nothing outside the network`);
    if (n.mtuOption !== undefined) {
      notes.push(`${MTU_OPTION}=${n.mtuOption} has no effect on ${n.driver} networks (moby/libnetwork#2274): containers get the MTU of the parent${n.parent ? ` ${n.parent}` : ''}`);
    }
  }
  return notes;
}

function networkName(n: DockerNetwork): string {
  // docker_gwbridge is both the network's and the bridge's name: say it once.
  if (n.bridge) return n.bridge === n.name ? n.name : `${n.name} (${n.bridge})`;
  if (n.driver === 'overlay') return `${n.name} (overlay${n.ingress ? ', ingress' : ''})`;
  if (PARENT_DRIVERS.has(n.driver)) return `${n.name} (${n.driver}${n.parent ? ` on ${n.parent}` : ''})`;
  return n.name;
}

function networkLayer(n: DockerNetwork, parent: string, major: number | undefined): Layer {
  const notes = networkNotes(n, major);
  return {
    id: networkLayerId(n.name),
    kind: 'docker-network',
    name: networkName(n),
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
      ...(n.scope ? { scope: n.scope } : {}),
      ...(n.driver === 'overlay' ? { attachable: n.attachable === true, ingress: n.ingress === true } : {}),
      ...(n.encrypted ? { encrypted: true } : {}),
      ...(n.gwbridge ? { gwbridge: true } : {}),
      ...(n.parent ? { parent: n.parent } : {}),
      ...(n.mode ? { mode: n.mode } : {}),
    },
  };
}

/** macvlan/ipvlan: their containers get the parent's MTU; read it (and its kind: a tunnel?) from the daemon's view. */
function applyParents(networkLayers: Layer[], daemon: Layer): void {
  if (!daemon.facts?.probedFrom) return;
  for (const net of networkLayers) {
    const parent = net.facts?.parent;
    if (typeof parent !== 'string') continue;
    const iface = daemon.interfaces.find((i) => i.name === parent);
    if (!iface) {
      net.notes.push(`the parent ${parent} is not an interface of the daemon's namespace`);
      continue;
    }
    Object.assign(net.facts!, { parentMtu: iface.mtu, parentKind: iface.kind, ...(iface.tunnelOverhead ? { parentTunnelOverhead: iface.tunnelOverhead } : {}) });
    net.mtu ??= iface.mtu;
  }
}

/**
 * The docker_gwbridge layer the overlay containers left by: the one GET /networks listed, else re-inspected (Docker
 * creates docker_gwbridge when the first container on an overlay starts on a node, so our probe may have made it),
 * else what the containers saw on their way-out interface.
 */
async function gwbridgeLayer(api: DockerClient, layers: Layer[], daemon: Layer, runs: Array<{ net: DockerNetwork; run: InnerRun }>, deadline: number): Promise<Layer | undefined> {
  const listed = layers.find((l) => l.kind === 'docker-network' && l.facts?.gwbridge === true);
  if (listed) return listed;
  const seen = runs.map((r) => egressOf(r.run)).find((e) => e !== undefined);
  const gw = await inspectNetwork(api, GWBRIDGE, deadline);
  let layer: Layer;
  if (gw) {
    layer = networkLayer(gw, daemon.id, undefined);
    layer.notes.push(`not there before this run: Docker created ${GWBRIDGE} when the probe container joined overlay ${runs[0]!.net.name} (it does on a node's first overlay container, with the bridge driver's defaults unless it was created beforehand)`);
  } else if (seen) {
    layer = {
      id: networkLayerId(GWBRIDGE),
      kind: 'docker-network',
      name: GWBRIDGE,
      parent: daemon.id,
      mtu: seen.mtu,
      interfaces: [],
      uplinks: [],
      probes: [],
      notes: [`could not inspect ${GWBRIDGE}: its MTU is what the container on overlay ${runs[0]!.net.name} saw on ${seen.iface}`],
      facts: { network: GWBRIDGE, driver: 'bridge', bridge: GWBRIDGE, gwbridge: true, isDefault: false, purpose: 'existing' },
    };
  } else return undefined;
  // Beside the other networks: before the containers in the layer list.
  const firstInner = layers.findIndex((l) => l.kind !== 'docker-daemon' && l.kind !== 'docker-network');
  layers.splice(firstInner < 0 ? layers.length : firstInner, 0, layer);
  return layer;
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

function ifaceMtu(run: InnerRun, name = 'eth0'): number | undefined {
  const o = run.output;
  if (!o) return undefined;
  return o.interfaces.find((i) => i.name === name)?.mtu ?? (name === 'eth0' ? o.mtu : undefined);
}

/**
 * The interface a container's probes left by (the route to the targets), with its MTU; when no probe connected, the
 * last container interface (Docker attaches the way-out network, docker_gwbridge, after the overlay).
 */
function egressOf(run: InnerRun): { iface: string; mtu: number } | undefined {
  const o = run.output;
  if (!o) return undefined;
  const u = o.uplinks.reduce<(typeof o.uplinks)[number] | undefined>((m, x) => (!m || x.effectiveMtu < m.effectiveMtu ? x : m), undefined);
  if (u) return { iface: u.iface, mtu: u.effectiveMtu };
  const last = o.interfaces.filter((i) => i.kind !== 'loopback').sort((a, b) => a.name.localeCompare(b.name)).at(-1);
  return last ? { iface: last.name, mtu: last.mtu } : undefined;
}

/** What a container saw beats the option (and docker0, which lies while idle before Docker 25). */
function refineNetworkMtu(net: Layer, run: InnerRun, iface = 'eth0'): void {
  const seen = ifaceMtu(run, iface);
  if (seen === undefined) return;
  if (net.mtu !== undefined && net.mtu !== seen) net.notes.push(`option/default says MTU ${net.mtu}, a container on it saw ${iface} MTU ${seen}: using ${seen}`);
  net.mtu = seen;
  net.facts!.containerMtu = seen;
}

/**
 * A container on an overlay: eth0 is the overlay (VXLAN), its traffic to the targets leaves by docker_gwbridge
 * (eth1). It hangs under the docker_gwbridge layer, its MTU the way-out interface's; the overlay layer records eth0.
 */
function overlayContainerLayer(net: DockerNetwork, overlay: Layer, gw: Layer | undefined, run: InnerRun, image: string): Layer {
  const out = egressOf(run);
  const overlayIface = out && out.iface !== 'eth0' ? 'eth0' : (run.output?.interfaces.find((i) => i.kind !== 'loopback' && i.name !== out?.iface)?.name ?? 'eth0');
  refineNetworkMtu(overlay, run, overlayIface);
  if (gw && out) refineNetworkMtu(gw, run, out.iface);
  const overlayMtu = ifaceMtu(run, overlayIface);
  return containerLayer(`docker-container-net-${slug(net.name)}`, `container on overlay ${net.name}${gw ? ` (leaves by ${GWBRIDGE})` : ''}`, 'container', gw ?? overlay, run, 'overlay', image, {
    ...(out ? { mtu: out.mtu } : {}),
    facts: { overlay: net.name, overlayIface, ...(overlayMtu !== undefined ? { overlayMtu } : {}), ...(out ? { egressIface: out.iface } : {}) },
  });
}

function containerLayer(
  id: string,
  name: string,
  kind: 'container' | 'build-step',
  parent: Layer,
  run: InnerRun,
  variant: string,
  image: string,
  extra: { mtu?: number; facts?: Record<string, string | number | boolean> } = {},
): Layer {
  const o = run.output;
  const mtu = extra.mtu ?? ifaceMtu(run);
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
      ...extra.facts,
    },
  };
}

const byTarget = (ps: readonly ProbeResult[]) => new Map(ps.map((p) => [p.url, p]));

/**
 * The MTU to verify: the daemon namespace's effective uplink MTU, when a target stalled from a container (on the
 * bridge, or on an overlay, leaving by docker_gwbridge) but downloaded from the daemon's namespace (the trio of the
 * field notes: inner stalls, outer works). A bridge network with that MTU is the same way out as either.
 */
export function recommendFrom(innerRuns: InnerRun[], onHost: InnerRun): number | undefined {
  const inner = innerRuns.flatMap((r) => r.output?.probes ?? []);
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
