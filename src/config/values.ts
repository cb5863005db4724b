/**
 * One raw value (a flag's argument, a config value, an Action input) -> one typed value, or a UsageError that
 * names the input, quotes what it got and says what it expects. The entry points print that one line and exit 2.
 */
import { UsageError } from '../model/errors.js';

// Defined with the other error classes; the config modules take it from here.
export { UsageError };

/** Raw values as an entry point found them, keyed by the kebab-case name (flag, config key, input). */
export type RawValue = string | number | boolean | string[] | null | undefined;

/** Longest value quoted back in an error: the message stays one readable line whatever was pasted in. */
const MAX_SHOWN = 200;

export function fail(label: string, got: RawValue, expected: string): never {
  const full = Array.isArray(got) ? got.join(',') : String(got);
  // Control characters (a pasted newline) would break the one line.
  const shown = (full.length > MAX_SHOWN ? `${full.slice(0, MAX_SHOWN)}…` : full).replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  throw new UsageError(`${label} must be ${expected}, got '${shown}'.`);
}

export function toStr(v: RawValue): string {
  return Array.isArray(v) ? v.join(',') : String(v).trim();
}

/** Shortest timeout taken: below it every probe would end before its first packet. */
const MIN_SECONDS = 0.1;

export function parseSeconds(v: RawValue, label: string, max: number): number {
  const s = toStr(v).replace(/s$/, '');
  const n = Number(s);
  // Decimal only: Number() would also take '0x10' (16) and ' ' (0).
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) || !Number.isFinite(n) || n <= 0)
    fail(label, v, 'a positive number of seconds');
  if (n < MIN_SECONDS) fail(label, v, `at least ${MIN_SECONDS} seconds`);
  if (n > max) fail(label, v, `at most ${max} seconds`);
  return Math.round(n * 1000);
}

/** The words a boolean takes, in every source; '' is a bare flag (`--strict=`) or `strict:` with no value. */
const TRUE_WORDS: readonly string[] = ['true', 'yes', '1', 'on', ''];
const FALSE_WORDS: readonly string[] = ['false', 'no', '0', 'off'];

export function parseBool(v: RawValue, label: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = toStr(v).toLowerCase();
  if (TRUE_WORDS.includes(s)) return true;
  if (FALSE_WORDS.includes(s)) return false;
  return fail(label, v, 'true or false');
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

export function parseSize(v: RawValue, label: string, min: number, max: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(toStr(v));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) fail(label, v, 'a size in bytes such as 2097152, 512K or 2M');
  const n = Math.round(Number(m[1]) * unit);
  if (n < min || n > max) fail(label, v, `between ${min} and ${max} bytes`);
  return n;
}

export function parseMtu(v: RawValue, label: string): number {
  const s = toStr(v);
  const n = Number(s);
  // 576 is the IPv4 minimum every host must accept; 1280 is IPv6's, but IPv4 paths go lower.
  if (!/^\d+$/.test(s) || n < 576 || n > 65535) fail(label, v, 'an MTU between 576 and 65535');
  return n;
}

export function oneOf<T extends string>(v: RawValue, label: string, allowed: readonly T[]): T {
  const s = toStr(v).toLowerCase() as T;
  if (!allowed.includes(s)) fail(label, v, `one of ${allowed.join(', ')}`);
  return s;
}

export function splitList(v: RawValue): string[] {
  const items = Array.isArray(v) ? v : toStr(v).split(/[,\s]+/);
  return items.map((s) => String(s).trim()).filter(Boolean);
}

export function parseUrl(s: string, label: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return fail(label, s, 'an absolute http:// or https:// URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') fail(label, s, 'an absolute http:// or https:// URL');
  if (!u.hostname) fail(label, s, 'a URL with a host name');
  return u.toString();
}

/** A non-empty string (a path, a file name), else `expected`. */
export function nonEmpty(v: RawValue, label: string, expected: string): string {
  const s = toStr(v);
  if (!s) fail(label, v, expected);
  return s;
}

/** The candidate `word` was probably meant to be (a typo, a singular for a plural), if one is close enough. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  // A shared stem ('registry' for 'registries') is a better hint than the closest spelling.
  const stem =
    w.length >= 5
      ? candidates.find((c) => c.toLowerCase().startsWith(w.slice(0, -1)) || w.startsWith(c.toLowerCase()))
      : undefined;
  if (stem) return stem;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best !== undefined && bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
