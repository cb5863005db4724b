/**
 * What a layer collector (a Docker daemon today; builders, pods and other engines next) gets from the run, and what
 * it gives back. The run owns the host layer: a collector reports what it could not see in `notes`, and the run
 * puts them where the report shows them.
 */
import type { Options } from '../config/options.js';
import type { Layer } from '../model/layers.js';
import type { ProbeResult } from '../model/report.js';

export interface LayerContext {
  options: Options;
  /** Absolute deadline (deps.now()) by which the layers must be returned. */
  deadline: number;
  /** CA bundle PEMs to pass to inner probes (the extra ones only; the defaults are the image's). */
  extraCa: string[];
  /** The id of the layer the collected ones leave through (the runner's namespace). */
  hostId: string;
  /**
   * The diagnosis' answer to "which lower MTU is worth verifying?", given the layers probed so far (undefined:
   * none). The collector runs the verification; the diagnosis decides (src/diagnose/rules/docker-blackhole.ts).
   */
  planVerification: (layers: readonly Layer[]) => number | undefined;
  /**
   * The runner's own TLS handshakes, as its probes (running meanwhile) finish them: probe URL -> ms from the start of
   * the TCP connect to the end of the TLS handshake. Inner probes use them for the cross-layer contrast (src/probe/evidence.ts).
   */
  outerHandshakes?: Promise<ReadonlyMap<string, number>>;
}

/**
 * Collects the runner's handshakes for LayerContext.outerHandshakes: `note` each probe update, `end` when the probes
 * are done. `ready` settles once every URL has one, or at `end` with those there are.
 */
export function watchHandshakes(urls: number): {
  note: (p: ProbeResult) => void;
  end: () => void;
  ready: Promise<ReadonlyMap<string, number>>;
} {
  const seen = new Map<string, number>();
  let resolve!: (m: ReadonlyMap<string, number>) => void;
  const ready = new Promise<ReadonlyMap<string, number>>((r) => (resolve = r));
  return {
    note(p) {
      const { dnsMs, connectMs, tlsMs } = p.phases;
      if (connectMs === undefined || tlsMs === undefined || seen.has(p.url)) return;
      // From the start of the TCP connect (the end of DNS) to the end of TLS: one RTT for TCP, one or two for TLS.
      seen.set(p.url, tlsMs - (dnsMs ?? 0));
      if (seen.size >= urls) resolve(seen);
    },
    end: () => resolve(seen),
    ready,
  };
}

export interface CollectedLayers {
  layers: Layer[];
  /** What the collector could not see, for the runner's layer (e.g. "docker: no daemon at ..."). */
  notes: string[];
}

/** A collector of extra layers, run beside the host probes under the same deadline. */
export type LayerCollector = (ctx: LayerContext) => Promise<CollectedLayers>;
