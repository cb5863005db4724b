/**
 * The docker layer could not be examined: with --docker required an unreachable daemon is an error
 * (`docker-unreachable`); a probe image that is not there (and may not be pulled) is `probe-image-missing`,
 * an error with --docker required and a warning otherwise (the inner layer went unchecked).
 * With --docker auto an unreachable daemon is only a note on the host layer (the collector writes it).
 */
import type { Finding } from '../../model/report.js';
import type { DiagnosisInput, Rule } from '../rule.js';

export const dockerDaemon: Rule = {
  id: 'docker-daemon',
  evaluate(input: DiagnosisInput): Finding[] {
    const findings: Finding[] = [];
    for (const d of input.layers) {
      if (d.kind !== 'docker-daemon') continue;
      const required = d.required;
      if (!d.reachable) {
        findings.push({
          code: 'docker-unreachable',
          severity: 'error',
          layer: d.id,
          summary: `${d.notes[0] ?? 'docker: no daemon reachable'}; --docker required needs one.`,
          evidence: [...d.notes, ...(d.endpoint ? [`endpoint from ${d.endpoint.source}`] : [])],
          fix: {
            summary:
              'Point DOCKER_HOST at the daemon the job uses (unix:///var/run/docker.sock, or tcp://docker:2376 with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for docker:dind), or use --docker auto to skip the docker layer when there is none.',
            steps: [],
          },
        });
        continue;
      }
      const missing = d.probeImageMissing;
      if (missing !== undefined) {
        findings.push({
          code: 'probe-image-missing',
          severity: required ? 'error' : 'warning',
          layer: d.id,
          summary: `The docker layer was inspected but not probed: ${missing}.`,
          evidence: d.notes,
          fix: {
            summary: `Make an image with node available to the daemon (docker pull ${d.probeImage ?? 'node:24-alpine'}, or --probe-image with one that is), or allow pulling with --pull missing.`,
            steps: [],
          },
        });
      }
    }
    return findings;
  },
};
