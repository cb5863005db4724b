/**
 * GitLab's knobs, checked against gitlab-runner (github.com/gitlabhq/gitlab-runner, the mirror of
 * gitlab.com/gitlab-org/gitlab-runner) and the docker:dind image (github.com/docker-library/docker):
 * - the dind service's `command:` is dockerd's arguments: GitLab gives it to the container as its command (services
 *   `command`, GitLab and GitLab Runner 9.4+), and the image's dockerd-entrypoint.sh runs dockerd with arguments that
 *   start with '-' (dockerd-entrypoint.sh:104). gitlab-runner's docs/executors/docker.md gives this same fix
 *   ("Docker-in-Docker MTU does not inherit from the runner").
 * - config.toml `[runners.docker] network_mtu`: the MTU of the network the Docker executor creates for each job, and
 *   only with the FF_NETWORK_PER_BUILD feature flag (common/config.go NetworkMTU, executors/docker/internal/networks/
 *   manager.go), GitLab Runner 16.5.0+. The Kubernetes executor has no such knob: its pods get the CNI's MTU.
 */
import type { FixStep } from '../../model/report.js';
import { dockerdMtuArgs } from './dockerd.js';
import { flowList } from './snippets.js';

/** GitLab Runner release that brought `network_mtu` (merge request 3576). */
export const GITLAB_NETWORK_MTU_SINCE = '16.5.0';

export function gitlabDindStep(mtu: number, engine?: number): FixStep {
  return {
    title: '.gitlab-ci.yml: pass the MTU to the docker:dind service',
    language: 'yaml',
    snippet: `services:\n  - name: docker:dind\n    command: ${flowList(dockerdMtuArgs(mtu, engine))}`,
  };
}

export function gitlabRunnerStep(mtu: number): FixStep {
  return {
    title: `GitLab Runner, Docker executor (${GITLAB_NETWORK_MTU_SINCE}+): config.toml, the network it creates per job (only with FF_NETWORK_PER_BUILD)`,
    language: 'toml',
    snippet: `[runners.docker]\n  network_mtu = ${mtu}\n[runners.feature_flags]\n  FF_NETWORK_PER_BUILD = true`,
  };
}
