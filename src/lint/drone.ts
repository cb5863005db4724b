/**
 * .drone.yml and Woodpecker (.woodpecker.yml, .woodpecker/*.yml): the docker plugin (plugins/docker and the
 * registry variants built on it, the buildx forks) starts its own dockerd inside the step, at MTU 1500 unless
 * `settings: mtu:` says otherwise; a docker:dind service (or detached dind step) is the same daemon by hand, and
 * takes `--mtu` on its command line. Seed 001 is this case: a Drone pod on flannel 1450, `docker build` stalling.
 */
import type { Document, YAMLMap } from 'yaml';
import type { Finding } from '../model/report.js';
import { flowList, yamlScalar } from '../diagnose/knobs/snippets.js';
import { dindArgs, dindFits, dindMtuArgs, dindSummary } from './dind.js';
import {
  DOCKER_DEFAULT_MTU,
  asMap,
  asSeq,
  asString,
  entries,
  lintDocuments,
  lintFindingAt,
  PREFLIGHT_JOB,
  mtuValue,
  pairOf,
  settingFits,
  valueOf,
  type YamlFile,
} from './yaml.js';
import { imagePath, isDindImage, withoutMtu } from './docker-args.js';

export type DroneFlavor = 'drone' | 'woodpecker';

/**
 * Plugins that run their own dockerd and take `mtu` (PLUGIN_MTU): drone-plugins/drone-docker and the registry
 * wrappers that exec it (ecr, gcr, gar, acr, heroku), and the buildx forks (thegeeklab, Woodpecker's).
 */
const DOCKER_PLUGINS = new Set([
  'plugins/docker',
  'plugins/ecr',
  'plugins/gcr',
  'plugins/gar',
  'plugins/acr',
  'plugins/heroku',
  'thegeeklab/drone-docker-buildx',
  'woodpeckerci/plugin-docker-buildx',
]);

export function isDockerPlugin(image: string): boolean {
  const p = imagePath(image).replace(/^(docker\.io|index\.docker\.io|quay\.io|codeberg\.org)\//, '');
  return DOCKER_PLUGINS.has(p);
}

/** Pipeline types whose steps are containers (exec and ssh pipelines run on a host: no inner bridge). */
const CONTAINER_TYPES = new Set(['docker', 'kubernetes']);

export function lintDrone(
  text: string,
  file: string,
  mtu: number,
  flavor: DroneFlavor = /woodpecker/.test(file) ? 'woodpecker' : 'drone',
): Finding[] {
  // The preflight's own workflow (templates/woodpecker.yml saved as .woodpecker/mtu-preflight.yaml).
  const preflightFile = new RegExp(`(^|/)${PREFLIGHT_JOB}\\.ya?ml$`).test(file);
  return lintDocuments(text, file, mtu, (yaml, doc) => {
    const root = asMap(doc, doc.contents);
    if (!root || preflightFile) return [];
    // The preflight's own pipeline (templates/drone.yml): its dind stands in for the build's, at the default MTU.
    if (asString(doc, valueOf(doc, root, 'name')) === PREFLIGHT_JOB) return [];
    const kind = asString(doc, valueOf(doc, root, 'kind'));
    const type = asString(doc, valueOf(doc, root, 'type'));
    // Drone: `kind: pipeline` documents (secrets, signatures and templates are other kinds). Woodpecker: no kind.
    if (kind !== undefined && kind !== 'pipeline') return [];
    if (type !== undefined && !CONTAINER_TYPES.has(type)) return [];
    const ctx: Ctx = { yaml, doc, mtu, flavor };
    // `pipeline:` is Woodpecker's name for steps before 1.0.
    const steps = ['steps', 'pipeline'].flatMap((key) => items(doc, valueOf(doc, root, key)));
    return [
      ...steps.flatMap((step) => lintStep(ctx, step, 'step')),
      ...items(doc, valueOf(doc, root, 'services')).flatMap((svc) => lintStep(ctx, svc, 'service')),
    ];
  });
}

interface Ctx {
  yaml: YamlFile;
  doc: Document.Parsed;
  mtu: number;
  flavor: DroneFlavor;
}

interface Item {
  name: string | undefined;
  map: YAMLMap;
  /** Written as `name: {...}` in a mapping (Woodpecker), not as a list item. */
  keyed: boolean;
}

/** Steps and services are a list of mappings with `name:`, or (Woodpecker) a mapping of name to step. */
function items(doc: Document.Parsed, node: unknown): Item[] {
  const seq = asSeq(doc, node);
  if (seq) {
    return seq.items.flatMap((i) => {
      const map = asMap(doc, i);
      return map ? [{ name: asString(doc, valueOf(doc, map, 'name')), map, keyed: false }] : [];
    });
  }
  return entries(asMap(doc, node)).flatMap(({ name, pair }) => {
    const map = asMap(doc, pair.value);
    return map ? [{ name: asString(doc, valueOf(doc, map, 'name')) ?? name, map, keyed: true }] : [];
  });
}

function lintStep(ctx: Ctx, item: Item, role: 'step' | 'service'): Finding[] {
  const { yaml, doc, mtu, flavor } = ctx;
  const imagePair = pairOf(item.map, 'image');
  const image = asString(doc, imagePair?.value);
  if (!image || !imagePair) return [];
  const label = `${role} '${item.name ?? '(unnamed)'}'`;
  const system = flavor === 'drone' ? 'Drone' : 'Woodpecker';

  if (role === 'step' && isDockerPlugin(image)) {
    const settings = asMap(doc, valueOf(doc, item.map, 'settings'));
    // Woodpecker before 1.0 took plugin settings at the step's top level.
    const mtuNode = pairOf(settings, 'mtu') ? valueOf(doc, settings, 'mtu') : valueOf(doc, item.map, 'mtu');
    const set = mtuValue(doc, mtuNode);
    if (settingFits(set, mtu)) return [];
    return [
      lintFindingAt(yaml, imagePair.key, mtu, (where, line) => ({
        summary:
          set === undefined
            ? `${image} ${label} in ${where} has no settings.mtu; the uplink MTU is ${mtu}, the plugin's own dockerd defaults to ${DOCKER_DEFAULT_MTU}: RUN steps of the build (npm install, apt-get, pip) can stall.`
            : `${image} ${label} in ${where} has settings.mtu ${set}, above the uplink MTU ${mtu}: RUN steps of the build can stall.`,
        evidence: [`${where}: image: ${image}${set === undefined ? ', no mtu under settings:' : `, mtu: ${set}`}`],
        fix: {
          summary: `Add mtu: ${mtu} to the settings of ${label} (the plugin passes it to its dockerd as --mtu=${mtu}).`,
          steps: [
            {
              title: `${yaml.file} line ${line} (${label}): add settings.mtu`,
              language: 'yaml',
              snippet: pluginSnippet(item, image, mtu),
            },
          ],
        },
      })),
    ];
  }

  // A dind image with `commands:` is a docker client (the Drone docs' test step), not a daemon.
  if (!isDindImage(image) || pairOf(item.map, 'commands')) return [];
  const args = dindArgs(doc, item.map);
  if (dindFits(args, mtu)) return [];
  const { entrypoint, command } = args;
  const { snippet, how } = dindSnippet(flavor, item, image, entrypoint, command, mtu);
  return [
    lintFindingAt(yaml, imagePair.key, mtu, (where, line) => ({
      summary: dindSummary(`${image} ${label}`, where, args.set, mtu),
      evidence: [
        `${where}: image: ${image}${entrypoint.length ? `, entrypoint ${flowList(entrypoint)}` : ''}${command.length ? `, command ${flowList(command)}` : ''}`,
      ],
      fix: {
        summary: `Start the dockerd of ${system} ${label} with --mtu=${mtu} (${how}).`,
        steps: [{ title: `${yaml.file} line ${line} (${label}): ${how}`, language: 'yaml', snippet }],
      },
    })),
  ];
}

/** The head of a step as the user wrote it: `- name: x` in a list, `x:` in a Woodpecker mapping. */
function head(item: Item, image: string): { lines: string[]; indent: string } {
  if (item.keyed)
    return { lines: [`${yamlScalar(item.name ?? 'step')}:`, `  image: ${yamlScalar(image)}`], indent: '  ' };
  return { lines: [`- name: ${yamlScalar(item.name ?? 'step')}`, `  image: ${yamlScalar(image)}`], indent: '  ' };
}

function pluginSnippet(item: Item, image: string, mtu: number): string {
  const { lines, indent } = head(item, image);
  return [...lines, `${indent}settings:`, `${indent}  mtu: ${mtu}`, `${indent}  # ...the settings you have`].join('\n');
}

/**
 * Drone passes `command:` to the image's entrypoint (dockerd-entrypoint.sh → dockerd). Woodpecker has no `command:`
 * (pipeline/frontend/yaml/types/container.go): its `commands:` run through a shell, and `entrypoint:` (a list,
 * Woodpecker 2.2.0+, woodpecker-ci/woodpecker#2985) replaces the image's: name the entrypoint script and the arguments there.
 */
function dindSnippet(
  flavor: DroneFlavor,
  item: Item,
  image: string,
  entrypoint: string[],
  command: string[],
  mtu: number,
): { snippet: string; how: string } {
  const { lines, indent } = head(item, image);
  const privileged = `${indent}privileged: true`;
  if (flavor === 'drone') {
    const args = [...withoutMtu(command), ...dindMtuArgs(image, mtu)];
    return {
      how: `command: ${flowList(dindMtuArgs(image, mtu))}`,
      snippet: [
        ...lines,
        privileged,
        ...(entrypoint.length ? [`${indent}entrypoint: ${flowList(entrypoint)}`] : []),
        `${indent}command: ${flowList(args)}`,
      ].join('\n'),
    };
  }
  const base = entrypoint.length ? withoutMtu(entrypoint) : ['dockerd-entrypoint.sh'];
  const ep = [...base, ...withoutMtu(command), ...dindMtuArgs(image, mtu)];
  return {
    how: `entrypoint: ${flowList(['dockerd-entrypoint.sh', `--mtu=${mtu}`])}`,
    snippet: [...lines, privileged, `${indent}entrypoint: ${flowList(ep)}`].join('\n'),
  };
}
