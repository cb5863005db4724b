/**
 * Normalising a lab run's JSON report so that two runs of the same code compare equal, while every difference in
 * behaviour still shows: verdicts, exit codes, finding codes, layers, MTUs, outcomes, stall phases, fixes, texts.
 *
 * What goes, and why (each one seen to differ between two runs of the same code on this machine):
 * - timings: report.startedAt and durationMs; every `*Ms` and `ms` figure (phases, stall idleMs, a daemon's
 *   probeMs, a container's ms), throughputBps, the probe's byte samples. Their keys stay, with a placeholder, so a
 *   phase that is reached or not still shows (`connectMs` present = TCP connected).
 * - durations and rates inside texts ("in 278 ms", "in 1.2 s", "nothing for 3.0 s", "12.3 MB/s"), unit included: the
 *   same probe reads "in 980 ms" in one run and "in 1.0 s" in the next.
 * - tcpInfo: the kernel's raw `ss` line and its counters; a counter is kept as 0 or ">0" (the lab tests assert
 *   rcvOooPack > 0, never its value).
 * - names made at random: the lab's temp dir and namespace prefix, the nested daemon's temp dir, veth peers
 *   (vethXXXXXXX), bridges of user networks (br-<network id>), container and network ids, the run id in
 *   container and network names.
 * - the veth peers of running containers (vethXXXXXXX, and a bridge's ports of that name): the daemon namespace is
 *   read while probe containers start and stop, so how many there are, their state and their bridge depend on
 *   timing (one run saw three, the next one). For the same reason a bridge's operstate, which is "up" only while
 *   some port is: docker0 read "up" in two runs and "down" in the third.
 * - order that has none: interfaces by name, a bridge's ports.
 * Anything else is kept as the CLI printed it: a difference there is a difference in behaviour (or a real order
 * dependence, to be reported, not normalised away).
 */

import type { Json } from './diff.js';

export interface LabRun {
  scenario: string;
  exitCode: number | null;
  stderr: string;
  report: unknown;
  /** The random names of this run, replaced by placeholders wherever they appear. */
  context: { labTmpDir: string; labPrefix: string; daemonDir?: string };
  /** Wall time of the CLI (not part of the normalised output). */
  ms: number;
}

export interface NormalisedRun {
  scenario: string;
  exitCode: number | null;
  stderr: string;
  report: unknown;
}

/** Keys whose values are wall-clock figures, wherever they sit (except under `settings`: configuration, kept). */
const TIMING_KEY = /(^ms$|Ms$)/;
const PLACEHOLDER: Record<string, string> = {
  samples: '<samples>',
  throughputBps: '<bps>',
  raw: '<raw>',
  startedAt: '<time>',
};
/** tcpInfo counters that depend on timing (how many retransmissions fit in the stall window). */
const TCP_COUNTERS = new Set(['bytesAcked', 'bytesReceived', 'segsIn', 'rcvOooPack', 'retrans', 'dataSegsIn', 'lost']);

export function normaliseRun(run: LabRun): NormalisedRun {
  const text = textNormaliser(run.context);
  return {
    scenario: run.scenario,
    exitCode: run.exitCode,
    stderr: text(run.stderr),
    report: normaliseValue(run.report as Json, [], text),
  };
}

/** Replace this run's random names and the durations and rates in a text. */
export function textNormaliser(ctx: LabRun['context']): (s: string) => string {
  const exact: Array<[string, string]> = [
    ...(ctx.daemonDir ? [[ctx.daemonDir, '<dockerd-dir>'] as [string, string]] : []),
    [ctx.labTmpDir, '<lab-tmp>'],
    [ctx.labPrefix, '<lab>'],
  ];
  return (s) => {
    let out = s;
    for (const [from, to] of exact) out = out.split(from).join(to);
    return out
      .replace(/\/tmp\/mtudl-\d+-[A-Za-z0-9]{6}/g, '<dockerd-dir>')
      .replace(/\/tmp\/mtp\d+x\d+-[A-Za-z0-9]{6}/g, '<lab-tmp>')
      .replace(/\bveth[0-9a-f]{7}\b/g, 'veth<id>')
      .replace(/\bbr-[0-9a-f]{12}\b/g, 'br-<id>')
      .replace(/\b[0-9a-f]{64}\b/g, '<id>')
      .replace(/\b\d+(\.\d+)? ?([kKMG]i?)?B\/s\b/g, '<rate>')
      .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, '<t>');
  };
}

function normaliseValue(v: Json, pathKeys: string[], text: (s: string) => string): Json {
  if (typeof v === 'string') return text(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => normaliseValue(x, pathKeys, text));
    return sortUnordered(pathKeys.at(-1), items);
  }
  if (v === null || typeof v !== 'object') return v;
  const out: { [k: string]: Json } = {};
  const inSettings = pathKeys.includes('settings');
  const parent = pathKeys.at(-1);
  for (const [k, x] of Object.entries(v)) {
    if (k in PLACEHOLDER && !inSettings) out[k] = PLACEHOLDER[k]!;
    else if (typeof x === 'number' && TIMING_KEY.test(k) && !inSettings) out[k] = '<ms>';
    else if (typeof x === 'number' && parent === 'tcpInfo' && TCP_COUNTERS.has(k)) out[k] = x > 0 ? '>0' : 0;
    else out[k] = normaliseValue(x, [...pathKeys, k], text);
  }
  return out;
}

/** Lists whose order carries nothing: the kernel lists interfaces in creation order, bridges their ports likewise. */
function sortUnordered(key: string | undefined, items: Json[]): Json[] {
  if (key === 'interfaces') {
    return items
      .filter((x) => !isContainerPeer(x))
      .map(withoutBridgeState)
      .sort((a, b) => stable(a).localeCompare(stable(b)));
  }
  if (key === 'ports')
    return items.filter((x) => x !== CONTAINER_PEER).sort((a, b) => String(a).localeCompare(String(b)));
  return items;
}

/** A container's veth peer, after textNormaliser renamed it. */
const CONTAINER_PEER = 'veth<id>';
function isContainerPeer(x: Json): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && x.name === CONTAINER_PEER;
}

/** A bridge whose only ports are containers' (all of them, in the lab) is up or down as they come and go. */
function withoutBridgeState(x: Json): Json {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x.kind !== 'bridge' || !('state' in x)) return x;
  // Ports left after the container peers were dropped are the host's own (a NIC enslaved): then the state says something.
  if (Array.isArray(x.ports) && x.ports.length) return x;
  return { ...x, state: '<bridge state>' };
}

function stable(v: Json): string {
  return JSON.stringify(v);
}
