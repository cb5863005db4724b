/**
 * Drone's and Woodpecker's knobs, checked against their sources:
 * - plugins/docker `settings: mtu:` (PLUGIN_MTU) becomes `--mtu` of the dockerd the plugin starts
 *   (github.com/drone-plugins/drone-docker cmd/drone-docker/main.go "daemon.mtu", docker.go; since 2016, in every
 *   tagged release from 18.06.0). Woodpecker's buildx plugin takes the same setting (woodpecker-ci/plugin-docker-buildx
 *   cmd/docker-buildx/config.go, plugin/docker.go), as does thegeeklab/drone-docker-buildx.
 * - DRONE_RUNNER_NETWORK_OPTS (key:value,...) sets the options of the network drone-runner-docker creates for each
 *   build (command/daemon/config.go, engine/compiler/compiler.go), drone-runner-docker 1.5.0+.
 * - Woodpecker's agent has no such knob: its docker backend creates each workflow's network with a driver and the
 *   IPv6 flag only (woodpecker-ci/woodpecker pipeline/backend/docker/docker.go SetupWorkflow, checked at 3.17.0;
 *   no WOODPECKER_BACKEND_DOCKER_* variable takes network options). What does reach that network is the agent host's
 *   dockerd default-network-opts (Docker 24.0+), which apply to every network created without options.
 */
import type { FixStep } from '../../model/report.js';
import { hasDefaultNetworkOpts, MTU_OPTION } from '../../model/net.js';
import { daemonJsonStep, DEFAULT_NETWORK_OPTS_RELEASE } from './dockerd.js';

/** drone-runner-docker release that brought DRONE_RUNNER_NETWORK_OPTS. */
export const DRONE_NETWORK_OPTS_SINCE = '1.5.0';

export function dockerPluginStep(system: 'drone' | 'woodpecker', mtu: number): FixStep {
  return {
    title: `.${system}.yml: the docker plugin starts its own dockerd; give it the MTU`,
    language: 'yaml',
    snippet: `steps:\n  - name: build\n    image: plugins/docker\n    settings:\n      mtu: ${mtu}`,
  };
}

export function droneRunnerStep(mtu: number): FixStep {
  return {
    title: `Drone Docker runner (drone-runner-docker ${DRONE_NETWORK_OPTS_SINCE}+): the networks it creates for each build`,
    language: 'sh',
    snippet: `DRONE_RUNNER_NETWORK_OPTS=${MTU_OPTION}:${mtu}`,
  };
}

/** Woodpecker: no agent knob, so the agent host's dockerd, when it can (Docker 24+); else nothing to print. */
export function woodpeckerAgentSteps(mtu: number, engine?: number): FixStep[] {
  if (!hasDefaultNetworkOpts(engine)) return [];
  return [
    daemonJsonStep(
      mtu,
      engine,
      `Woodpecker agent host: its docker backend has no setting for the networks it creates per workflow; the host dockerd's default-network-opts (Docker ${DEFAULT_NETWORK_OPTS_RELEASE}+) reach them: /etc/docker/daemon.json, then restart docker`,
    ),
  ];
}
