/**
 * buildx builders as CI files make them, where their RUN steps will sit on a network no dockerd setting reaches:
 * - `docker/setup-buildx-action` steps (GitHub): `driver-opts: network=<name>` puts the builder container on a
 *   user-defined network (1500 unless created with the MTU option); `buildkitd-flags: --oci-worker-net bridge` (or
 *   `networkMode = "bridge"` in `buildkitd-config-inline`) puts RUN steps on buildkitd's own CNI bridge at 1500.
 * - `docker buildx create` lines in `run:` (GitHub) and `script:`/`before_script:` (GitLab), the same options.
 * - GitLab jobs that build with kaniko or buildah: their RUN steps run in the job pod's own namespace (no Docker
 *   network in between), so the pod network's MTU is what counts: said as info, with the pod network's knobs.
 * A builder with no `network=` sits on the default bridge, which follows dockerd --mtu and is probed as such.
 * Options and inputs checked against docker/buildx docs/reference/buildx_create.md and docker/setup-buildx-action
 * action.yml (see src/diagnose/knobs/buildx.ts).
 */
import { isScalar, Scalar, type Document, type YAMLMap } from 'yaml';
import type { Finding, FixStep } from '../model/report.js';
import { MTU_OPTION } from '../model/net.js';
import { BUILDER_NETWORK } from '../diagnose/knobs/buildx.js';
import { fixPodNetwork } from '../diagnose/knobs/kubernetes.js';
import { asMap, asSeq, asString, deref, lintFinding, lintFindingAt, pairOf, valueOf, type YamlFile } from './yaml.js';

/** What a builder's definition says about where its RUN steps run. */
export interface BuilderSpec {
  /** `network=` of the driver options (undefined: the default bridge). */
  network?: string;
  /** buildkitd's worker network mode (`--oci-worker-net`, `networkMode`). */
  workerNet?: string;
}

/** Words of a shell line, quotes removed (enough for option values; no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

const workerNetIn = (text: string) =>
  /--oci-worker-net(?:=|\s+)["']?(\w+)/.exec(text)?.[1] ?? /^\s*networkMode\s*=\s*["'](\w+)["']/m.exec(text)?.[1];

/** A `docker buildx create ...` line: its network and worker mode; undefined when the line is not one. */
export function parseBuildxCreate(line: string): BuilderSpec | undefined {
  const w = words(line);
  const at = w.findIndex((x, i) => x === 'buildx' && w[i + 1] === 'create');
  if (at < 0) return undefined;
  const spec: BuilderSpec = {};
  for (let i = at + 2; i < w.length; i++) {
    const opt = /^--driver-opt(?:=(.*))?$/.exec(w[i]!);
    const value = opt ? (opt[1] ?? w[++i]) : undefined;
    const network = value?.split(',').find((kv) => kv.startsWith('network='));
    if (network) spec.network = network.slice('network='.length);
    if (/^--buildkitd-flags(=|$)/.test(w[i]!)) {
      const flags = w[i]!.includes('=') ? w[i]!.slice(w[i]!.indexOf('=') + 1) : (w[++i] ?? '');
      const mode = workerNetIn(flags);
      if (mode) spec.workerNet = mode;
    }
  }
  return spec;
}

/** What is wrong with a builder's network for an uplink below 1500, if anything. */
export function builderProblem(s: BuilderSpec): 'network' | 'bridge' | undefined {
  if (s.workerNet === 'bridge' || s.workerNet === 'cni') return 'bridge';
  if (s.network !== undefined && s.network !== 'host' && !s.network.startsWith('$')) return 'network';
  return undefined;
}

function problemText(s: BuilderSpec, mtu: number): string {
  return builderProblem(s) === 'bridge'
    ? `puts RUN steps on buildkitd's own bridge (worker network ${s.workerNet}), which gets MTU 1500 whatever dockerd says (its CNI config has no MTU key); the uplink MTU is ${mtu}: RUN steps that download can stall`
    : `puts the builder on network ${s.network}, at MTU 1500 unless it was created with ${MTU_OPTION}=${mtu} (dockerd --mtu does not reach it); the uplink MTU is ${mtu}: RUN steps that download can stall`;
}

/** The line rewritten: network=host for the builder's network, --oci-worker-net=host for the bridge mode. */
export function rewriteCreate(line: string, s: BuilderSpec): string {
  if (builderProblem(s) === 'bridge')
    return line
      .replace(/--oci-worker-net(=|\s+)\w+/, '--oci-worker-net=host')
      .replace(/networkMode\s*=\s*["']\w+["']/, 'networkMode = "host"');
  return line.replace(/network=[^,\s'"]+/, 'network=host');
}

/** The lines of a scalar and the file line of each (a block scalar's content starts the line after its indicator). */
function scalarLines(yaml: YamlFile, node: unknown): Array<{ text: string; line: number }> {
  if (!isScalar(node) || typeof node.value !== 'string') return [];
  const first = yaml.lineOf(node);
  const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
  return node.value.split('\n').map((text, i) => ({ text, line: block ? first + 1 + i : first }));
}

/** `docker buildx create` lines in a script node (a string or a sequence of strings): findings with the edit. */
export function lintCreateLines(
  yaml: YamlFile,
  doc: Document.Parsed,
  node: unknown,
  scope: string,
  mtu: number,
): Finding[] {
  const seq = asSeq(doc, node);
  const nodes = seq ? seq.items.map((i) => deref(doc, i)) : [deref(doc, node)];
  const out: Finding[] = [];
  for (const n of nodes) {
    for (const { text, line } of scalarLines(yaml, n)) {
      const spec = parseBuildxCreate(text);
      if (!spec || !builderProblem(spec)) continue;
      const where = `${yaml.file}:${line}`;
      out.push(
        lintFinding({
          file: yaml.file,
          line,
          mtu,
          summary: `${scope} in ${where}: \`docker buildx create\` ${problemText(spec, mtu)}.`,
          evidence: [`${where}: ${text.trim()}`],
          fix: {
            summary: `Create the builder so its RUN steps leave as the daemon does: ${builderProblem(spec) === 'bridge' ? '--buildkitd-flags --oci-worker-net=host' : '--driver-opt network=host'}.`,
            steps: [
              {
                title: `${yaml.file} line ${line}: write it as`,
                language: 'sh',
                snippet: rewriteCreate(text.trim(), spec),
              },
              ...networkStep(spec, mtu),
            ],
          },
        }),
      );
    }
  }
  return out;
}

function networkStep(s: BuilderSpec, mtu: number): FixStep[] {
  if (builderProblem(s) !== 'network') return [];
  return [
    {
      title: `Or keep network ${s.network}, created with MTU ${mtu} before the builder`,
      language: 'sh',
      snippet: `docker network create --opt ${MTU_OPTION}=${mtu} ${s.network ?? BUILDER_NETWORK}`,
    },
  ];
}

/** A `docker/setup-buildx-action` step's `with:` as a builder spec. */
export function setupBuildxSpec(doc: Document.Parsed, step: YAMLMap): BuilderSpec | undefined {
  const uses = asString(doc, valueOf(doc, step, 'uses'));
  if (!uses || !/^docker\/setup-buildx-action(@|$)/.test(uses)) return undefined;
  const w = asMap(doc, valueOf(doc, step, 'with'));
  const driver = asString(doc, valueOf(doc, w, 'driver')) ?? 'docker-container';
  if (driver !== 'docker-container') return {};
  const opts = (asString(doc, valueOf(doc, w, 'driver-opts')) ?? '').split(/[\n,]/).map((x) => x.trim());
  const network = opts.find((o) => o.startsWith('network='))?.slice('network='.length);
  const flags = asString(doc, valueOf(doc, w, 'buildkitd-flags')) ?? '';
  const inline = asString(doc, valueOf(doc, w, 'buildkitd-config-inline')) ?? '';
  const workerNet = workerNetIn(flags) ?? workerNetIn(inline);
  return { ...(network ? { network } : {}), ...(workerNet ? { workerNet } : {}) };
}

/** GitHub: the job's setup-buildx-action steps and the `docker buildx create` lines of its `run:` steps. */
export function lintBuildxSteps(
  yaml: YamlFile,
  doc: Document.Parsed,
  job: string,
  node: YAMLMap,
  mtu: number,
): Finding[] {
  const out: Finding[] = [];
  for (const raw of asSeq(doc, valueOf(doc, node, 'steps'))?.items ?? []) {
    const step = asMap(doc, raw);
    if (!step) continue;
    out.push(...lintCreateLines(yaml, doc, valueOf(doc, step, 'run'), `job '${job}'`, mtu));
    const spec = setupBuildxSpec(doc, step);
    if (!spec || !builderProblem(spec)) continue;
    const bridge = builderProblem(spec) === 'bridge';
    const usesKey = pairOf(step, 'uses')!.key;
    out.push(
      lintFindingAt(yaml, usesKey, mtu, (where, line) => ({
        summary: `job '${job}' in ${where}: docker/setup-buildx-action ${problemText(spec, mtu)}.`,
        evidence: [`${where}: ${bridge ? `worker network ${spec.workerNet}` : `driver-opts: network=${spec.network}`}`],
        fix: {
          summary: bridge
            ? 'Run RUN steps in the builder\u2019s namespace: buildkitd-flags: --oci-worker-net=host.'
            : 'Put the builder in the daemon\u2019s namespace: driver-opts: network=host.',
          steps: [
            {
              title: `${yaml.file} line ${line}: the step's with: (keep your other inputs)`,
              language: 'yaml',
              snippet: bridge
                ? 'with:\n  buildkitd-flags: --oci-worker-net=host'
                : 'with:\n  driver: docker-container\n  driver-opts: |\n    network=host',
            },
            ...networkStep(spec, mtu),
          ],
        },
      })),
    );
  }
  return out;
}

const POD_BUILDERS = /(^|\/)(kaniko-project\/executor|kaniko|buildah|buildah\/stable|podman\/stable)(:|@|$)/;

/**
 * GitLab: a job whose image is kaniko or buildah builds inside the job's pod or container: RUN steps use its own
 * network namespace. Info: the pod network's MTU is what counts, which the probes of a job in that pod measure.
 */
export function lintPodBuilder(
  yaml: YamlFile,
  doc: Document.Parsed,
  job: string,
  node: YAMLMap,
  mtu: number,
): Finding[] {
  const imagePair = pairOf(node, 'image');
  const image = asString(doc, imagePair?.value) ?? asString(doc, valueOf(doc, asMap(doc, imagePair?.value), 'name'));
  if (!imagePair || !image || !POD_BUILDERS.test(image)) return [];
  const f = lintFindingAt(yaml, imagePair.key, mtu, (where) => ({
    summary: `job '${job}' in ${where} builds with ${image}: its RUN steps run in the job's own network namespace (on the Kubernetes executor, the pod's eth0, made by the CNI), not on a Docker network; with an uplink of ${mtu} that is fine unless the pod network's MTU is above the path, which a preflight job in the same pods measures.`,
    evidence: [`${where}: image: ${image}`],
    fix: fixPodNetwork(undefined, mtu),
  }));
  return [{ ...f, severity: 'info' }];
}
