/**
 * What a layer collector (a Docker daemon today; builders, pods and other engines next) gets from the run, and what
 * it gives back. The run owns the host layer: a collector reports what it could not see in `notes`, and the run
 * puts them where the report shows them.
 */
import type { Options } from '../config/options.js';
import type { Layer } from '../model/layers.js';

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
}

export interface CollectedLayers {
  layers: Layer[];
  /** What the collector could not see, for the runner's layer (e.g. "docker: no daemon at ..."). */
  notes: string[];
}

/** A collector of extra layers, run beside the host probes under the same deadline. */
export type LayerCollector = (ctx: LayerContext) => Promise<CollectedLayers>;
