/**
 * The entry point of the probe that runs inside containers and `docker build` RUN steps: bundled into one
 * dependency-free script (embedded in the CLI's and the Action's bundle, scripts/bundle.mjs) and copied into a
 * container through the Engine API as probe/probe.mjs.
 *
 *   node probe.mjs <base64url config>      -> one JSON line on stdout (InnerProbeOutput)
 *
 * It does what the host layer does, from inside: reads /sys/class/net and /proc/net/route (same parsers), runs
 * probeTarget for the same targets with the same settings, and resolves each probe's uplink. After printing it exits
 * 0, or the config's exitCode (a build step: the builder then commits nothing; the answer is already in the stream).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { addUplinks, collectHost } from '../collect/host/host.js';
import {
  decodeProbeConfig,
  PROBE_PROTOCOL,
  type InnerProbeConfig,
  type InnerProbeOutput,
} from '../collect/docker/protocol.js';
import { runCommand } from '../util/exec.js';
import { probeTarget, type LookupAddress } from '../probe/download.js';
import { NamespaceEvidence } from '../probe/early.js';
import { readProcNet } from '../probe/proc-net.js';
import { readTcpInfo } from '../probe/tcp-info.js';

export async function runInnerProbe(config: InnerProbeConfig, env: NodeJS.ProcessEnv): Promise<InnerProbeOutput> {
  const now = () => performance.now();
  const deadline = now() + config.budgetMs;
  const hostDeps = { root: '/', exec: runCommand, platform: process.platform };
  const scan = await collectHost(hostDeps);
  const lookup = async (host: string) => (await dnsLookup(host, { all: true, order: 'verbatim' })) as LookupAddress[];
  // Where ss is missing (busybox), the namespace's /proc/net: read before any probe connects (src/probe/early.ts).
  const namespace = new NamespaceEvidence(() => readProcNet());
  await namespace.start();
  const trust = await loadCa(config.caFile);
  const probes = await Promise.all(
    config.targets.map((t) =>
      probeTarget(
        t,
        {
          stallTimeoutMs: config.stallTimeoutMs,
          maxBytes: config.maxBytes,
          deadline,
          insecure: config.insecure,
          ...(trust.ca ? { ca: trust.ca } : {}),
        },
        {
          lookup,
          now,
          env,
          tcpInfo: (l, r) => readTcpInfo(runCommand, l, r),
          early: { namespace, ...outerHandshake(config, t.url) },
        },
      ),
    ),
  );
  const uplinkNotes = await addUplinks(scan, probes, hostDeps);
  const layer = scan.layer;
  return {
    mtuPreflightProbe: PROBE_PROTOCOL,
    node: process.version,
    interfaces: layer.interfaces,
    uplinks: layer.uplinks,
    ...(layer.mtu !== undefined ? { mtu: layer.mtu } : {}),
    probes,
    notes: [...layer.notes, ...uplinkNotes, ...(trust.note ? [trust.note] : [])],
  };
}

/**
 * The CA the collector copied in (the run's --ca-file), added to Node's default roots as the host's probe does
 * (src/run.ts). One that cannot be read is a note, and the probes trust the defaults only.
 */
export async function loadCa(file: string | undefined): Promise<{ ca?: string[]; note?: string }> {
  if (!file) return {};
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return {
      note: `the CA file ${file} could not be read inside (${code}): the probes here trust Node's default roots only`,
    };
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    return { note: `the CA file ${file} holds no PEM certificate: the probes here trust Node's default roots only` };
  return { ca: [...tls.rootCertificates, pem] };
}

/** The layer above's handshake time with this target, for the cross-layer contrast (InnerProbeConfig). */
function outerHandshake(config: InnerProbeConfig, url: string): { outerHandshakeMs?: number } {
  const ms = config.outerHandshakeMs?.[url];
  return ms !== undefined ? { outerHandshakeMs: ms } : {};
}

async function main(): Promise<void> {
  let config: InnerProbeConfig;
  try {
    config = decodeProbeConfig(process.argv[2] ?? '');
  } catch (err) {
    process.stderr.write(`mtu-preflight probe: bad config argument (${(err as Error).message})\n`);
    process.exit(2);
  }
  const out = await runInnerProbe(config, process.env);
  // A leading newline: a build stream may have left a partial line before ours.
  process.stdout.write(`\n${JSON.stringify(out)}\n`, () => process.exit(config.exitCode ?? 0));
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) void main();
