/**
 * The diff of two normalised lab reports (scripts/lab-reports-diff.ts prints it): one line per changed value,
 * `path: old -> new`, `+ path: new` for an added one, `- path: old` for a removed one. Array items are named by what
 * identifies them (a layer by its id, a finding by code@layer, a probe by target and address, an interface by name,
 * a fix step by its title) instead of their index, so one inserted layer shows as that layer, not as every later
 * layer changed.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A label for an array item, when it has fields that identify it. */
function itemLabel(item: Json): string | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const s = (k: string) => (typeof item[k] === 'string' || typeof item[k] === 'number' ? String(item[k]) : undefined);
  if (s('id')) return s('id');
  if (s('code') && s('layer')) return `${s('code')}@${s('layer')}`;
  if (s('target') && s('url')) return [s('target'), s('address') ?? s('family')].filter(Boolean).join('@');
  if (s('name') && s('mtu') !== undefined) return s('name');
  if (s('title')) return s('title')!.slice(0, 40);
  return undefined;
}

/** Flatten to path -> scalar (as JSON text); arrays of identifiable items are keyed by label. */
export function flatten(v: Json, at = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v)) {
    if (!v.length) out.set(at, '[]');
    const labels = v.map(itemLabel);
    const unique = labels.every((l) => l !== undefined) && new Set(labels).size === labels.length;
    v.forEach((x, i) => flatten(x, `${at}[${unique ? labels[i] : i}]`, out));
  } else if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) out.set(at, '{}');
    for (const k of keys) flatten(v[k]!, at ? `${at}.${k}` : k, out);
  } else {
    out.set(at, JSON.stringify(v));
  }
  return out;
}

export function diffJson(a: Json, b: Json): string[] {
  const fa = flatten(a);
  const fb = flatten(b);
  const lines: string[] = [];
  for (const [k, va] of fa) {
    if (!fb.has(k)) lines.push(`- ${k}: ${va}`);
    else if (fb.get(k) !== va) lines.push(`  ${k}: ${va} -> ${fb.get(k)}`);
  }
  for (const [k, vb] of fb) if (!fa.has(k)) lines.push(`+ ${k}: ${vb}`);
  return lines;
}
