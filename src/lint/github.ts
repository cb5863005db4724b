/**
 * .github/workflows/*.yml: a job with `container:` (and the service containers of a job) runs on a network the
 * runner creates for the job (github_network_*). It is a user-defined bridge, so dockerd --mtu does not apply:
 * it is 1500 unless the runner's dockerd has default-network-opts (moby#43197). Docker container actions
 * (`uses: docker://...`) run on the same network. A workflow cannot set that network's MTU: the fix is on the
 * runner's dockerd (self-hosted, ARC).
 */
import type { Document, YAMLMap } from 'yaml';
import type { Finding, Fix } from '../model/report.js';
import { DOCKER_DEFAULT_MTU, asMap, asSeq, asString, entries, lintFinding, pairOf, parseYaml, valueOf, type YamlFile } from './yaml.js';

export function lintGithubWorkflow(text: string, file: string, mtu: number): Finding[] {
  if (mtu >= DOCKER_DEFAULT_MTU) return [];
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return [parsed.finding];
  const { yaml } = parsed;
  const findings: Finding[] = [];
  for (const doc of yaml.docs) {
    const jobs = asMap(doc, valueOf(doc, asMap(doc, doc.contents), 'jobs'));
    for (const { name, pair } of entries(jobs)) {
      const job = asMap(doc, pair.value);
      if (job) findings.push(...lintJob(yaml, doc, name, job, mtu));
    }
  }
  return findings;
}

function lintJob(yaml: YamlFile, doc: Document.Parsed, name: string, job: YAMLMap, mtu: number): Finding[] {
  const containerPair = pairOf(job, 'container');
  const servicesPair = pairOf(job, 'services');
  const services = entries(asMap(doc, servicesPair?.value)).map((e) => e.name);
  const container = containerPair ? asString(doc, containerPair.value) ?? asString(doc, valueOf(doc, asMap(doc, containerPair.value), 'image')) : undefined;
  // `container:` and `services:` share one network: one finding, on the line where the job's container is.
  if (containerPair && (container !== undefined || asMap(doc, containerPair.value))) {
    const line = yaml.lineOf(containerPair.key);
    const where = `${yaml.file}:${line}`;
    const with_ = services.length ? ` with its services (${services.join(', ')})` : '';
    return [
      lintFinding({
        file: yaml.file,
        line,
        mtu,
        summary: `job '${name}' in ${where} runs in a container (${container ?? 'image from an expression'})${with_} on the network the runner creates for it, at MTU ${DOCKER_DEFAULT_MTU} (dockerd --mtu does not apply to it); the uplink MTU is ${mtu}: the job's downloads can stall.`,
        evidence: [`${where}: container: ${container ?? '(mapping)'}`],
        fix: runnerFix(mtu, `job '${name}'`),
      }),
    ];
  }
  const out: Finding[] = [];
  if (servicesPair && services.length) {
    const line = yaml.lineOf(servicesPair.key);
    const where = `${yaml.file}:${line}`;
    out.push(
      lintFinding({
        file: yaml.file,
        line,
        mtu,
        summary: `job '${name}' in ${where} starts service containers (${services.join(', ')}) on the network the runner creates for it, at MTU ${DOCKER_DEFAULT_MTU}; the uplink MTU is ${mtu}: whatever they fetch from outside can stall (traffic between them and the job is local and unaffected).`,
        evidence: [`${where}: services: ${services.join(', ')}`],
        fix: runnerFix(mtu, `job '${name}'`),
      }),
    );
  }
  // Docker container actions referenced by image run on the job's network as well.
  for (const raw of asSeq(doc, valueOf(doc, job, 'steps'))?.items ?? []) {
    const step = asMap(doc, raw);
    const usesPair = pairOf(step, 'uses');
    const uses = asString(doc, usesPair?.value);
    if (!usesPair || !uses?.startsWith('docker://')) continue;
    const line = yaml.lineOf(usesPair.key);
    const where = `${yaml.file}:${line}`;
    out.push(
      lintFinding({
        file: yaml.file,
        line,
        mtu,
        summary: `step '${asString(doc, valueOf(doc, step, 'name')) ?? uses}' of job '${name}' in ${where} runs ${uses} on the network the runner creates for the job, at MTU ${DOCKER_DEFAULT_MTU}; the uplink MTU is ${mtu}: its downloads can stall.`,
        evidence: [`${where}: uses: ${uses}`],
        fix: runnerFix(mtu, `job '${name}'`),
      }),
    );
  }
  return out;
}

/**
 * The network is the runner's: its dockerd gets default-network-opts (and --mtu for docker0). ARC's legacy
 * `dockerMTU` is not offered: it sets --mtu only, which user-defined networks ignore.
 */
function runnerFix(mtu: number, what: string): Fix {
  return {
    summary: `A workflow cannot set the MTU of the network the runner creates for ${what}: set default-network-opts com.docker.network.driver.mtu=${mtu} (and mtu ${mtu}) on the runner's dockerd.`,
    steps: [
      {
        title: 'Self-hosted runner host: /etc/docker/daemon.json, then restart docker',
        language: 'json',
        snippet: JSON.stringify({ mtu, 'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': String(mtu) } } }, null, 2),
      },
      {
        title: 'Actions Runner Controller scale sets (dind mode): args of the dind sidecar',
        language: 'yaml',
        snippet: `args: ["dockerd", "--host=unix:///var/run/docker.sock", "--mtu=${mtu}", "--default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}"]`,
      },
    ],
  };
}
