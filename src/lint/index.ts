/**
 * The CI config lint: before anything runs, the files already say where a docker:dind service, a Drone docker
 * plugin, a compose network or a GitHub `container:` job will get MTU 1500. Given the uplink MTU (measured, or
 * --assume-mtu), find the files, read them, and hand each to its pure linter. Nothing here throws for a user's
 * file: unreadable or malformed files become info findings.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Finding } from '../model/report.js';
import { declaresDefaultNetwork, lintCompose } from './compose.js';
import { lintDrone } from './drone.js';
import { lintGithubWorkflow } from './github.js';
import { lintGitlab } from './gitlab.js';
import { CONFIG_LAYER, DOCKER_DEFAULT_MTU } from './yaml.js';

export { declaresDefaultNetwork, lintCompose, type ComposeLintOptions } from './compose.js';
export { isDockerPlugin, lintDrone, type DroneFlavor } from './drone.js';
export { lintGithubWorkflow } from './github.js';
export { lintGitlab } from './gitlab.js';
export { CONFIG_LAYER } from './yaml.js';

export interface LintOptions {
  /** The uplink MTU the inner networks must not exceed. */
  uplinkMtu: number;
}

type Linter = (text: string, file: string, mtu: number) => Finding[];

/** Larger files are no hand-written CI config; reading them would only slow the run. */
const MAX_BYTES = 1024 * 1024;

const YAML_EXT = /\.ya?ml$/;

/** Which linter reads a path (relative, with forward slashes), or none. */
export function linterFor(rel: string): Linter | undefined {
  if (rel === '.gitlab-ci.yml') return lintGitlab;
  if (rel === '.drone.yml' || rel === '.drone.yaml') return (t, f, m) => lintDrone(t, f, m, 'drone');
  if (rel === '.woodpecker.yml' || rel === '.woodpecker.yaml' || /^\.woodpecker\/[^/]+\.ya?ml$/.test(rel)) return (t, f, m) => lintDrone(t, f, m, 'woodpecker');
  if (/^\.github\/workflows\/[^/]+\.ya?ml$/.test(rel)) return lintGithubWorkflow;
  if (isComposeFile(rel)) return lintCompose;
  return undefined;
}

/** The CI config files in `dir`, relative, sorted: the root's own files, .woodpecker/ and .github/workflows/. */
export async function findCiConfigs(dir: string): Promise<string[]> {
  const list = async (sub: string): Promise<string[]> => {
    const names = await readdir(path.join(dir, sub)).catch(() => [] as string[]);
    return names.filter((n) => YAML_EXT.test(n)).map((n) => (sub ? `${sub}/${n}` : n));
  };
  const all = [...(await list('')), ...(await list('.woodpecker')), ...(await list('.github/workflows'))];
  return all.filter((rel) => linterFor(rel) !== undefined).sort();
}

export async function lintCiConfigs(dir: string, options: LintOptions): Promise<Finding[]> {
  if (!(options.uplinkMtu < DOCKER_DEFAULT_MTU)) return [];
  const findings: Finding[] = [];
  const texts = new Map<string, string>();
  for (const rel of await findCiConfigs(dir)) {
    const abs = path.join(dir, rel);
    try {
      const st = await stat(abs);
      if (!st.isFile()) continue;
      if (st.size > MAX_BYTES) {
        findings.push(note(rel, `${rel} is ${st.size} bytes, larger than a CI config (${MAX_BYTES}); its MTU settings were not checked.`));
        continue;
      }
      texts.set(rel, await readFile(abs, 'utf8'));
    } catch (err) {
      findings.push(note(rel, `${rel} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); its MTU settings were not checked.`));
    }
  }
  // Compose merges the files of a project: a `default` network declared in one covers the services of the others.
  const composeFiles = [...texts.keys()].filter(isComposeFile);
  const declaringDefault = composeFiles.filter((rel) => declaresDefaultNetwork(texts.get(rel)!));
  for (const [rel, text] of texts) {
    if (isComposeFile(rel)) {
      const elsewhere = declaringDefault.some((other) => other !== rel);
      findings.push(...lintCompose(text, rel, options.uplinkMtu, { defaultNetworkElsewhere: elsewhere }));
    } else {
      findings.push(...linterFor(rel)!(text, rel, options.uplinkMtu));
    }
  }
  return findings;
}

function isComposeFile(rel: string): boolean {
  return /^(docker-)?compose[^/]*\.ya?ml$/.test(rel);
}

function note(file: string, summary: string): Finding {
  return { code: 'ci-config-mtu', severity: 'info', layer: CONFIG_LAYER, file, summary, evidence: [] };
}
