/**
 * What both entry points load once the options are good: the live dependencies of run() (with the nested Docker
 * daemons' layers unless docker is off) and the report in the chosen format.
 */
import { dockerLayers } from '../collect/docker/collect.js';
import { withPodNetwork } from '../collect/pod/collect.js';
import type { Options, OutputFormat } from '../config/options.js';
import type { Report } from '../model/report.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderText } from '../render/text.js';
import { defaultDeps, type RunDeps } from '../run.js';

/** The live dependencies of run(), with the nested Docker daemons' layers unless docker is off. */
export function runDeps(options: Options): RunDeps {
  const deps = defaultDeps();
  const docker = options.docker !== 'off' ? dockerLayers(deps) : undefined;
  // In a Kubernetes pod the pod network is a layer too (src/collect/pod): the CNI's MTU is the fix there.
  const layers = withPodNetwork(deps.env, docker);
  if (layers) deps.collectLayers = layers;
  return deps;
}

export function renderReport(report: Report, format: OutputFormat, color: boolean): string {
  if (format === 'json') return renderJson(report);
  if (format === 'markdown') return renderMarkdown(report);
  return renderText(report, { color });
}
