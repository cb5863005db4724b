import { describe, expect, it } from 'vitest';
import { withHops } from '../../../src/diagnose/hops.js';
import { renderProgressLine } from '../../../src/render/progress.js';
import { renderText, shouldColor } from '../../../src/render/text.js';
import type { ProbeResult } from '../../../src/model/report.js';
import { REPORT_NAMES, loadReport } from './fixtures.js';

const ANSI = /\x1b\[/;

describe('renderText', () => {
  it.each(REPORT_NAMES)('%s matches its snapshot', async (name) => {
    await expect(renderText(loadReport(name), { color: false })).toMatchFileSnapshot(`__snapshots__/${name}.txt`);
  });

  it.each(REPORT_NAMES)('%s has colour only when asked for', (name) => {
    expect(renderText(loadReport(name), { color: false })).not.toMatch(ANSI);
    expect(renderText(loadReport(name), { color: true })).toMatch(ANSI);
  });

  it('draws each path in, with the blamed hop between the daemon (1450) and its bridge network (1500)', () => {
    const paths = renderText(loadReport('nested-docker-blackhole'), { color: false })
      .split('\n')
      .filter((l) => l.startsWith('  internet '));
    const toDaemon =
      'internet → eth0 (veth) 1450 → runner (this network namespace) 1450 → docker daemon (tcp://docker:2375) 1450';
    expect(paths.map((l) => l.trim())).toEqual([
      `${toDaemon} ─[✖ pmtu-blackhole]→ bridge (docker0) 1500 → container on the default bridge 1500`,
      `${toDaemon} ─[✖ pmtu-blackhole]→ bridge (docker0) 1500 → docker build RUN step (default bridge) 1500`,
      // The verification network: same daemon, MTU 1450, nothing blamed.
      `${toDaemon} → temporary network, MTU 1450 (verification) 1450 → container on the MTU 1450 network 1450`,
    ]);
  });

  it('tells the user the MTU to set, that it was verified, and the fix for their CI system', () => {
    const text = renderText(loadReport('nested-docker-blackhole'), { color: false });
    expect(text).toContain(
      'pmtu-blackhole for registry.npmjs.org in docker network bridge (docker0): set the MTU to 1450 (verified).',
    );
    expect(text).toContain(
      'recommended MTU 1450, verified: MTU 1450 (a network with MTU 1450 fetched 2.0 MB in 215 ms)',
    );
    expect(text).toContain('1. .gitlab-ci.yml: pass the MTU to the docker:dind service');
    // Snippets keep their own indentation under the step's.
    expect(text).toContain('\n         [runners.docker]\n           network_mtu = 1450\n');
  });

  it('blames the way in from the internet when the hop that drops packets is beyond this machine', () => {
    const text = renderText(loadReport('host-pmtu-blackhole'), { color: false });
    expect(text).toContain('internet ─[✖ pmtu-blackhole]→ eth0 (veth) 1500 → runner (this network namespace) 1500');
  });

  it('aligns probe columns', () => {
    const lines = renderText(loadReport('dns-failure'), { color: true })
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n');
    const header = lines.find((l) => l.trimStart().startsWith('target'))!;
    const rows = lines.filter((l) => /^\s+(registry\.npmjs\.org|rubygems\.org|pecl\.php\.net)\s/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.indexOf(row.trim().split(/\s+/)[1]!)).toBe(header.indexOf('outcome'));
      // Numbers are right-aligned: the throughput column ends where its header ends.
      expect(row.trimEnd().length).toBe(header.trimEnd().length);
    }
  });

  it('wraps prose to the width but never a fix snippet', () => {
    const text = renderText(loadReport('mismatch-warning'), { color: false, width: 72 });
    const summary = text
      .split('\n')
      .filter((l) => /docker0 MTU 1500 exceeds|advertise MSS 1460|fragmentation needed/.test(l));
    expect(summary.length).toBeGreaterThan(1);
    for (const l of summary) expect(l.length).toBeLessThanOrEqual(72);
    expect(text).toContain(
      'ExecStart=/usr/bin/dockerd --mtu=1400 --default-network-opt=bridge=com.docker.network.driver.mtu=1400 -H fd:// --containerd=/run/containerd/containerd.sock',
    );
  });

  it('ends with the verdict and what the exit code means, honouring strict', () => {
    const last = (s: string) => s.trimEnd().split('\n').at(-1);
    expect(last(renderText(loadReport('healthy-pass'), { color: false }))).toBe(
      'PASS: exit code 0 (no problems found on 3 probes).',
    );
    expect(last(renderText(loadReport('nested-docker-blackhole'), { color: false }))).toBe(
      'FAIL: exit code 1 (1 error, 0 warnings).',
    );
    const warn = loadReport('mismatch-warning');
    expect(last(renderText(warn, { color: false }))).toBe(
      'WARN: exit code 0 (0 errors, 1 warning; with strict this would exit 1).',
    );
    warn.settings.strict = true;
    expect(last(renderText(warn, { color: false }))).toBe(
      'WARN: exit code 1 (0 errors, 1 warning; strict makes warnings fail).',
    );
  });

  it('says when the run hit its timeout', () => {
    const r = loadReport('healthy-pass');
    r.timedOut = true;
    expect(renderText(r, { color: false })).toContain('The run hit its timeout');
  });

  it('shows a layer whose parent is missing from the report as a root rather than dropping it', () => {
    const r = loadReport('nested-docker-blackhole');
    r.layers = r.layers.filter((l) => l.kind !== 'docker-daemon'); // the networks now point at a parent that is not there
    // The hops as diagnosis would blame them in this report (the renderer draws them, it does not decide them).
    r.findings = withHops(
      r.findings.map(({ hops: _, ...f }) => f),
      r.layers,
    );
    const text = renderText(r, { color: false });
    expect(text).toContain(
      '\n  internet ─[✖ pmtu-blackhole]→ bridge (docker0) 1500 → container on the default bridge 1500\n',
    );
    expect(text).toContain('\n  bridge (docker0)  docker-network  MTU 1500\n');
  });

  it('is deterministic', () => {
    const r = loadReport('nested-docker-blackhole');
    expect(renderText(r, { color: true })).toBe(renderText(structuredClone(r), { color: true }));
  });
});

describe('shouldColor', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it.each([
    ['a terminal', tty, {}, 'auto', true],
    ['a pipe', pipe, {}, 'auto', false],
    ['NO_COLOR on a terminal', tty, { NO_COLOR: '1' }, 'auto', false],
    ['an empty NO_COLOR', tty, { NO_COLOR: '' }, 'auto', true],
    ['NO_COLOR beats FORCE_COLOR', tty, { NO_COLOR: '1', FORCE_COLOR: '1' }, 'auto', false],
    ['FORCE_COLOR on a pipe', pipe, { FORCE_COLOR: '1' }, 'auto', true],
    ['FORCE_COLOR=0 on a pipe', pipe, { FORCE_COLOR: '0' }, 'auto', false],
    ['FORCE_COLOR=0 on a terminal', tty, { FORCE_COLOR: '0' }, 'auto', true],
    ['TERM=dumb on a terminal', tty, { TERM: 'dumb' }, 'auto', false],
    ['--color always with NO_COLOR', pipe, { NO_COLOR: '1' }, true, true],
    ['--color never on a terminal', tty, { FORCE_COLOR: '1' }, false, false],
  ] as const)('%s', (_, stream, env, option, expected) => {
    expect(shouldColor(stream, env, option)).toBe(expected);
  });
});

describe('renderProgressLine', () => {
  const base: ProbeResult = {
    target: 'npm',
    url: 'https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz',
    host: 'registry.npmjs.org',
    outcome: 'error',
    phases: {},
    bytes: 0,
    capped: false,
    samples: [],
  };

  it.each([
    ['before any phase', 'connecting', {}],
    ['after TCP connected', 'TLS handshake', { phases: { dnsMs: 3, connectMs: 9 } }],
    ['after the handshake', 'waiting for response', { phases: { dnsMs: 3, connectMs: 9, tlsMs: 40 } }],
    [
      'while the body arrives',
      'downloading',
      { phases: { dnsMs: 3, connectMs: 9, tlsMs: 40, ttfbMs: 60 }, bytes: 524288, samples: [[160, 524288]] },
    ],
    [
      'once stalled',
      'stall',
      {
        outcome: 'stall',
        phases: { dnsMs: 3, connectMs: 9, doneMs: 3010 },
        stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
      },
    ],
  ] as const)('%s shows %s', (_, state, over) => {
    const line = renderProgressLine({ ...base, ...(over as Partial<ProbeResult>) });
    expect(line.startsWith('registry.npmjs.org ')).toBe(true);
    expect(line).toContain(state);
    expect(line).not.toContain('\n');
  });

  it('shows bytes and the elapsed time it is given', () => {
    const line = renderProgressLine(
      { ...base, phases: { dnsMs: 3, connectMs: 9, tlsMs: 40, ttfbMs: 60 }, bytes: 1572864 },
      { elapsedMs: 1234 },
    );
    expect(line).toMatch(/downloading\s+1\.5 MB\s+1\.2 s$/);
  });
});
