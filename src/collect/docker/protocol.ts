/**
 * What the collector hands the in-container probe (src/main/probe.ts) and what it prints back.
 * The config travels as one argv word (base64url JSON: no shell quoting, works in an exec-form RUN);
 * the answer is one JSON line on stdout, recognised by its `mtuPreflightProbe` key among other output
 * (a build stream interleaves the daemon's own lines).
 */
import type { NetInterface, ProbeResult, Uplink } from '../../model/report.js';
import type { Target } from '../../probe/catalog.js';

export const PROBE_PROTOCOL = 1;

export interface InnerProbeConfig {
  v: typeof PROBE_PROTOCOL;
  targets: Target[];
  stallTimeoutMs: number;
  maxBytes: number;
  /** Milliseconds the probe may take from its own start (the run's deadline, as remaining time). */
  budgetMs: number;
  insecure: boolean;
  /** A CA bundle (PEM) copied in beside the probe: trusted besides Node's default roots (the run's --ca-file). */
  caFile?: string;
  /**
   * Exit with this code right after printing the answer (a `docker build` RUN step: a failed step is not committed,
   * so the builder skips the step's commit; the collector reads the answer from the stream and expects this exit).
   */
  exitCode?: number;
  /**
   * Target URL -> ms the layer above (the runner's own probe) took from the start of its TCP connect to the end of its TLS handshake
   * with it: an inner probe connected with 0 bytes for 20 such handshakes (src/probe/evidence.ts) ends early.
   */
  outerHandshakeMs?: Record<string, number>;
}

export interface InnerProbeOutput {
  mtuPreflightProbe: typeof PROBE_PROTOCOL;
  /** node's process.version inside the image. */
  node: string;
  interfaces: NetInterface[];
  uplinks: Uplink[];
  /** Effective MTU of the namespace's uplink(s): the smallest over the targets' routes. */
  mtu?: number;
  probes: ProbeResult[];
  notes: string[];
}

export function encodeProbeConfig(c: InnerProbeConfig): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeProbeConfig(word: string): InnerProbeConfig {
  const c = JSON.parse(Buffer.from(word, 'base64url').toString('utf8')) as InnerProbeConfig;
  if (c.v !== PROBE_PROTOCOL || !Array.isArray(c.targets))
    throw new Error(`probe config: expected protocol ${PROBE_PROTOCOL}`);
  return c;
}

/** The last probe answer in `text` (container stdout, or a build's output), if any. */
export function findProbeOutput(text: string): InnerProbeOutput | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const t = lines[i]!.trim();
    if (!t.startsWith('{"mtuPreflightProbe"')) continue;
    try {
      const o = JSON.parse(t) as InnerProbeOutput;
      if (o.mtuPreflightProbe === PROBE_PROTOCOL) return o;
    } catch {
      /* truncated line */
    }
  }
  return undefined;
}
