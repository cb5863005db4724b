/**
 * The YAML side of the CI config lint: parse a user's file keeping line numbers, walk it without caring
 * whether a value was written inline, as an alias or in block style, and build the finding a lint rule reports.
 * A file that is not valid YAML becomes an info finding (its line, the parser's message), never an exception.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Finding, Fix } from '../model/report.js';

/** Findings of the lint are about files, not a network layer: this is their `layer`. */
export const CONFIG_LAYER = 'config';

/**
 * Name of the preflight's own job or pipeline in the templates (templates/): its docker:dind service stands in for
 * the build's dind at the default MTU on purpose, so the lint leaves it alone.
 */
export const PREFLIGHT_JOB = 'mtu-preflight';

/** The MTU Docker gives every bridge it creates unless told otherwise. */
export const DOCKER_DEFAULT_MTU = 1500;

export interface YamlFile {
  /** Path as reported (relative to the linted directory). */
  file: string;
  docs: Document.Parsed[];
  /** 1-based line of a node (its first character); 0 when the node has no position. */
  lineOf(node: unknown): number;
}

export type ParsedYaml = { ok: true; yaml: YamlFile } | { ok: false; finding: Finding };

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: false });
  // An empty stream parses to an EmptyStream (an array-like with no documents).
  const docs = Array.isArray(parsed) ? parsed : [];
  const lineOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : 0;
  };
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const line = lineCounter.linePos(err.pos[0]).line;
      const message = err.message.split('\n')[0]!.replace(/\.$/, '');
      return {
        ok: false,
        finding: {
          code: 'ci-config-mtu',
          severity: 'info',
          layer: CONFIG_LAYER,
          file,
          line,
          summary: `${file}:${line} is not valid YAML (${message}); its MTU settings were not checked.`,
          evidence: [],
        },
      };
    }
  }
  return { ok: true, yaml: { file, docs, lineOf } };
}

/** An alias stands for its anchor: look through it (an unresolvable alias is nothing). */
export function deref(doc: Document.Parsed, node: unknown): unknown {
  if (isAlias(node)) {
    try {
      return node.resolve(doc);
    } catch {
      return undefined;
    }
  }
  return node;
}

export function asMap(doc: Document.Parsed, node: unknown): YAMLMap | undefined {
  const n = deref(doc, node);
  return isMap(n) ? n : undefined;
}

export function asSeq(doc: Document.Parsed, node: unknown): YAMLSeq | undefined {
  const n = deref(doc, node);
  return isSeq(n) ? n : undefined;
}

/** A scalar's value as text (numbers and booleans too); undefined for anything else. */
export function asString(doc: Document.Parsed, node: unknown): string | undefined {
  const n = deref(doc, node);
  if (!isScalar(n) || n.value === null || n.value === undefined) return undefined;
  return String(n.value);
}

/** The pair of `key` in a mapping (its key node carries the line of the key). */
export function pairOf(map: YAMLMap | undefined, key: string): Pair | undefined {
  if (!map) return undefined;
  for (const item of map.items) {
    if (isPair(item) && keyName(item) === key) return item;
  }
  return undefined;
}

export function keyName(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return k.value === null || k.value === undefined ? undefined : String(k.value);
  return typeof k === 'string' || typeof k === 'number' ? String(k) : undefined;
}

export function valueOf(doc: Document.Parsed, map: YAMLMap | undefined, key: string): unknown {
  return deref(doc, pairOf(map, key)?.value);
}

/** The named entries of a mapping, in order, skipping merge keys (`<<: *x`: judged where the anchor is). */
export function entries(map: YAMLMap | undefined): Array<{ name: string; pair: Pair }> {
  if (!map) return [];
  const out: Array<{ name: string; pair: Pair }> = [];
  for (const item of map.items) {
    if (!isPair(item)) continue;
    const name = keyName(item);
    if (name === undefined || name === '<<') continue;
    out.push({ name, pair: item });
  }
  return out;
}

/**
 * A command list as the strings a container gets: `["--mtu=1450"]`, `--mtu 1450` (one string), or a
 * block sequence. Anything else is no command.
 */
export function asStrings(doc: Document.Parsed, node: unknown): string[] {
  const seq = asSeq(doc, node);
  if (seq) return seq.items.map((i) => asString(doc, i)).filter((s): s is string => s !== undefined);
  const s = asString(doc, node);
  return s === undefined ? [] : [s];
}

/**
 * The `--mtu` a dockerd command line sets: a number, 'variable' when it is set from a variable we cannot read
 * (`--mtu=$MTU`), or undefined when there is none.
 */
export function dockerdMtu(args: readonly string[]): number | 'variable' | undefined {
  const words = args.flatMap((a) => a.split(/\s+/)).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let v: string | undefined;
    if (w.startsWith('--mtu=')) v = w.slice('--mtu='.length);
    else if (w === '--mtu') v = words[i + 1];
    if (v === undefined) continue;
    return /^\d+$/.test(v) ? Number(v) : 'variable';
  }
  return undefined;
}

/** dockerd arguments without the MTU ones (`--mtu=1500`, `--mtu 1500`, a default-network-opt for the MTU): the fix replaces them. */
export function withoutMtu(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--mtu') {
      i++;
      continue;
    }
    if (a.startsWith('--mtu=') || /^--default-network-opt[= ]bridge=com\.docker\.network\.driver\.mtu=/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** An MTU value from YAML (`1450`, `"1450"`), or 'variable' (`${MTU}`), or undefined when absent. */
export function mtuValue(doc: Document.Parsed, node: unknown): number | 'variable' | undefined {
  const s = asString(doc, node);
  if (s === undefined || s.trim() === '') return undefined;
  return /^\s*\d+\s*$/.test(s) ? Number(s) : 'variable';
}

/** The image name without registry path, tag or digest: `registry.example.com/library/docker:24-dind` → `docker`. */
export function imageRepo(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const tail = noDigest.slice(lastSlash + 1);
  return tail.split(':')[0]!.toLowerCase();
}

export function imageTag(image: string): string {
  const noDigest = image.split('@')[0]!;
  const tail = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const i = tail.indexOf(':');
  return i >= 0 ? tail.slice(i + 1) : 'latest';
}

/** Path of an image without tag or digest, lower-cased: `docker.io/plugins/docker:20` → `docker.io/plugins/docker`. */
export function imagePath(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const tail = noDigest.slice(lastSlash + 1).split(':')[0]!;
  return (noDigest.slice(0, lastSlash + 1) + tail).toLowerCase();
}

/** A Docker-in-Docker daemon image: docker:dind, docker:27-dind, docker:dind-rootless, a mirror's .../docker:24-dind. */
export function isDindImage(image: string): boolean {
  const repo = imageRepo(image);
  const tag = imageTag(image).toLowerCase();
  return (repo === 'docker' && tag.includes('dind')) || repo === 'dind' || repo.endsWith('-dind');
}

/**
 * `--default-network-opt` exists since dockerd 24.0: offering it to an older dind would stop its daemon from
 * starting. Tags without a version (dind, latest, a variable) are taken as current.
 */
export function supportsDefaultNetworkOpt(image: string): boolean {
  const m = /^(\d+)(?:\.|-|$)/.exec(imageTag(image));
  return !m || Number(m[1]) >= 24;
}

/** The dockerd arguments that set the MTU, for the default bridge and (dockerd >= 24) for networks it creates. */
export function dockerdMtuArgs(image: string, mtu: number): string[] {
  return [`--mtu=${mtu}`, ...(supportsDefaultNetworkOpt(image) ? [`--default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}`] : [])];
}

/** A YAML flow sequence of strings, each quoted: `["--mtu=1450", "--tls=false"]`. */
export function flowList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** A scalar for a YAML snippet: quoted when plain style could change its meaning. */
export function yamlScalar(s: string): string {
  return /^[\w./:@${}-]+$/.test(s) && !/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) ? s : JSON.stringify(s);
}

export interface LintFindingInput {
  file: string;
  line: number;
  mtu: number;
  summary: string;
  evidence?: string[];
  fix: Fix;
}

export function lintFinding(f: LintFindingInput): Finding {
  return {
    code: 'ci-config-mtu',
    severity: 'warning',
    layer: CONFIG_LAYER,
    file: f.file,
    line: f.line,
    summary: f.summary,
    evidence: f.evidence ?? [],
    recommendedMtu: f.mtu,
    fix: f.fix,
  };
}

/** True when the setting is fine for this uplink: set to a value that fits, or set from a variable we cannot judge. */
export function settingFits(value: number | 'variable' | undefined, mtu: number): boolean {
  return value === 'variable' || (value !== undefined && value <= mtu);
}
