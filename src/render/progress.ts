/**
 * The live status on a terminal while probing: one line per probe (a dual-stack target has one per address family),
 * each cut to the terminal's width so that none wraps, redrawn in place, and erased at the end so that only the
 * report stays. Pure: it returns the text and escape sequences to write; the CLI writes them to stderr.
 */
import { maskSecrets } from '../util/redact.js';
import type { ProbeResult } from '../model/report.js';
import { describeOutcome, fmtBytes, fmtMs } from './phrases.js';
import { paintOutcome, painter, visibleLength } from './text.js';

/** Columns to assume when the terminal does not say: `script` with no terminal on its input reports 0. */
export const DEFAULT_COLUMNS = 80;

export interface TerminalSize {
  /** process.stderr.columns: undefined or 0 when unknown. */
  columns?: number;
  /** process.stderr.rows: undefined or 0 when unknown. */
  rows?: number;
}

/** The phase a probe still in flight is in, from the phases it has completed. */
function describeProgress(p: ProbeResult): string {
  const ph = p.phases;
  if (ph.doneMs !== undefined) return describeOutcome(p);
  // Through a proxy no DNS or connect time is recorded until the response: "connecting" is true either way.
  if (ph.connectMs === undefined) return ph.dnsMs === undefined ? 'connecting' : 'connecting (TCP)';
  if (ph.tlsMs === undefined && p.url.startsWith('https:')) return 'TLS handshake';
  if (ph.ttfbMs === undefined) return 'waiting for response';
  return 'downloading';
}

/**
 * One short live line per target while probing: host, phase (or outcome once done), bytes, elapsed.
 * `elapsedMs` is the caller's clock; without it the latest time the probe recorded is shown.
 */
export function renderProgressLine(probe: ProbeResult, opts: { color?: boolean; elapsedMs?: number } = {}): string {
  const paint = painter(opts.color ?? false);
  const ph = probe.phases;
  const recorded = Math.max(
    0,
    ph.dnsMs ?? 0,
    ph.connectMs ?? 0,
    ph.tlsMs ?? 0,
    ph.ttfbMs ?? 0,
    probe.samples.at(-1)?.[0] ?? 0,
  );
  const elapsed = opts.elapsedMs ?? ph.doneMs ?? recorded;
  const state = describeProgress(probe);
  const shown = ph.doneMs === undefined ? paint(state, 'dim') : paintOutcome(probe, state, paint);
  const pad = ' '.repeat(Math.max(0, 22 - visibleLength(state)));
  return maskSecrets(
    `${probe.host.padEnd(24)} ${shown}${pad} ${fmtBytes(probe.bytes).padStart(9)} ${fmtMs(elapsed).padStart(7)}`,
  );
}

const ANSI_TOKEN = /\x1b\[[0-9;]*m|[^\x1b]+|\x1b/g;

/** `line` cut to `columns` visible characters; colour sequences are kept whole, and reset when a cut fell inside one. */
export function fitLine(line: string, columns: number): string {
  if (visibleLength(line) <= columns) return line;
  let out = '';
  let left = columns;
  let coloured = false;
  for (const token of line.match(ANSI_TOKEN) ?? []) {
    if (token.startsWith('\x1b')) {
      if (left > 0) {
        out += token;
        coloured = token !== '\x1b[0m';
      }
      continue;
    }
    // By code point, so that a cut never splits a surrogate pair.
    const chars = [...token].slice(0, left);
    out += chars.join('');
    left -= chars.length;
  }
  return coloured ? `${out}\x1b[0m` : out;
}

/**
 * What replaces the `drawn` lines written last (the cursor on the last of them) with `lines`: back to the first
 * column and up to the first line, then each line cleared and written, with no newline after the last so that the
 * block scrolls no further than it must. Lines no longer needed are cleared and the cursor goes back up to the
 * last one written; `lines` empty: the block is erased and the cursor is left where it began.
 */
export function redrawLines(lines: readonly string[], drawn: number, size: TerminalSize = {}): string {
  // One column short of the width: a line that fills the last column leaves the cursor in a pending wrap that
  // some terminals (the Windows console) resolve at once, which would move every later line down by one.
  const columns = (size.columns || DEFAULT_COLUMNS) - 1;
  const shown = screenLines(lines, size).map((l) => fitLine(l, columns));
  // Line by line (erase in line), not "erase below": tmux moves a whole screen cleared from its top-left corner
  // into the scrollback (scroll-on-clear), which would keep every frame there.
  const rows = Array.from({ length: Math.max(shown.length, drawn, 1) }, (_, i) => `\x1b[2K${shown[i] ?? ''}`);
  const back = rows.length - Math.max(shown.length, 1);
  return `\r${up(drawn - 1)}${rows.join('\n')}${up(back)}`;
}

const up = (n: number): string => (n > 0 ? `\x1b[${n}A` : '');

/** The lines redrawLines draws: a line that scrolled off the top could not be reached again to redraw it. */
export function screenLines(lines: readonly string[], size: TerminalSize): readonly string[] {
  return size.rows ? lines.slice(0, Math.max(1, size.rows - 1)) : lines;
}

/** The live lines of one run: update() returns what to write when a probe moved on, erase() what removes them. */
export class ProgressBoard {
  // By probe, not by URL: a dual-stack target is probed once per address family.
  private readonly lines = new Map<ProbeResult, string>();
  private drawn = 0;

  update(probe: ProbeResult, size: TerminalSize): string {
    this.lines.set(probe, renderProgressLine(probe));
    const lines = [...this.lines.values()];
    const out = redrawLines(lines, this.drawn, size);
    this.drawn = screenLines(lines, size).length;
    return out;
  }

  erase(): string {
    if (this.drawn === 0) return '';
    const out = redrawLines([], this.drawn);
    this.drawn = 0;
    return out;
  }
}
