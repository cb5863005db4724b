/**
 * The YAML side of the CI config lint: parse a user's file keeping line numbers, walk it without caring
 * whether a value was written inline, as an alias or in block style, and build the finding a lint rule reports.
 * A file that is not valid YAML becomes an info finding (its line, the parser's message), never an exception.
 */
import {
  isAlias,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Alias,
  type Document,
  type Pair,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { Finding, Fix } from '../model/report.js';
import { ETHERNET_MTU } from '../model/net.js';

/** Findings of the lint are about files, not a network layer: this is their `layer`. */
export const CONFIG_LAYER = 'config';

/**
 * Name of the preflight's own job or pipeline in the templates (templates/): its docker:dind service stands in for
 * the build's dind at the default MTU on purpose, so the lint leaves it alone.
 */
export const PREFLIGHT_JOB = 'mtu-preflight';

/** The MTU Docker gives every bridge it creates unless told otherwise. */
export const DOCKER_DEFAULT_MTU = ETHERNET_MTU;

/**
 * Nodes a document may stand for once its aliases are expanded. Past this it is an alias bomb ("billion laughs"):
 * whatever reads it (GitLab, compose, the runner) expands it or refuses it, and we do not judge it. A hand-written
 * 1 MB CI file has a few hundred thousand nodes at most.
 */
export const MAX_EXPANDED_NODES = 1_000_000;

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
  for (const doc of docs) {
    const targets = aliasTargets(doc);
    ALIASES.set(doc, targets);
    const size = expandedSize(doc, targets, MAX_EXPANDED_NODES);
    if (size > MAX_EXPANDED_NODES) {
      const why = Number.isFinite(size)
        ? `its aliases expand to more than ${MAX_EXPANDED_NODES} nodes`
        : 'an alias refers to the node that contains it';
      return { ok: false, finding: uncheckedFinding(file, `YAML alias expansion limit: ${why}`) };
    }
  }
  return { ok: true, yaml: { file, docs, lineOf } };
}

/** The info finding for a CI file the lint found but did not judge; `why` says why, with the numbers. */
export function uncheckedFinding(file: string, why: string): Finding {
  return {
    code: 'ci-config-unchecked',
    severity: 'info',
    layer: CONFIG_LAYER,
    file,
    summary: `${file} was not checked (${why}): its MTU settings are unknown.`,
    evidence: [why],
  };
}

/** Each alias's anchor, found in one pass (an alias names the latest anchor before it; yaml's resolve() rescans the document per alias). */
const ALIASES = new WeakMap<Document.Parsed, Map<Alias, unknown>>();

function aliasTargets(doc: Document.Parsed): Map<Alias, unknown> {
  const anchors = new Map<string, unknown>();
  const targets = new Map<Alias, unknown>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target !== undefined) targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return targets;
}

/** Nodes the document stands for with its aliases expanded, counted with memoised subtrees; past `limit` it stops (a cycle is Infinity). */
function expandedSize(doc: Document.Parsed, targets: Map<Alias, unknown>, limit: number): number {
  const memo = new Map<unknown, number>();
  const open = new Set<unknown>();
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      if (target === undefined) return 1;
      return open.has(target) ? Infinity : size(target);
    }
    if (!isNode(node) && !isPair(node)) return 1;
    const known = memo.get(node);
    if (known !== undefined) return known;
    let n = 1;
    open.add(node);
    if (isPair(node)) n = size(node.key) + size(node.value);
    else if (isCollection(node)) {
      for (const item of node.items) {
        n += size(item);
        if (n > limit) break;
      }
    }
    open.delete(node);
    memo.set(node, n);
    return n;
  };
  return size(doc.contents);
}

/** An alias stands for its anchor: look through it (an unresolvable alias is nothing). */
export function deref(doc: Document.Parsed, node: unknown): unknown {
  if (isAlias(node)) {
    const targets = ALIASES.get(doc);
    if (targets) return targets.get(node);
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

/** An MTU value from YAML (`1450`, `"1450"`), or 'variable' (`${MTU}`), or undefined when absent. */
export function mtuValue(doc: Document.Parsed, node: unknown): number | 'variable' | undefined {
  const s = asString(doc, node);
  if (s === undefined || s.trim() === '') return undefined;
  return /^\s*\d+\s*$/.test(s) ? Number(s) : 'variable';
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

/**
 * The shape every linter shares: nothing to say at or above Docker's default MTU; a file that does not parse (or is
 * an alias bomb) is its one finding; otherwise each document is judged by `perDoc`.
 */
export function lintDocuments(
  text: string,
  file: string,
  mtu: number,
  perDoc: (yaml: YamlFile, doc: Document.Parsed) => Finding[],
): Finding[] {
  if (mtu >= DOCKER_DEFAULT_MTU) return [];
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return [parsed.finding];
  return parsed.yaml.docs.flatMap((doc) => perDoc(parsed.yaml, doc));
}

/** A warning at `node`'s line: `build` gets the `file:line` the summary and evidence name. */
export function lintFindingAt(
  yaml: YamlFile,
  node: unknown,
  mtu: number,
  build: (where: string, line: number) => { summary: string; evidence: string[]; fix: Fix },
): Finding {
  const line = yaml.lineOf(node);
  return lintFinding({ file: yaml.file, line, mtu, ...build(`${yaml.file}:${line}`, line) });
}
