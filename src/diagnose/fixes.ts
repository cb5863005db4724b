/**
 * The fix a finding prints: the exact setting to change, for the CI system we run in,
 * with the measured MTU filled in. The knobs are the ones users actually turn
 * (dockerd --mtu / daemon.json, dind service command, Drone plugin mtu, ARC dockerMTU, compose driver_opts).
 */
import type { CiFact, Fix, FixStep } from '../types.js';

/** MSS = MTU - 20 (IPv4 header) - 20 (TCP header); over IPv6 the header is 40 bytes. */
export function mssFor(mtu: number, family: 4 | 6 = 4): number {
  return mtu - (family === 6 ? 60 : 40);
}

/**
 * dockerd learned default-network-opts (daemon.json) / --default-network-opt in Docker 24.0; an older dockerd refuses
 * to start with either ("the following directives don't match any configuration option"). `engine` is the daemon's
 * major version when the docker layer saw it; unknown means current.
 */
export function hasDefaultNetworkOpts(engine?: number): boolean {
  return engine === undefined || engine >= 24;
}

const netOptArg = (mtu: number, engine?: number) => (hasDefaultNetworkOpts(engine) ? `, "--default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}"` : '');

function daemonJsonText(mtu: number, engine?: number): string {
  return JSON.stringify({ mtu, ...(hasDefaultNetworkOpts(engine) ? { 'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': String(mtu) } } } : {}) }, null, 2);
}

function daemonJson(mtu: number, engine?: number): FixStep {
  return {
    title: `dockerd (any host): /etc/docker/daemon.json, then restart docker${hasDefaultNetworkOpts(engine) ? '' : ` (Docker ${engine} has no default-network-opts, added in 24.0: give user-defined networks the option themselves)`}`,
    language: 'json',
    snippet: daemonJsonText(mtu, engine),
  };
}

function systemdDropIn(mtu: number, engine?: number): FixStep {
  return {
    title: 'dockerd under systemd: /etc/systemd/system/docker.service.d/mtu.conf (empty ExecStart= clears the packaged one)',
    language: 'ini',
    snippet: `[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --mtu=${mtu}${hasDefaultNetworkOpts(engine) ? ` --default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}` : ''} -H fd:// --containerd=/run/containerd/containerd.sock`,
  };
}

function compose(mtu: number): FixStep {
  return {
    title: 'docker compose: every network (user-defined networks ignore dockerd --mtu)',
    language: 'yaml',
    snippet: `networks:\n  default:\n    driver: bridge\n    driver_opts:\n      com.docker.network.driver.mtu: ${mtu}`,
  };
}

function ciDockerSteps(ci: CiFact, mtu: number, engine?: number): FixStep[] {
  switch (ci.system) {
    case 'gitlab-ci':
      return [
        {
          title: '.gitlab-ci.yml: pass the MTU to the docker:dind service',
          language: 'yaml',
          snippet: `services:\n  - name: docker:dind\n    command: ["--mtu=${mtu}"${netOptArg(mtu, engine)}]`,
        },
        {
          title: 'GitLab Runner (Kubernetes or Docker executor): config.toml',
          language: 'toml',
          snippet: `[runners.docker]\n  network_mtu = ${mtu}`,
        },
      ];
    case 'drone':
    case 'woodpecker':
      return [
        {
          title: `.${ci.system}.yml: the docker plugin starts its own dockerd; give it the MTU`,
          language: 'yaml',
          snippet: `steps:\n  - name: build\n    image: plugins/docker\n    settings:\n      mtu: ${mtu}`,
        },
        {
          title: `${ci.system === 'drone' ? 'Drone' : 'Woodpecker'} runner: networks it creates for each build`,
          language: 'sh',
          snippet:
            ci.system === 'drone'
              ? `DRONE_RUNNER_NETWORK_OPTS=com.docker.network.driver.mtu:${mtu}`
              : `WOODPECKER_BACKEND_DOCKER_NETWORK_OPTS=com.docker.network.driver.mtu:${mtu}  # check your Woodpecker version's docs for the exact variable`,
        },
      ];
    case 'github-actions':
      return [
        ...(ci.kubernetes
          ? [
              {
                title: 'Actions Runner Controller (legacy RunnerDeployment): runner spec',
                language: 'yaml',
                snippet: `spec:\n  template:\n    spec:\n      dockerMTU: ${mtu}`,
              },
              {
                title: 'ARC runner scale sets (dind mode): args of the dind sidecar',
                language: 'yaml',
                snippet: `args: ["dockerd", "--host=unix:///var/run/docker.sock", "--mtu=${mtu}"${netOptArg(mtu, engine)}]`,
              },
            ]
          : []),
        {
          title: 'Self-hosted runner host: dockerd, including the networks Actions creates for `container:` and service jobs',
          language: 'json',
          snippet: daemonJsonText(mtu, engine),
        },
      ];
    default:
      return [];
  }
}

/** Inner Docker network(s) larger than the path they leave by. `engine`: the daemon's major version, when known. */
export function fixDockerMtu(ci: CiFact, mtu: number, engine?: number): Fix {
  const steps = [...ciDockerSteps(ci, mtu, engine), daemonJson(mtu, engine), systemdDropIn(mtu, engine), compose(mtu)];
  return {
    summary: `Set the Docker MTU to ${mtu}: dockerd --mtu=${mtu} for the default bridge, plus com.docker.network.driver.mtu=${mtu} for user-defined networks.`,
    steps,
  };
}

/** A user-defined network (compose, `docker network create`) left at the default. */
export function fixNetworkMtu(network: string, mtu: number, engine?: number): Fix {
  return {
    summary: `Re-create network ${network} with com.docker.network.driver.mtu=${mtu}${hasDefaultNetworkOpts(engine) ? ', or set default-network-opts in daemon.json' : ''}.`,
    steps: [
      { title: 'docker CLI', language: 'sh', snippet: `docker network create --opt com.docker.network.driver.mtu=${mtu} ${network}` },
      compose(mtu),
      ...(hasDefaultNetworkOpts(engine) ? [daemonJson(mtu, engine)] : []),
    ],
  };
}

/**
 * A black hole beyond this machine (the small hop is further up the path): the server's segments must
 * shrink. Advertising a smaller MSS on our route makes every server send segments that fit; MSS clamping
 * on the router that owns the small link fixes it for everyone behind it.
 */
export function fixPathBlackhole(iface: string | undefined, gateway: string | undefined, mtu: number, family: 4 | 6 = 4): Fix {
  const route = gateway ? `default via ${gateway} dev ${iface ?? 'IFACE'}` : `default dev ${iface ?? 'IFACE'}`;
  const mss = mssFor(mtu, family);
  return {
    summary: `Make servers send segments that fit a ${mtu}-byte path${family === 6 ? ' (IPv6)' : ''}: clamp the MSS on the hop with the small MTU, or advertise MSS ${mss} from this machine.`,
    steps: [
      {
        title: 'On the router or node that owns the small link (fixes every host behind it)',
        language: 'sh',
        snippet: 'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
      },
      {
        title: `On this machine: advertise a smaller MSS on the route (downloads then fit ${mtu})`,
        language: 'sh',
        snippet: `ip ${family === 6 ? '-6 ' : ''}route change ${route} advmss ${mss}`,
      },
      {
        title: 'Not a fix: net.ipv4.tcp_mtu_probing only shrinks what this machine sends; downloads still stall',
        language: 'sh',
        snippet: '# sysctl net.ipv4.tcp_mtu_probing=1   (does not help downloads)',
      },
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
        : `${net.name} is created by the Actions runner for a \`container:\` or services job and keeps 1500 whatever dockerd --mtu says; Docker ${engine} cannot change that default (default-network-opts needs 24.0): upgrade the runner's dockerd and set it, or clamp the MSS on the host.`,
      steps: [...ciDockerSteps({ ...ci, system: 'github-actions' }, mtu, engine), daemonJson(mtu, engine)].filter((s, i, all) => all.findIndex((o) => o.snippet === s.snippet) === i),
    };
  }
  if (net.origin === 'compose') {
    const project = net.composeProject ? ` (compose project ${net.composeProject})` : '';
    return {
      summary: `Give the compose network ${net.name}${project} driver_opts com.docker.network.driver.mtu: ${mtu}${hasDefaultNetworkOpts(engine) ? ', or set default-network-opts in daemon.json for every network' : ''}.`,
      steps: [compose(mtu), ...(hasDefaultNetworkOpts(engine) ? [daemonJson(mtu, engine)] : [])],
    };
  }
  return fixNetworkMtu(net.name, mtu, engine);
}
