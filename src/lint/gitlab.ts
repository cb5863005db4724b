/**
 * .gitlab-ci.yml: a docker:dind service starts its own dockerd, whose docker0 is 1500 unless the service's
 * command passes --mtu. Every job that builds or runs containers through it then has an inner network larger
 * than the path out (GitLab on Kubernetes: the pod's 1450 on flannel), and its downloads stall.
 * Checked: top-level `services:`, `default: services:`, and each job's (hidden `.templates` too: the edit goes there).
 */
import { isSeq, type Document, type YAMLMap } from 'yaml';
import type { Finding } from '../model/report.js';
import { flowList, yamlScalar } from '../diagnose/knobs/snippets.js';
import { dindArgs, dindFits, dindMtuArgs, dindSummary } from './dind.js';
import {
  asMap,
  asSeq,
  asString,
  asStrings,
  deref,
  entries,
  lintDocuments,
  lintFindingAt,
  PREFLIGHT_JOB,
  pairOf,
  valueOf,
  type YamlFile,
} from './yaml.js';
import { isDindImage, withoutMtu } from './docker-args.js';
import { lintCreateLines, lintPodBuilder } from './buildx.js';

/** Top-level keys that are not jobs (https://docs.gitlab.com/ee/ci/yaml/). `spec` is a component header. */
const GLOBAL_KEYWORDS = new Set([
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'types',
  'spec',
]);

export function lintGitlab(text: string, file: string, mtu: number): Finding[] {
  const seen = new Set<unknown>();
  return lintDocuments(text, file, mtu, (yaml, doc) => {
    const root = asMap(doc, doc.contents);
    return entries(root).flatMap(({ name, pair }) => {
      if (name === 'services') return lintServices(yaml, doc, pair.value, 'the top-level services', mtu, seen);
      if (name === 'default')
        return lintServices(
          yaml,
          doc,
          valueOf(doc, asMap(doc, pair.value), 'services'),
          'the default section',
          mtu,
          seen,
        );
      if (GLOBAL_KEYWORDS.has(name)) return [];
      const job = asMap(doc, pair.value);
      return job && !isPreflightJob(doc, name, job)
        ? [
            ...lintServices(yaml, doc, valueOf(doc, job, 'services'), `job '${name}'`, mtu, seen),
            ...lintBuildxJob(yaml, doc, name, job, mtu),
          ]
        : [];
    });
  });
}

/**
 * The preflight's own job (templates/gitlab-ci.yml pasted in, or a job extending it): its dind is left at the
 * default on purpose, as the stand-in for the build jobs' dind, and is not reported.
 */
function isPreflightJob(doc: Document.Parsed, name: string, job: YAMLMap): boolean {
  if (name === PREFLIGHT_JOB || name === `.${PREFLIGHT_JOB}`) return true;
  return asStrings(doc, valueOf(doc, job, 'extends')).includes(`.${PREFLIGHT_JOB}`);
}

function lintServices(
  yaml: YamlFile,
  doc: Document.Parsed,
  node: unknown,
  scope: string,
  mtu: number,
  seen: Set<unknown>,
): Finding[] {
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
    const args = dindArgs(doc, map);
    if (dindFits(args, mtu)) continue;
    const all = [...args.entrypoint, ...args.command];
    out.push(
      lintFindingAt(yaml, item, mtu, (where, line) => ({
        summary: dindSummary(`${image} service of ${scope}`, where, args.set, mtu),
        evidence: [
          `${where}: ${asText !== undefined ? `- ${asText}` : `- name: ${image}${all.length ? `, command ${flowList(all)}` : ''}`}`,
        ],
        fix: {
          summary: `Give the ${image} service of ${scope} --mtu=${mtu}: services: [{ name: ${image}, command: ["--mtu=${mtu}"] }].`,
          steps: [
            {
              title: `${yaml.file} line ${line} (${scope}): write the service as`,
              language: 'yaml',
              snippet: serviceSnippet(doc, map, image, mtu),
            },
          ],
        },
      })),
    );
  }
  return out;
}

/** The service as it should read: its name, alias and entrypoint kept, its command with the MTU arguments. */
function serviceSnippet(doc: Document.Parsed, map: YAMLMap | undefined, image: string, mtu: number): string {
  const alias = asString(doc, valueOf(doc, map, 'alias'));
  const entrypoint = pairOf(map, 'entrypoint') ? asStrings(doc, valueOf(doc, map, 'entrypoint')) : undefined;
  const command = [...withoutMtu(asStrings(doc, valueOf(doc, map, 'command'))), ...dindMtuArgs(image, mtu)];
  return [
    'services:',
    `  - name: ${yamlScalar(image)}`,
    ...(alias ? [`    alias: ${yamlScalar(alias)}`] : []),
    ...(entrypoint ? [`    entrypoint: ${flowList(entrypoint)}`] : []),
    `    command: ${flowList(command)}`,
  ].join('\n');
}

/** A job's `docker buildx create` lines (before_script, script) and a kaniko/buildah build (src/lint/buildx.ts). */
function lintBuildxJob(yaml: YamlFile, doc: Document.Parsed, name: string, job: YAMLMap, mtu: number): Finding[] {
  const scripts = ['before_script', 'script'].flatMap((k) =>
    lintCreateLines(yaml, doc, valueOf(doc, job, k), `job '${name}'`, mtu),
  );
  return [...scripts, ...lintPodBuilder(yaml, doc, name, job, mtu)];
}
