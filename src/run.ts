/**
 * run(options, deps) -> Report: collect, probe, diagnose, all under one deadline.
 * Dependencies come in (file system root, command runner, resolver, clock, env) so that the
 * same pipeline runs live, in the lab, and in unit tests without module mocks.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { onCleanup } from './util/cleanup.js';
import { detectCi } from './collect/host/ci.js';
import { addUplinks, collectHost, defaultRouteInterface, type HostScan } from './collect/host/host.js';
import { watchHandshakes, type CollectedLayers, type LayerCollector } from './collect/context.js';
import { diagnose, RULES } from './diagnose/index.js';
import { verificationMtu } from './diagnose/rules/docker-blackhole.js';
import { builderVerificationMtu } from './diagnose/rules/buildx-builder.js';
import { runCommand, type Exec } from './util/exec.js';
import { chooseUplink, lintCheckout, type LintUplink } from './lint/index.js';
import { UsageError, type Options } from './config/options.js';
import { resolveTargets } from './probe/catalog.js';
import type { LookupAddress, ProbeDeps } from './probe/download.js';
import { probeEachFamily } from './probe/dual-stack.js';
import { createHelperResolver } from './probe/resolver.js';
import { readTcpInfo } from './probe/tcp-info.js';
import { redactUrl } from './util/redact.js';
import { proxyFor } from './model/proxy.js';
import { SCHEMA_VERSION, type Layer, type ProbeResult, type Report } from './model/report.js';
import { byDeadline } from './util/deadline.js';
import { VERSION } from './util/version.js';

export interface RunDeps {
  root: string;
  exec: Exec;
  env: NodeJS.ProcessEnv;
  now: () => number;
  platform: NodeJS.Platform;
  lookup: (host: string) => Promise<LookupAddress[]>;
  /** Live progress of each probe (the CLI draws one line per target). */
  onProbeUpdate?: (p: ProbeResult) => void;
  /** Extra layers (nested Docker daemons), collected and probed under the same deadline. */
  collectLayers?: LayerCollector;
}

export function defaultDeps(): RunDeps {
  // getaddrinfo in a helper process that is killed when the run ends: a dead resolver cannot hold the exit
  // (src/probe/resolver.ts). Killed by the entry points' cleanup (cli.ts exit(), action.ts deps.cleanup).
  const resolver = createHelperResolver();
  onCleanup(async () => resolver.close());
  return {
    root: '/',
    exec: runCommand,
    env: process.env,
    now: () => performance.now(),
    platform: process.platform,
    lookup: (host) => resolver.lookup(host),
  };
}

/** Reads --ca-file (and NODE_EXTRA_CA_CERTS, which `ca` would otherwise replace). Bad files are usage errors. */
async function loadExtraCa(options: Options, env: NodeJS.ProcessEnv): Promise<string[]> {
  const out: string[] = [];
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    const pem = await readFile(extra, 'utf8').catch(() => undefined);
    if (pem) out.push(pem);
  }
  if (options.caFile) {
    let pem: string;
    try {
      pem = await readFile(options.caFile, 'utf8');
    } catch (err) {
      throw new UsageError(
        `ca-file '${options.caFile}' cannot be read (${(err as NodeJS.ErrnoException).code}); expected a readable PEM file.`,
      );
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(
        `ca-file '${options.caFile}' has no PEM certificate; expected a file with -----BEGIN CERTIFICATE-----.`,
      );
    out.push(pem);
  }
  return out;
}

export async function run(options: Options, deps: RunDeps): Promise<Report> {
  const t0 = deps.now();
  const startedAt = new Date().toISOString();
  const deadline = t0 + options.timeoutMs;
  // Leave room after the probes to diagnose and render before the deadline.
  const probeDeadline = deadline - Math.min(750, options.timeoutMs * 0.1);

  const extraCa = await loadExtraCa(options, deps.env);
  const ca = options.caFile ? [...tls.rootCertificates, ...extraCa] : undefined;
  const ci = detectCi(deps.env, (p) => deps.root === '/' && existsSync(p));
  const hostDeps = { root: deps.root, exec: deps.exec, platform: deps.platform };

  const hostScan = await collectHost(hostDeps);
  const host = hostScan.layer;
  const layers: Layer[] = [host];

  if (!options.lintOnly)
    layers.push(
      ...(await probeAll(options, deps, {
        hostScan,
        hostDeps,
        deadline,
        probeDeadline,
        extraCa,
        ...(ca ? { ca } : {}),
      })),
    );

  const uplink = lintUplink(options, hostScan);
  const lint =
    options.lintDir === null
      ? undefined
      : await byDeadline(lintCheckout(options.lintDir ?? '.', uplink), deadline, deps.now, {
          ...chooseUplink(uplink),
          findings: [],
          unchecked: [],
        });

  const timedOut = layers.some((l) => l.probes.some((p) => p.outcome === 'deadline'));
  const diagnosis = diagnose(
    {
      layers,
      ci,
      stallTimeoutMs: options.stallTimeoutMs,
      minThroughput: options.minThroughput,
      ...(lint ? { lint } : {}),
    },
    RULES,
  );
  // --lint-only probes nothing: the uplink the lint took from the default route is the report's, not the host layer's.
  const uplinkMtu = host.mtu ?? (lint?.uplinkSource === 'default-route' ? lint.uplinkMtu : undefined);
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'mtu-preflight', version: VERSION },
    startedAt,
    durationMs: Math.round(deps.now() - t0),
    verdict: diagnosis.verdict,
    ...(diagnosis.recommendedMtu !== undefined ? { recommendedMtu: diagnosis.recommendedMtu } : {}),
    ...(uplinkMtu !== undefined ? { uplinkMtu } : {}),
    ci,
    timedOut,
    settings: settingsForReport(options, deps.env),
    layers,
    findings: diagnosis.findings,
    ...(lint
      ? {
          lint: {
            ...(lint.uplinkMtu !== undefined ? { uplinkMtu: lint.uplinkMtu } : {}),
            ...(lint.uplinkSource ? { uplinkSource: lint.uplinkSource } : {}),
            notes: lint.notes,
          },
        }
      : {}),
  };
}

interface ProbeWork {
  hostScan: HostScan;
  hostDeps: { root: string; exec: Exec; platform: NodeJS.Platform };
  deadline: number;
  probeDeadline: number;
  extraCa: string[];
  ca?: string[];
}

/**
 * The host's probes and, beside them under the same deadline, the collected layers (nested Docker daemons). The
 * host layer gets its probes, uplinks and the collectors' notes; the collected layers are returned.
 */
async function probeAll(options: Options, deps: RunDeps, w: ProbeWork): Promise<Layer[]> {
  const host = w.hostScan.layer;
  const targets = resolveTargets(options.registries, options.urls);
  const none: CollectedLayers = { layers: [], notes: [] };
  // The runner's handshakes, for the inner probes' cross-layer contrast (LayerContext.outerHandshakes).
  const handshakes = watchHandshakes(new Set(targets.map((t) => redactUrl(t.url))).size);
  const layerWork = deps.collectLayers
    ? byDeadline(
        deps.collectLayers({
          options,
          deadline: w.probeDeadline,
          extraCa: w.extraCa,
          hostId: host.id,
          planVerification: (layers) => verificationMtu(layers) ?? builderVerificationMtu(layers),
          outerHandshakes: handshakes.ready,
        }),
        w.deadline,
        deps.now,
        none,
      )
    : Promise.resolve(none);
  const settings = {
    stallTimeoutMs: options.stallTimeoutMs,
    maxBytes: options.maxBytes,
    deadline: w.probeDeadline,
    insecure: options.insecure,
    ...(w.ca ? { ca: w.ca } : {}),
    onUpdate: (p: ProbeResult) => {
      handshakes.note(p);
      deps.onProbeUpdate?.(p);
    },
  };
  const probeDeps: ProbeDeps = {
    lookup: deps.lookup,
    now: deps.now,
    env: deps.env,
    tcpInfo: deps.platform === 'linux' ? (l, r) => readTcpInfo(deps.exec, l, r) : undefined,
  };
  // A dual-stack name is probed per address family (src/probe/dual-stack.ts).
  const perTarget = await Promise.all(targets.map((t) => probeEachFamily(t, settings, probeDeps)));
  handshakes.end();
  host.probes = perTarget.flatMap((r) => r.probes);
  const uplinkNotes = await byDeadline(addUplinks(w.hostScan, host.probes, w.hostDeps), w.deadline, deps.now, []);
  const collected = await layerWork;
  // What the collectors could not see is said where the report shows the runner's own view, before what the probes
  // and the routes add (the order of 0.1.0's reports, where a missing daemon was noted while the probes ran).
  host.notes.push(...collected.notes, ...perTarget.flatMap((r) => r.notes), ...uplinkNotes);
  return collected.layers;
}

/** The uplinks the CI config lint (src/lint) may judge against: --assume-mtu, the probes', or (--lint-only) the default route's. */
function lintUplink(options: Options, hostScan: HostScan): LintUplink {
  const route = options.lintOnly ? defaultRouteInterface(hostScan) : undefined;
  return {
    lintOnly: options.lintOnly,
    ...(options.assumeMtu !== undefined ? { assumeMtu: options.assumeMtu } : {}),
    ...(hostScan.layer.mtu !== undefined ? { probedMtu: hostScan.layer.mtu } : {}),
    ...(route ? { defaultRoute: { name: route.name, mtu: route.mtu } } : {}),
  };
}

function settingsForReport(o: Options, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const proxy = proxyFor('https:', env);
  return {
    registries: o.registries,
    urls: o.urls.map(redactUrl),
    timeoutMs: o.timeoutMs,
    stallTimeoutMs: o.stallTimeoutMs,
    maxBytes: o.maxBytes,
    minThroughput: o.minThroughput,
    insecure: o.insecure,
    strict: o.strict,
    docker: o.docker,
    lint: o.lintDir !== null,
    ...(o.lintOnly ? { lintOnly: true } : {}),
    ...(o.assumeMtu !== undefined ? { assumeMtu: o.assumeMtu } : {}),
    ...(o.caFile ? { caFile: o.caFile } : {}),
    ...(proxy ? { proxy: redactUrl(proxy) } : {}),
  };
}
