/**
 * The CI config lint: before anything runs, the files already say where a docker:dind service, a Drone docker
 * plugin, a compose network or a GitHub `container:` job will get MTU 1500. Given the uplink MTU (measured, or
 * --assume-mtu), find the files, read them, and hand each to its pure linter. Nothing here throws for a user's
 * file: unreadable or malformed files become info findings.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Finding, LintReport } from '../model/report.js';
import { declaresDefaultNetwork, lintCompose } from './compose.js';
import { lintDrone } from './drone.js';
import { lintGithubWorkflow } from './github.js';
import { lintGitlab } from './gitlab.js';
import { readCiFile } from './read.js';
import { DOCKER_DEFAULT_MTU, uncheckedFinding } from './yaml.js';

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

const YAML_EXT = /\.ya?ml$/;

/** Which linter reads a path (relative, with forward slashes), or none. */
export function linterFor(rel: string): Linter | undefined {
  if (rel === '.gitlab-ci.yml') return lintGitlab;
  if (rel === '.drone.yml' || rel === '.drone.yaml') return (t, f, m) => lintDrone(t, f, m, 'drone');
  if (rel === '.woodpecker.yml' || rel === '.woodpecker.yaml' || /^\.woodpecker\/[^/]+\.ya?ml$/.test(rel))
    return (t, f, m) => lintDrone(t, f, m, 'woodpecker');
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

/**
 * Lint every CI file in `dir` against the uplink MTU. A file found but not judged (not a regular file, too large,
 * unreadable, an alias bomb, a parser that gave up) is a `ci-config-unchecked` info finding naming it and why.
 */
export async function lintCiConfigs(dir: string, options: LintOptions): Promise<Finding[]> {
  if (!(options.uplinkMtu < DOCKER_DEFAULT_MTU)) return [];
  const findings: Finding[] = [];
  const texts = new Map<string, string>();
  for (const rel of await findCiConfigs(dir)) {
    const read = await readCiFile(path.join(dir, rel));
    if (read.kind === 'text') texts.set(rel, read.text);
    else if (read.kind === 'unchecked') findings.push(uncheckedFinding(rel, read.why));
  }
  // Compose merges the files of a project: a `default` network declared in one covers the services of the others.
  const composeFiles = [...texts.keys()].filter(isComposeFile);
  const declaringDefault = composeFiles.filter((rel) => declaresDefaultNetwork(texts.get(rel)!));
  for (const [rel, text] of texts) {
    const linter: Linter = isComposeFile(rel)
      ? (t, f, m) => lintCompose(t, f, m, { defaultNetworkElsewhere: declaringDefault.some((other) => other !== rel) })
      : linterFor(rel)!;
    try {
      findings.push(...linter(text, rel, options.uplinkMtu));
    } catch (err) {
      // A document deep enough to exhaust the parser's stack, say: said, not thrown at the user.
      findings.push(uncheckedFinding(rel, `the YAML parser gave up: ${(err as Error).name}`));
    }
  }
  return findings;
}

/** Where the uplink MTU the lint judges against came from, and what run() knows of each source. */
export interface LintUplink {
  /** --assume-mtu. */
  assumeMtu?: number;
  /** What the probes measured (the host layer's MTU after the uplinks were resolved). */
  probedMtu?: number;
  /** --lint-only: nothing was probed; the interface of the default route stands in. */
  lintOnly: boolean;
  defaultRoute?: { name: string; mtu: number };
}

/** What the lint hands on: findings for diagnosis, the rest for the report's `lint` object. */
export interface LintResult extends LintReport {
  findings: Finding[];
  /** The CI files found but not judged (each is also an info finding). */
  unchecked: Array<{ file: string; why: string }>;
}

/** The uplink MTU to judge against: --assume-mtu, else what the probes measured, else (lint only) the default route's. */
export function chooseUplink(u: LintUplink): Pick<LintReport, 'uplinkMtu' | 'uplinkSource' | 'notes'> {
  if (u.assumeMtu !== undefined)
    return {
      uplinkMtu: u.assumeMtu,
      uplinkSource: 'assume-mtu',
      notes: [`the CI config lint assumed an uplink MTU of ${u.assumeMtu} (assume-mtu)`],
    };
  if (u.lintOnly && u.defaultRoute) {
    const { name, mtu } = u.defaultRoute;
    return {
      uplinkMtu: mtu,
      uplinkSource: 'default-route',
      notes: [`lint only: the uplink is taken from the default route: ${name} (MTU ${mtu})`],
    };
  }
  if (u.probedMtu !== undefined) return { uplinkMtu: u.probedMtu, uplinkSource: 'probes', notes: [] };
  return { notes: ['CI config lint skipped: the uplink MTU is unknown; give it with assume-mtu'] };
}

/** The lint of a checkout as run() needs it: the uplink chosen and said, the files linted, the unread ones listed. */
export async function lintCheckout(dir: string, uplink: LintUplink): Promise<LintResult> {
  const chosen = chooseUplink(uplink);
  const findings = chosen.uplinkMtu === undefined ? [] : await lintCiConfigs(dir, { uplinkMtu: chosen.uplinkMtu });
  const unchecked = findings
    .filter((f) => f.code === 'ci-config-unchecked')
    .map((f) => ({ file: f.file!, why: f.evidence[0]! }));
  return { ...chosen, findings, unchecked };
}

function isComposeFile(rel: string): boolean {
  return /^(docker-)?compose[^/]*\.ya?ml$/.test(rel);
}
