/**
 * .gitlab-ci.yml: a docker:dind service starts its own dockerd, whose docker0 is 1500 unless the service's
 * command passes --mtu. Every job that builds or runs containers through it then has an inner network larger
 * than the path out (GitLab on Kubernetes: the pod's 1450 on flannel), and its downloads stall.
 * Checked: top-level `services:`, `default: services:`, and each job's (hidden `.templates` too: the edit goes there).
 */
import { isSeq, type Document, type YAMLMap } from 'yaml';
import type { Finding } from '../model/report.js';
import {
  DOCKER_DEFAULT_MTU,
  asMap,
  asSeq,
  asString,
  asStrings,
  deref,
  dockerdMtu,
  dockerdMtuArgs,
  entries,
  flowList,
  isDindImage,
  PREFLIGHT_JOB,
  lintFinding,
  pairOf,
  parseYaml,
  settingFits,
  valueOf,
  withoutMtu,
  yamlScalar,
  type YamlFile,
} from './yaml.js';

/** Top-level keys that are not jobs (https://docs.gitlab.com/ee/ci/yaml/). `spec` is a component header. */
const GLOBAL_KEYWORDS = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script', 'types', 'spec']);

export function lintGitlab(text: string, file: string, mtu: number): Finding[] {
  if (mtu >= DOCKER_DEFAULT_MTU) return [];
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return [parsed.finding];
  const { yaml } = parsed;
  const findings: Finding[] = [];
  const seen = new Set<unknown>();
  for (const doc of yaml.docs) {
    const root = asMap(doc, doc.contents);
    if (!root) continue;
    for (const { name, pair } of entries(root)) {
      if (name === 'services') findings.push(...lintServices(yaml, doc, pair.value, 'the top-level services', mtu, seen));
      else if (name === 'default') findings.push(...lintServices(yaml, doc, valueOf(doc, asMap(doc, pair.value), 'services'), 'the default section', mtu, seen));
      else if (!GLOBAL_KEYWORDS.has(name)) {
        const job = asMap(doc, pair.value);
        if (job && !isPreflightJob(doc, name, job)) findings.push(...lintServices(yaml, doc, valueOf(doc, job, 'services'), `job '${name}'`, mtu, seen));
      }
    }
  }
  return findings;
}

/**
 * The preflight's own job (templates/gitlab-ci.yml pasted in, or a job extending it): its dind is left at the
 * default on purpose, as the stand-in for the build jobs' dind, and is not reported.
 */
function isPreflightJob(doc: Document.Parsed, name: string, job: YAMLMap): boolean {
  if (name === PREFLIGHT_JOB || name === `.${PREFLIGHT_JOB}`) return true;
  return asStrings(doc, valueOf(doc, job, 'extends')).includes(`.${PREFLIGHT_JOB}`);
}

function lintServices(yaml: YamlFile, doc: Document.Parsed, node: unknown, scope: string, mtu: number, seen: Set<unknown>): Finding[] {
  const seq = asSeq(doc, node);
  // `services: !reference [.x, services]` points elsewhere in the file (or another file): judged where it is written.
  if (!seq || seq.tag === '!reference') return [];
  const out: Finding[] = [];
  for (const raw of seq.items) {
    const item = deref(doc, raw);
    if (seen.has(item) || (isSeq(item) && item.tag === '!reference')) continue;
    seen.add(item);
    const asText = asString(doc, item);
    const map = asText === undefined ? asMap(doc, item) : undefined;
    const image = asText ?? asString(doc, valueOf(doc, map, 'name'));
    if (!image || !isDindImage(image)) continue;
    // The service's command is dockerd's arguments (the image's entrypoint runs dockerd with them).
    const args = [...asStrings(doc, valueOf(doc, map, 'entrypoint')), ...asStrings(doc, valueOf(doc, map, 'command'))];
    const set = dockerdMtu(args);
    if (settingFits(set, mtu)) continue;
    const line = yaml.lineOf(item);
    const where = `${yaml.file}:${line}`;
    const summary =
      set === undefined
        ? `${image} service of ${scope} in ${where} has no --mtu; the uplink MTU is ${mtu}, dind's bridge defaults to ${DOCKER_DEFAULT_MTU}: downloads in containers it runs (docker build, docker run) can stall.`
        : `${image} service of ${scope} in ${where} has --mtu=${set}, above the uplink MTU ${mtu}: downloads in containers it runs (docker build, docker run) can stall.`;
    out.push(
      lintFinding({
        file: yaml.file,
        line,
        mtu,
        summary,
        evidence: [`${where}: ${asText !== undefined ? `- ${asText}` : `- name: ${image}${args.length ? `, command ${flowList(args)}` : ''}`}`],
        fix: {
          summary: `Give the ${image} service of ${scope} --mtu=${mtu}: services: [{ name: ${image}, command: ["--mtu=${mtu}"] }].`,
          steps: [{ title: `${yaml.file} line ${line} (${scope}): write the service as`, language: 'yaml', snippet: serviceSnippet(doc, map, image, mtu) }],
        },
      }),
    );
  }
  return out;
}

/** The service as it should read: its name, alias and entrypoint kept, its command with the MTU arguments. */
function serviceSnippet(doc: Document.Parsed, map: YAMLMap | undefined, image: string, mtu: number): string {
  const alias = asString(doc, valueOf(doc, map, 'alias'));
  const entrypoint = pairOf(map, 'entrypoint') ? asStrings(doc, valueOf(doc, map, 'entrypoint')) : undefined;
  const command = [...withoutMtu(asStrings(doc, valueOf(doc, map, 'command'))), ...dockerdMtuArgs(image, mtu)];
  return [
    'services:',
    `  - name: ${yamlScalar(image)}`,
    ...(alias ? [`    alias: ${yamlScalar(alias)}`] : []),
    ...(entrypoint ? [`    entrypoint: ${flowList(entrypoint)}`] : []),
    `    command: ${flowList(command)}`,
  ].join('\n');
}
