/**
 * GitHub Actions' knobs, checked against the runner and ARC:
 * - The runner creates the network of a `container:` or services job with `docker network create --label ... <name>`
 *   and no options (github.com/actions/runner src/Runner.Worker/Container/DockerCommandManager.cs DockerNetworkCreate):
 *   no workflow or runner setting reaches it. Only the runner host's dockerd default-network-opts do (Docker 24.0+).
 * - ARC's legacy `dockerMTU` (RunnerDeployment spec.template.spec, actions-runner-controller v0.18.0+) becomes the
 *   dind sidecar's MTU env, i.e. dockerd --mtu: docker0 only, not the job networks (controllers/actions.summerwind.net/
 *   runner_controller.go).
 * - ARC runner scale sets in dind mode run `dockerd --host=unix:///var/run/docker.sock --group=$(DOCKER_GROUP_GID)` in
 *   a container named dind (charts/gha-runner-scale-set/templates/_helpers.tpl, chart 0.6.1+); to change its
 *   arguments, containerMode stays empty and template.spec carries that container (charts/gha-runner-scale-set/values.yaml).
 */
import type { Fix, FixStep } from '../../model/report.js';
import { hasDefaultNetworkOpts, MTU_OPTION } from '../../model/net.js';
import { daemonJsonStep, daemonJsonText, DEFAULT_NETWORK_OPTS_RELEASE, dockerdMtuArgs } from './dockerd.js';
import { mssClampStep } from './host.js';
import { flowList } from './snippets.js';

/** The dind container's arguments in the gha-runner-scale-set chart, before the MTU ones. */
const SCALE_SET_DIND_ARGS = ['dockerd', '--host=unix:///var/run/docker.sock', '--group=$(DOCKER_GROUP_GID)'];

export function arcLegacyStep(mtu: number): FixStep {
  return {
    title:
      'Actions Runner Controller (legacy RunnerDeployment, v0.18.0+): runner spec (dockerd --mtu: docker0, not the networks of `container:` jobs)',
    language: 'yaml',
    snippet: `spec:\n  template:\n    spec:\n      dockerMTU: ${mtu}`,
  };
}

export function arcScaleSetStep(mtu: number, engine?: number): FixStep {
  return {
    title:
      "ARC runner scale sets (dind mode): leave containerMode empty and give the dind container in template.spec these args (the chart's, plus the MTU)",
    language: 'yaml',
    snippet: `args: ${flowList([...SCALE_SET_DIND_ARGS, ...dockerdMtuArgs(mtu, engine)])}`,
  };
}

/** The self-hosted runner host's dockerd: the one place the job networks' MTU can come from (Docker 24+). */
export function runnerHostStep(mtu: number, engine?: number): FixStep {
  return daemonJsonStep(
    mtu,
    engine,
    hasDefaultNetworkOpts(engine)
      ? 'Self-hosted runner host: dockerd, including the networks Actions creates for `container:` and service jobs'
      : `Self-hosted runner host: dockerd (Docker ${engine} cannot give the networks Actions creates for \`container:\` and service jobs an MTU: that needs default-network-opts, Docker ${DEFAULT_NETWORK_OPTS_RELEASE}+)`,
  );
}

/** The GitHub Actions steps of a Docker MTU fix: ARC's when on Kubernetes, then the runner host's dockerd. */
export function githubSteps(kubernetes: boolean, mtu: number, engine?: number): FixStep[] {
  const steps = [
    ...(kubernetes ? [arcLegacyStep(mtu), arcScaleSetStep(mtu, engine)] : []),
    runnerHostStep(mtu, engine),
  ];
  // Before Docker 24 nothing sets the job networks' MTU: clamping the MSS on the host is what still works.
  if (!hasDefaultNetworkOpts(engine))
    steps.push(
      mssClampStep(
        `Runner host on Docker ${engine}: clamp the MSS of what containers send through it (works for the job networks too)`,
      ),
    );
  return steps;
}

/**
 * The lint's fix for a job on the runner's network (no engine version known: a current dockerd). ARC's legacy
 * `dockerMTU` is not offered: it sets --mtu only, which the job networks ignore.
 */
export function fixRunnerNetwork(mtu: number, what: string): Fix {
  return {
    summary: `A workflow cannot set the MTU of the network the runner creates for ${what}: set default-network-opts ${MTU_OPTION}=${mtu} (and mtu ${mtu}) on the runner's dockerd.`,
    steps: [
      {
        title: 'Self-hosted runner host: /etc/docker/daemon.json, then restart docker',
        language: 'json',
        snippet: daemonJsonText(mtu),
      },
      arcScaleSetStep(mtu),
    ],
  };
}
