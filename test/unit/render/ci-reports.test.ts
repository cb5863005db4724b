/**
 * Issue 14: the report as CI systems and monitoring read it. Every fixture report is rendered in each format,
 * checked by the format's real checker (validators.ts: xmllint + the JUnit XSD, the SARIF 2.1.0 schema with ajv,
 * promtool), snapshotted, and asserted on what a user looks for: the failing test case with code, evidence and fix;
 * the skipped case saying why; the Code Quality fields GitLab documents; SARIF rule ids equal to the finding codes
 * on the file and line; gauges per layer and target with no secret in a label.
 */
import { describe, expect, it } from 'vitest';
import type { DockerDaemonLayer } from '../../../src/model/layers.js';
import type { Report } from '../../../src/model/report.js';
import { codeQualityIssues, renderCodeQuality } from '../../../src/render/codequality.js';
import { renderJunit } from '../../../src/render/junit.js';
import { renderMetrics } from '../../../src/render/metrics.js';
import { renderSarif } from '../../../src/render/sarif.js';
import { LINT_REPORT_NAMES, REPORT_NAMES, loadReport } from './fixtures.js';
import { promtoolCheck, validateSarif, xmllintJunit } from './validators.js';

const ALL = [...REPORT_NAMES, ...LINT_REPORT_NAMES];
const RUNNER = { runner: 'gitlab-runner-k8s-7' };

/** The test cases of a JUnit document, by name: what GitLab's Tests tab lists. */
function cases(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(/<testcase [^>]*name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g))
    out.set(m[1]!, m[2] ?? '');
  return out;
}

describe('JUnit XML', () => {
  it.each(ALL)('%s validates against the JUnit XSD and matches its snapshot', async (name) => {
    const xml = renderJunit(loadReport(name));
    const v = xmllintJunit(xml);
    expect(v.ok, v.output).toBe(true);
    await expect(xml).toMatchFileSnapshot(`__snapshots__/junit/${name}.xml`);
  });

  it('the checker rejects what GitLab could not read (a test case without a name)', () => {
    const broken = renderJunit(loadReport('healthy-pass')).replace(/ name="runner[^"]*"/, '');
    expect(xmllintJunit(broken).ok).toBe(false);
  });

  it('one case per layer and target probe: the stalled ones fail with code, summary, evidence and fix', () => {
    const xml = renderJunit(loadReport('nested-docker-blackhole'));
    const c = cases(xml);
    const stalled = c.get('container on the default bridge: npm (registry.npmjs.org)')!;
    expect(stalled).toMatch(/<failure message="pmtu-blackhole: docker network bridge \(docker0\) MTU 1500/);
    expect(stalled).toContain('type="pmtu-blackhole"');
    expect(stalled).toContain('TLS handshake stalled'); // evidence
    expect(stalled).toMatch(/Fix: Set the Docker MTU to 1450/);
    expect(stalled).toContain('command: [&quot;--mtu=1450&quot;'); // the fix's snippet, escaped
    expect(c.get('docker build RUN step (default bridge): npm (registry.npmjs.org)')).toContain('<failure');
    expect(c.get('container on the MTU 1450 network: npm (registry.npmjs.org)')).not.toContain('<failure');
    expect(c.get('runner (this network namespace): npm (registry.npmjs.org)')).not.toContain('<failure');
    expect(xml).toMatch(/<testsuites name="mtu-preflight" tests="12" failures="2"/);
  });

  it('a healthy run has only passing cases', () => {
    const xml = renderJunit(loadReport('healthy-pass'));
    expect(xml).not.toContain('<failure');
    expect([...cases(xml).keys()]).toEqual([
      'runner (this network namespace): MTU 1500',
      'runner (this network namespace): npm (registry.npmjs.org)',
      'runner (this network namespace): rubygems (rubygems.org)',
      'runner (this network namespace): pecl (pecl.php.net)',
    ]);
  });

  it('a warning is a failure only with strict (as the exit code is); otherwise it is in system-out', () => {
    const report = loadReport('mismatch-warning');
    expect(renderJunit(report)).not.toContain('<failure');
    expect(renderJunit(report)).toContain('mtu-mismatch (warning)');
    report.settings.strict = true;
    expect(renderJunit(report)).toContain('<failure message="mtu-mismatch: ');
  });

  it('skipped cases say why: no Docker daemon, the probe image missing', () => {
    const noDaemon = loadReport('healthy-pass');
    noDaemon.layers[0]!.notes.push('docker: no daemon at unix:///var/run/docker.sock (the socket does not exist)');
    expect(renderJunit(noDaemon)).toContain(
      '<skipped message="docker: no daemon at unix:///var/run/docker.sock (the socket does not exist)"/>',
    );
    const off = loadReport('healthy-pass');
    off.settings.docker = 'off';
    expect(renderJunit(off)).toContain('<skipped message="docker: off (--docker off)"/>');
    const missing = loadReport('nested-docker-blackhole');
    const daemon = missing.layers.find((l) => l.kind === 'docker-daemon') as DockerDaemonLayer;
    daemon.probeImageMissing = "image node:24-alpine is not in the daemon and pull is 'never'";
    const xml = renderJunit(missing);
    expect(xml).toContain(
      `<skipped message="no probes inside this daemon: image node:24-alpine is not in the daemon and pull is 'never'"/>`,
    );
    expect(xmllintJunit(xml).ok).toBe(true);
  });

  it('lint findings are one case each, named by file and line', () => {
    const c = cases(renderJunit(loadReport('ci-config-lint')));
    expect(c.has('.gitlab-ci.yml:9 ci-config-mtu')).toBe(true);
    expect(c.has('docker-compose.yml:14 ci-config-mtu')).toBe(true);
    expect([...c.keys()].every((n) => /^[\w./-]+:\d+ ci-config-mtu$/.test(n))).toBe(true);
  });
});

describe('GitLab Code Quality', () => {
  it.each(ALL)('%s has the fields GitLab documents and matches its snapshot', async (name) => {
    const text = renderCodeQuality(loadReport(name));
    const issues = JSON.parse(text) as unknown[];
    expect(Array.isArray(issues)).toBe(true);
    expect(text.charCodeAt(0)).not.toBe(0xfeff); // GitLab's parser rejects a byte order mark
    for (const i of issues) {
      expect(i).toEqual({
        description: expect.any(String),
        check_name: expect.any(String),
        fingerprint: expect.stringMatching(/^[0-9a-f]{32}(-\d+)?$/),
        severity: expect.stringMatching(/^(info|minor|major|critical|blocker)$/),
        location: { path: expect.stringMatching(/^[^/]/), lines: { begin: expect.any(Number) } },
      });
    }
    await expect(text).toMatchFileSnapshot(`__snapshots__/codequality/${name}.json`);
  });

  it('each lint finding is an issue on its file and line, the fix in the description; probe findings are not', () => {
    const report = loadReport('ci-config-lint');
    const issues = codeQualityIssues(report);
    expect(issues).toHaveLength(report.findings.length);
    expect(issues.find((i) => i.location.path === '.gitlab-ci.yml' && i.location.lines.begin === 9)).toMatchObject({
      check_name: 'ci-config-mtu',
      severity: 'major',
      description: expect.stringMatching(/has no --mtu.* Fix: /),
    });
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length);
    expect(codeQualityIssues(loadReport('nested-docker-blackhole'))).toEqual([]);
  });

  it('a fingerprint survives the finding moving down the file', () => {
    const report = loadReport('ci-config-lint');
    const before = codeQualityIssues(report)[0]!.fingerprint;
    const f = report.findings[0]!;
    f.line = f.line! + 3;
    f.summary = f.summary.replace(/:(\d+)/, (_m, n: string) => `:${Number(n) + 3}`);
    expect(codeQualityIssues(report)[0]!.fingerprint).toBe(before);
  });
});

describe('SARIF 2.1.0', () => {
  it.each(ALL)('%s validates against the SARIF 2.1.0 schema and matches its snapshot', async (name) => {
    const text = renderSarif(loadReport(name));
    const v = validateSarif(JSON.parse(text));
    expect(v.ok, v.output).toBe(true);
    await expect(text).toMatchFileSnapshot(`__snapshots__/sarif/${name}.sarif`);
  });

  it('the schema rejects a log whose tool has no name', () => {
    const log = JSON.parse(renderSarif(loadReport('ci-config-lint'))) as { runs: Array<{ tool: { driver: object } }> };
    delete (log.runs[0]!.tool.driver as { name?: string }).name;
    expect(validateSarif(log).ok).toBe(false);
  });

  it('lint findings are results: ruleId = code, a rule with help, the file and line; probe findings are left out', () => {
    type Log = {
      runs: Array<{
        tool: { driver: { rules: Array<{ id: string; help: { text: string } }> } };
        results: Array<{
          ruleId: string;
          ruleIndex: number;
          level: string;
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>;
        }>;
      }>;
    };
    const report = loadReport('ci-config-lint');
    const run = (JSON.parse(renderSarif(report)) as Log).runs[0]!;
    expect(run.results).toHaveLength(report.findings.length);
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(['ci-config-mtu']);
    expect(run.tool.driver.rules[0]!.help.text).toMatch(/Docker's default MTU of 1500/);
    const first = run.results.find((r) => r.locations[0]!.physicalLocation.artifactLocation.uri === '.gitlab-ci.yml')!;
    expect(first).toMatchObject({ ruleId: 'ci-config-mtu', ruleIndex: 0, level: 'warning' });
    expect(first.locations[0]!.physicalLocation.region.startLine).toBe(9);
    const probes = (JSON.parse(renderSarif(loadReport('nested-docker-blackhole'))) as Log).runs[0]!;
    expect(probes.results).toEqual([]);
  });
});

describe('Prometheus metrics', () => {
  it.each(ALL)('%s passes promtool check metrics and matches its snapshot', async (name) => {
    const text = renderMetrics(loadReport(name), RUNNER);
    const v = promtoolCheck(text);
    expect(v.ok, v.output).toBe(true);
    await expect(text).toMatchFileSnapshot(`__snapshots__/metrics/${name}.prom`);
  });

  it('the checker rejects a gauge named like a counter', () => {
    expect(
      promtoolCheck('# HELP mtu_preflight_x_total x\n# TYPE mtu_preflight_x_total gauge\nmtu_preflight_x_total 1\n').ok,
    ).toBe(false);
  });

  it('the verdict, MTUs per layer, and per target outcome, time to first byte and throughput', () => {
    const text = renderMetrics(loadReport('nested-docker-blackhole'), RUNNER);
    const run = 'runner="gitlab-runner-k8s-7",ci_system="gitlab-ci"';
    expect(text).toContain(`mtu_preflight_verdict{${run}} 2\n`);
    expect(text).toContain(`mtu_preflight_recommended_mtu_bytes{${run}} 1450\n`);
    expect(text).toContain(`mtu_preflight_uplink_mtu_bytes{${run},layer="docker",layer_kind="docker-daemon"} 1450\n`);
    expect(text).toContain(
      `mtu_preflight_layer_mtu_bytes{${run},layer="docker-net-bridge",layer_kind="docker-network"} 1500\n`,
    );
    expect(text).toContain(`mtu_preflight_probe_success{${run},layer="docker-container-bridge",target="npm"} 0\n`);
    expect(text).toContain(
      `mtu_preflight_probe_outcome{${run},layer="docker-container-bridge",target="npm",outcome="stall"} 1\n`,
    );
    expect(text).toMatch(
      new RegExp(`mtu_preflight_probe_ttfb_seconds\\{${run},layer="host",target="npm"\\} 0\\.066\\n`),
    );
    expect(text).toMatch(/mtu_preflight_probe_throughput_bytes_per_second\{[^}]*layer="host",target="npm"\} \d+\n/);
    expect(text).toContain(`mtu_preflight_findings{${run},code="pmtu-blackhole",severity="error"} 1\n`);
    expect(renderMetrics(loadReport('healthy-pass'), RUNNER)).toContain(
      'mtu_preflight_verdict{runner="gitlab-runner-k8s-7",ci_system="github-actions"} 0\n',
    );
  });

  it('no credentials in a label: a --url target is its host, a runner name with a URL is masked, quotes escaped', () => {
    const report: Report = loadReport('healthy-pass');
    const probe = report.layers[0]!.probes[0]!;
    Object.assign(probe, {
      target: 'url',
      url: 'https://bot:s3cret@mirror.example/x.tgz?token=abc',
      host: 'mirror.example',
    });
    const text = renderMetrics(report, { runner: 'runner "a" via http://bot:s3cret@proxy:3128' });
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('token=abc');
    expect(text).toContain('target="url:mirror.example"');
    expect(text).toContain('runner="runner \\"a\\" via http://***:***@proxy:3128"');
    expect(promtoolCheck(text).ok).toBe(true);
  });
});
