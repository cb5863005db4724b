/**
 * The fix a finding prints: the exact setting to change, for the CI system we run in, with the measured MTU filled
 * in. Every knob lives in this folder, split by what it configures, each checked against the source of that thing
 * (named at the knob): dockerd.ts (--mtu, daemon.json, default-network-opts), compose.ts (networks created with the
 * option), gitlab.ts, drone-woodpecker.ts, github.ts (the CI systems), host.ts (MSS, interfaces), swarm.ts. The rules
 * and the lint (src/lint) both take their snippets from here.
 */
import type { CiFact, Fix, FixStep } from '../../model/report.js';
import { hasDefaultNetworkOpts, MTU_OPTION } from '../../model/net.js';
import { composeStep, networkCreateStep } from './compose.js';
import { daemonJsonStep, DEFAULT_NETWORK_OPTS_RELEASE, systemdDropInStep } from './dockerd.js';
import { dockerPluginStep, droneRunnerStep, woodpeckerAgentSteps } from './drone-woodpecker.js';
import { githubSteps } from './github.js';
import { gitlabDindStep, gitlabRunnerStep } from './gitlab.js';

export { fixParentMtu, fixPathBlackhole } from './host.js';
export { fixGwbridgeMtu, fixOverlayMtu } from './swarm.js';

function ciDockerSteps(ci: CiFact, mtu: number, engine?: number): FixStep[] {
  switch (ci.system) {
    case 'gitlab-ci':
      return [gitlabDindStep(mtu, engine), gitlabRunnerStep(mtu)];
    case 'drone':
      return [dockerPluginStep('drone', mtu), droneRunnerStep(mtu)];
    case 'woodpecker':
      return [dockerPluginStep('woodpecker', mtu), ...woodpeckerAgentSteps(mtu, engine)];
    case 'github-actions':
      return githubSteps(ci.kubernetes, mtu, engine);
    default:
      return [];
  }
}

/** Inner Docker network(s) larger than the path they leave by. `engine`: the daemon's major version, when known. */
export function fixDockerMtu(ci: CiFact, mtu: number, engine?: number): Fix {
  const ciSteps = ciDockerSteps(ci, mtu, engine);
  // The CI system's own daemon.json step (a self-hosted GitHub runner) makes the generic one say the same thing twice.
  const generic = [daemonJsonStep(mtu, engine), systemdDropInStep(mtu, engine), composeStep(mtu)].filter(
    (g) => !ciSteps.some((c) => c.snippet === g.snippet),
  );
  const steps = [...ciSteps, ...generic];
  return {
    summary: `Set the Docker MTU to ${mtu}: dockerd --mtu=${mtu} for the default bridge, plus ${MTU_OPTION}=${mtu} for user-defined networks.`,
    steps,
  };
}

/** A user-defined network (compose, `docker network create`) left at the default. */
export function fixNetworkMtu(network: string, mtu: number, engine?: number): Fix {
  return {
    summary: `Re-create network ${network} with ${MTU_OPTION}=${mtu}${hasDefaultNetworkOpts(engine) ? ', or set default-network-opts in daemon.json' : ''}.`,
    steps: [
      networkCreateStep(network, mtu),
      composeStep(mtu),
      ...(hasDefaultNetworkOpts(engine) ? [daemonJsonStep(mtu, engine)] : []),
    ],
  };
}

/** What a docker-network layer says about who made a user-defined network. */
export interface NetworkOrigin {
  name: string;
  /** 'compose' | 'github-actions' | 'mtu-preflight' (layer fact `origin`). */
  origin?: string;
  composeProject?: string;
}

/**
 * A user-defined network above the path MTU, with the fix for whoever creates it: compose networks get driver_opts,
 * the networks GitHub Actions creates for `container:` jobs (github_network_*) can only be fixed on the daemon
 * (default-network-opts), anything else is re-created with the option.
 */
export function fixUserNetworkMtu(ci: CiFact, net: NetworkOrigin, mtu: number, engine?: number): Fix {
  if (net.origin === 'github-actions') {
    const opts = hasDefaultNetworkOpts(engine);
    return {
      summary: opts
        ? `${net.name} is created by the Actions runner for a \`container:\` or services job and keeps 1500 whatever dockerd --mtu says: set default-network-opts (mtu ${mtu}) on the runner's dockerd.`
        : `${net.name} is created by the Actions runner for a \`container:\` or services job and keeps 1500 whatever dockerd --mtu says; Docker ${engine} cannot change that default (default-network-opts needs ${DEFAULT_NETWORK_OPTS_RELEASE}): upgrade the runner's dockerd and set it, or clamp the MSS on the host.`,
      steps: [...ciDockerSteps({ ...ci, system: 'github-actions' }, mtu, engine), daemonJsonStep(mtu, engine)].filter(
        (s, i, all) => all.findIndex((o) => o.snippet === s.snippet) === i,
      ),
    };
  }
  if (net.origin === 'compose') {
    const project = net.composeProject ? ` (compose project ${net.composeProject})` : '';
    return {
      summary: `Give the compose network ${net.name}${project} driver_opts ${MTU_OPTION}: ${mtu}${hasDefaultNetworkOpts(engine) ? ', or set default-network-opts in daemon.json for every network' : ''}.`,
      steps: [composeStep(mtu), ...(hasDefaultNetworkOpts(engine) ? [daemonJsonStep(mtu, engine)] : [])],
    };
  }
  return fixNetworkMtu(net.name, mtu, engine);
}

/**
 * dockerd --bridge=br0: the default network is a bridge the host owns (seed 002: routable container IPs). Containers'
 * veths take the network's MTU (dockerd --mtu), the bridge itself keeps what its configuration says: set both.
 */
export function fixHostBridgeMtu(ci: CiFact, bridge: string, mtu: number, engine?: number): Fix {
  const docker = fixDockerMtu(ci, mtu, engine);
  return {
    summary: `Set ${bridge}'s MTU to ${mtu} where the host configures it, and dockerd --mtu=${mtu} for the containers dockerd attaches to ${bridge} (dockerd --bridge=${bridge} does not change the bridge's own MTU).`,
    steps: [
      {
        title: `Now (the bridge; restart the containers on it, or restart dockerd with --mtu=${mtu})`,
        language: 'sh',
        snippet: `ip link set dev ${bridge} mtu ${mtu}`,
      },
      {
        title: `Persistently: ifupdown (/etc/network/interfaces), or netplan \`bridges: ${bridge}: mtu: ${mtu}\``,
        language: 'ini',
        snippet: `auto ${bridge}\niface ${bridge} inet static\n    mtu ${mtu}\n    # bridge_ports, address ... as before`,
      },
      ...docker.steps.filter((s) => s.language !== 'yaml' || !/networks:/.test(s.snippet)),
    ],
  };
}
