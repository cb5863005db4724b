/**
 * The lint's findings as SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif): one result per
 * finding, ruleId = the finding's code, a rules section with the help text of each code, the file and line as the
 * location, and a partial fingerprint that survives the line moving. Findings about the runner's network (a probe
 * that stalled) are left out: code scanning files every alert on a path of the repository and closes it when a
 * later analysis of that branch lacks it, so a runner's passing state would open and close alerts on commits that
 * changed nothing; those findings go to the job summary, JUnit and the metrics. See README "Reports for CI systems".
 */
import type { FindingCode, Report, Severity } from '../model/report.js';
import { maskSecrets } from '../util/redact.js';
import { fileFindings, fingerprints, lineOf } from './lint-findings.js';

const SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
const HELP_URI = 'https://github.com/mtu-preflight/mtu-preflight#what-a-finding-means';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** The codes the lint gives, with their help; a code without an entry gets a generic line (README lists them all). */
const RULE_HELP: Partial<Record<FindingCode, { short: string; help: string }>> = {
  'ci-config-mtu': {
    short: 'An inner Docker network of this CI config gets MTU 1500 over a smaller uplink.',
    help:
      'A docker:dind service, a Drone docker plugin, a compose network or a GitHub `container:` job gets ' +
      "Docker's default MTU of 1500 while the runner's uplink is smaller (a 1450 Kubernetes pod network, a 1400 " +
      'VPN). TCP connects, then full-size segments from the server are dropped: npm install, bundle install, pip ' +
      'and apt stall or time out with misleading errors. Set the MTU the fix names (dockerd --mtu, settings.mtu, ' +
      'driver_opts com.docker.network.driver.mtu).',
  },
  'ci-config-unchecked': {
    short: 'A CI config file was found but not judged.',
    help:
      'The lint found this CI config file but could not read or parse it (not a regular file, larger than 1 MiB, ' +
      'unreadable, or YAML whose aliases expand past 1,000,000 nodes): its MTU settings were not checked.',
  },
};

export function renderSarif(report: Report): string {
  const found = fileFindings(report.findings);
  const prints = fingerprints(found);
  const codes = [...new Set(found.map((f) => f.code))].sort();
  const rules = codes.map((code) => {
    const h = RULE_HELP[code] ?? { short: `mtu-preflight finding ${code}.`, help: `See ${HELP_URI}.` };
    return {
      id: code,
      name: code.replace(/(^|-)([a-z])/g, (_m: string, _d: string, c: string) => c.toUpperCase()),
      shortDescription: { text: h.short },
      fullDescription: { text: h.help },
      help: { text: h.help, markdown: `${h.help}\n\nSee [What a finding means](${HELP_URI}).` },
      helpUri: HELP_URI,
      defaultConfiguration: { level: code === 'ci-config-unchecked' ? 'note' : 'warning' },
    };
  });
  const results = found.map((f, i) => ({
    ruleId: f.code,
    ruleIndex: codes.indexOf(f.code),
    level: LEVEL[f.severity],
    message: { text: maskSecrets(f.fix ? `${f.summary} Fix: ${f.fix.summary}` : f.summary) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: f.file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' },
          region: { startLine: lineOf(f) },
        },
      },
    ],
    partialFingerprints: { 'mtuPreflight/v1': prints[i]! },
    ...(f.recommendedMtu !== undefined ? { properties: { recommendedMtu: f.recommendedMtu } } : {}),
  }));
  const log = {
    $schema: SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            version: report.tool.version,
            informationUri: 'https://github.com/mtu-preflight/mtu-preflight',
            rules,
          },
        },
        results,
        invocations: [{ executionSuccessful: !report.timedOut, startTimeUtc: report.startedAt }],
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
