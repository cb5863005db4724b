import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../../src/model/report.js';
import {
  DEFAULT_COLUMNS,
  ProgressBoard,
  fitLine,
  redrawLines,
  renderProgressLine,
} from '../../../src/render/progress.js';

/**
 * Just enough of a terminal to replay what the CLI writes to stderr: printable characters with autowrap at the last
 * column, CR, LF (the tty's onlcr makes it CR LF), CSI n A (up), CSI K / 2K (erase in line), SGR (ignored),
 * and a scrollback that keeps every line pushed off the top.
 */
class Screen {
  readonly scrollback: string[] = [];
  private rows: string[][];
  private row = 0;
  private col = 0;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rows = Array.from({ length: height }, () => []);
  }

  write(data: string): void {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i]!;
      if (ch === '\x1b') {
        const m = /^\x1b\[([0-9;]*)([A-Za-z])/.exec(data.slice(i))!;
        i += m[0].length - 1;
        this.csi(Number(m[1] || 0), m[2]!);
      } else if (ch === '\r') this.col = 0;
      else if (ch === '\n') {
        this.col = 0;
        this.lineFeed();
      } else {
        if (this.col === this.width) {
          this.col = 0;
          this.lineFeed();
        }
        this.rows[this.row]![this.col++] = ch;
      }
    }
  }

  private csi(n: number, cmd: string): void {
    if (cmd === 'A') this.row = Math.max(0, this.row - Math.max(1, n));
    if (cmd === 'K') this.rows[this.row] = n === 2 ? [] : this.rows[this.row]!.slice(0, this.col);
  }

  private lineFeed(): void {
    if (this.row < this.height - 1) {
      this.row++;
      return;
    }
    this.scrollback.push(this.text(this.rows.shift()!));
    this.rows.push([]);
  }

  private text(cells: string[]): string {
    return Array.from(cells, (c) => c ?? ' ')
      .join('')
      .trimEnd();
  }

  /** The scrollback, then the screen, without trailing empty rows. */
  lines(): string[] {
    const all = [...this.scrollback, ...this.rows.map((r) => this.text(r))];
    while (all.length && all.at(-1) === '') all.pop();
    return all;
  }
}

const probe = (host: string, over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'url',
  url: `https://${host}/big.tgz`,
  host,
  outcome: 'ok',
  phases: {},
  bytes: 0,
  capped: false,
  samples: [],
  ...over,
});

/** How a probe goes through its phases: the CLI gets an update at each. */
function* phases(p: ProbeResult): Generator<ProbeResult> {
  yield p;
  p.phases = { dnsMs: 2 };
  yield p;
  p.phases = { ...p.phases, connectMs: 9 };
  yield p;
  p.phases = { ...p.phases, tlsMs: 40 };
  yield p;
  p.phases = { ...p.phases, ttfbMs: 60 };
  p.bytes = 65536;
  yield p;
  p.phases = { ...p.phases, doneMs: 900 };
  p.bytes = 2 * 1024 * 1024;
  yield p;
}

const HOSTS = ['registry.npmjs.org', 'rubygems.org', 'pecl.php.net'];
const PROGRESS = /^(registry\.npmjs\.org|rubygems\.org|pecl\.php\.net) /;

/** Three targets updated in turn, as the default run does; returns what was written. */
function playRun(size: { columns?: number; rows?: number }, onFrame: (written: string) => void = () => {}): string {
  const board = new ProgressBoard();
  const runs = HOSTS.map((h) => phases(probe(h)));
  let out = '';
  for (let step = 0; step < 6; step++) {
    for (const r of runs) {
      out += board.update(r.next().value as ProbeResult, size);
      onFrame(out);
    }
  }
  return out + board.erase();
}

describe('live progress on a terminal', () => {
  it('draws one line per target, none wider than the terminal, each redrawn in place', () => {
    const screen = new Screen(100, 30);
    let frames = 0;
    playRun({ columns: 100, rows: 30 }, (written) => {
      const replay = new Screen(100, 30);
      replay.write(written);
      const lines = replay.lines();
      frames++;
      // After the first update of each target, there are as many lines as targets seen, one each.
      expect(lines.length).toBe(Math.min(frames, HOSTS.length));
      expect(lines.every((l) => PROGRESS.test(l))).toBe(true);
      expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBe(lines.length);
    });
    expect(frames).toBe(18);
    const written = playRun({ columns: 100, rows: 30 });
    for (const segment of written.split(/\x1b\[[0-9;]*[A-Za-z]|\r|\n/)) expect(segment.length).toBeLessThan(100);
    screen.write(written);
    // Erased at the end, and nothing left in the scrollback: the report is all that follows.
    expect(screen.lines()).toEqual([]);
    expect(screen.scrollback).toEqual([]);
  });

  it('cuts each line to a narrow terminal without wrapping it', () => {
    const screen = new Screen(40, 10);
    const written = playRun({ columns: 40, rows: 10 }, (w) => {
      const replay = new Screen(40, 10);
      replay.write(w);
      expect(replay.lines().every((l) => l.length <= 39 && PROGRESS.test(l))).toBe(true);
    });
    screen.write(written);
    expect(screen.lines()).toEqual([]);
  });

  it('assumes 80 columns when the terminal does not say (0 under script)', () => {
    for (const columns of [undefined, 0]) {
      const line = renderProgressLine(
        probe('registry.npmjs.org', { phases: { dnsMs: 2, connectMs: 9, tlsMs: 40, ttfbMs: 60 }, bytes: 1 }),
      );
      const drawn = redrawLines([`${line}${'x'.repeat(100)}`], 0, { columns }).replace(/^\r\x1b\[2K/, '');
      expect(drawn.length).toBe(DEFAULT_COLUMNS - 1);
      expect(drawn.startsWith(line)).toBe(true);
    }
  });

  it('draws no more lines than the screen holds, so none scrolls out of reach', () => {
    const screen = new Screen(100, 3);
    screen.write(playRun({ columns: 100, rows: 3 }));
    expect(screen.lines()).toEqual([]);
    expect(screen.scrollback).toEqual([]);
  });

  it('this screen shows the old single-line redraw leaving stale lines behind', () => {
    // The drawing before the fix: every target on one line, `\r\x1b[2K` before each redraw.
    const screen = new Screen(100, 30);
    const lines = new Map<ProbeResult, string>();
    const runs = HOSTS.map((h) => phases(probe(h)));
    for (let step = 0; step < 6; step++) {
      for (const r of runs) {
        const p = r.next().value as ProbeResult;
        lines.set(p, renderProgressLine(p));
        screen.write(`\r\x1b[2K${[...lines.values()].join('  ')}`);
      }
    }
    screen.write('\r\x1b[2K');
    expect(screen.lines().length).toBeGreaterThan(5);
  });
});

describe('fitLine', () => {
  it('keeps a short line as it is', () => {
    expect(fitLine('rubygems.org  downloading', 79)).toBe('rubygems.org  downloading');
  });

  it('cuts by visible characters, keeping colour sequences whole and closing them', () => {
    const line = `pecl.php.net \x1b[2mTLS handshake\x1b[0m 0 B`;
    expect(fitLine(line, 17)).toBe('pecl.php.net \x1b[2mTLS \x1b[0m');
    expect(fitLine(line, 12)).toBe('pecl.php.net');
  });

  it('never splits a character outside the BMP', () => {
    expect(fitLine('ab😀cd', 3)).toBe('ab😀');
  });
});

describe('redrawLines', () => {
  it('goes back to the first line drawn, then clears and writes each line', () => {
    expect(redrawLines(['a', 'b', 'c'], 0, { columns: 100 })).toBe('\r\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc');
    expect(redrawLines(['a', 'b', 'c'], 1, { columns: 100 })).toBe('\r\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc');
    expect(redrawLines(['a', 'b', 'c'], 3, { columns: 100 })).toBe('\r\x1b[2A\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc');
  });

  it('clears the lines no longer needed and goes back up to the last one written', () => {
    expect(redrawLines(['a'], 3)).toBe('\r\x1b[2A\x1b[2Ka\n\x1b[2K\n\x1b[2K\x1b[2A');
    expect(redrawLines([], 3)).toBe('\r\x1b[2A\x1b[2K\n\x1b[2K\n\x1b[2K\x1b[2A');
  });

  it('never erases "below", which tmux would move into the scrollback from the top-left corner', () => {
    expect(redrawLines(['a', 'b'], 2)).not.toMatch(/\x1b\[\d*J/);
  });
});
