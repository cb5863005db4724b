/**
 * .github/workflows/*.yml: a job with `container:` (and the service containers of a job) runs on a network the
 * runner creates for the job (github_network_*). It is a user-defined bridge, so dockerd --mtu does not apply:
 * it is 1500 unless the runner's dockerd has default-network-opts (moby#43197). Docker container actions
 * (`uses: docker://...`) run on the same network. A workflow cannot set that network's MTU: the fix is on the
 * runner's dockerd (self-hosted, ARC).
 */
import type { Document, YAMLMap } from 'yaml';
import type { Finding } from '../model/report.js';
import { fixRunnerNetwork } from '../diagnose/knobs/github.js';
import { lintBuildxSteps } from './buildx.js';
import {
  DOCKER_DEFAULT_MTU,
  asMap,
  asSeq,
  asString,
  entries,
  lintDocuments,
  lintFindingAt,
  pairOf,
  valueOf,
  type YamlFile,
} from './yaml.js';

export function lintGithubWorkflow(text: string, file: string, mtu: number): Finding[] {
  return lintDocuments(text, file, mtu, (yaml, doc) => {
    const jobs = asMap(doc, valueOf(doc, asMap(doc, doc.contents), 'jobs'));
    return entries(jobs).flatMap(({ name, pair }) => {
      const job = asMap(doc, pair.value);
      return job ? [...lintJob(yaml, doc, name, job, mtu), ...lintBuildxSteps(yaml, doc, name, job, mtu)] : [];
    });
  });
}

function lintJob(yaml: YamlFile, doc: Document.Parsed, name: string, job: YAMLMap, mtu: number): Finding[] {
  const containerPair = pairOf(job, 'container');
  const servicesPair = pairOf(job, 'services');
  const services = entries(asMap(doc, servicesPair?.value)).map((e) => e.name);
  const container = containerPair
    ? (asString(doc, containerPair.value) ?? asString(doc, valueOf(doc, asMap(doc, containerPair.value), 'image')))
    : undefined;
  const fix = fixRunnerNetwork(mtu, `job '${name}'`);
  // `container:` and `services:` share one network: one finding, on the line where the job's container is.
  if (containerPair && (container !== undefined || asMap(doc, containerPair.value))) {
    const with_ = services.length ? ` with its services (${services.join(', ')})` : '';
    return [
      lintFindingAt(yaml, containerPair.key, mtu, (where) => ({
        summary: `job '${name}' in ${where} runs in a container (${container ?? 'image from an expression'})${with_} on the network the runner creates for it, at MTU ${DOCKER_DEFAULT_MTU} (dockerd --mtu does not apply to it); the uplink MTU is ${mtu}: the job's downloads can stall.`,
        evidence: [`${where}: container: ${container ?? '(mapping)'}`],
        fix,
      })),
    ];
  }
  const out: Finding[] = [];
  if (servicesPair && services.length) {
    out.push(
      lintFindingAt(yaml, servicesPair.key, mtu, (where) => ({
        summary: `job '${name}' in ${where} starts service containers (${services.join(', ')}) on the network the runner creates for it, at MTU ${DOCKER_DEFAULT_MTU}; the uplink MTU is ${mtu}: whatever they fetch from outside can stall (traffic between them and the job is local and unaffected).`,
        evidence: [`${where}: services: ${services.join(', ')}`],
        fix,
      })),
    );
  }
  // Docker container actions referenced by image run on the job's network as well.
  for (const raw of asSeq(doc, valueOf(doc, job, 'steps'))?.items ?? []) {
    const step = asMap(doc, raw);
    const usesPair = pairOf(step, 'uses');
    const uses = asString(doc, usesPair?.value);
    if (!usesPair || !uses?.startsWith('docker://')) continue;
    out.push(
      lintFindingAt(yaml, usesPair.key, mtu, (where) => ({
        summary: `step '${asString(doc, valueOf(doc, step, 'name')) ?? uses}' of job '${name}' in ${where} runs ${uses} on the network the runner creates for the job, at MTU ${DOCKER_DEFAULT_MTU}; the uplink MTU is ${mtu}: its downloads can stall.`,
        evidence: [`${where}: uses: ${uses}`],
        fix,
      })),
    );
  }
  return out;
}
