/**
 * Issue 14: the monitoring templates for self-hosted runner hosts (templates/monitoring/): the systemd service and
 * timer pass `systemd-analyze verify`, their command line and the cron line are valid mtu-preflight flags writing
 * the metrics file, and the alerting rules pass `promtool check rules` and fire as `promtool test rules` says: a
 * runner failing for 10 minutes gives "MTU problem on runner <name>".
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgv } from '../../src/config/argv.js';
import { parseOptions } from '../../src/config/options.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(path.join(ROOT, 'templates/monitoring', p), 'utf8');
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-monitoring-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function optionsOf(commandLine: string) {
  const words = commandLine.trim().split(/\s+/);
  expect(words[0]).toBe('/usr/local/bin/mtu-preflight');
  const end = words.indexOf('>/dev/null');
  return parseOptions([{ source: 'flag', values: parseArgv(words.slice(1, end < 0 ? undefined : end)).values }]);
}

describe('templates/monitoring', () => {
  it('the service runs a valid command line that writes the textfile collector file; systemd-analyze verifies both units', () => {
    const service = read('mtu-preflight.service');
    const exec = /^ExecStart=(.*)$/m.exec(service)![1]!;
    expect(optionsOf(exec)).toMatchObject({
      metricsFile: '/var/lib/prometheus/node-exporter/mtu-preflight.prom',
      timeoutMs: 60_000,
      lintDir: null,
    });
    // systemd-analyze wants the binary to exist: a stand-in at a path of this test's own.
    const bin = path.join(tmp, 'mtu-preflight');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    writeFileSync(path.join(tmp, 'mtu-preflight.service'), service.replace('/usr/local/bin/mtu-preflight', bin));
    writeFileSync(path.join(tmp, 'mtu-preflight.timer'), read('mtu-preflight.timer'));
    const v = spawnSync(
      'systemd-analyze',
      ['verify', path.join(tmp, 'mtu-preflight.service'), path.join(tmp, 'mtu-preflight.timer')],
      { encoding: 'utf8' },
    );
    expect(v.error, 'systemd-analyze (Debian: systemd) is needed').toBeUndefined();
    expect(v.stderr.split('\n').filter((l) => /mtu-preflight\.(service|timer)/.test(l))).toEqual([]);
    expect(read('mtu-preflight.timer')).toMatch(/^OnUnitActiveSec=5min$/m);
  });

  it('the cron line runs the same every 5 minutes', () => {
    const line = read('mtu-preflight.cron')
      .split('\n')
      .find((l) => l && !l.startsWith('#'))!;
    const [min, h, dom, mon, dow, user, ...command] = line.split(/\s+/);
    expect([min, h, dom, mon, dow, user]).toEqual(['*/5', '*', '*', '*', '*', 'root']);
    expect(optionsOf(command.join(' '))).toMatchObject({
      metricsFile: '/var/lib/prometheus/node-exporter/mtu-preflight.prom',
    });
  });

  it('the alerting rules pass promtool and fire "MTU problem on runner X" after 10 minutes of fail', () => {
    const rules = path.join(ROOT, 'templates/monitoring/mtu-preflight.rules.yml');
    const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    expect(check.error, 'promtool: apt-get install prometheus (scripts/lab-deps.sh)').toBeUndefined();
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = path.join(tmp, 'rules.test.yml');
    writeFileSync(
      test,
      [
        'rule_files:',
        `  - ${rules}`,
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1m',
        '    input_series:',
        '      - series: mtu_preflight_verdict{runner="gl-runner-3",ci_system="gitlab-ci"}',
        "        values: '2x20'",
        '      - series: mtu_preflight_verdict{runner="gl-runner-4",ci_system="gitlab-ci"}',
        "        values: '0x20'",
        '      - series: mtu_preflight_last_run_timestamp_seconds{runner="gl-runner-3",ci_system="gitlab-ci"}',
        "        values: '0+60x20'",
        '    alert_rule_test:',
        '      - eval_time: 5m',
        '        alertname: MtuProblemOnRunner',
        '        exp_alerts: []',
        '      - eval_time: 15m',
        '        alertname: MtuProblemOnRunner',
        '        exp_alerts:',
        '          - exp_labels: { severity: critical, runner: gl-runner-3, ci_system: gitlab-ci }',
        '            exp_annotations:',
        '              summary: "MTU problem on runner gl-runner-3"',
        '              description: >-',
        '                mtu-preflight fails on gl-runner-3 (gitlab-ci) for 10 minutes or more.',
        '                Findings: mtu_preflight_findings{runner="gl-runner-3"}; the MTU to set:',
        '                mtu_preflight_recommended_mtu_bytes{runner="gl-runner-3"}.',
        '      - eval_time: 15m',
        '        alertname: MtuPreflightNotRunning',
        '        exp_alerts: []',
        '',
      ].join('\n'),
    );
    const t = spawnSync('promtool', ['test', 'rules', test], { encoding: 'utf8' });
    expect(t.status, t.stdout + t.stderr).toBe(0);
  });
});
