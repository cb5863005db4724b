/**
 * The fix a finding prints: the exact setting to change, for the CI system we run in,
 * with the measured MTU filled in. The knobs are the ones users actually turn
 * (dockerd --mtu / daemon.json, dind service command, Drone plugin mtu, ARC dockerMTU, compose driver_opts).
 */
import type { CiFact, Fix, FixStep } from '../../model/report.js';

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
          title: hasDefaultNetworkOpts(engine)
            ? 'Self-hosted runner host: dockerd, including the networks Actions creates for `container:` and service jobs'
            : `Self-hosted runner host: dockerd (Docker ${engine} cannot give the networks Actions creates for \`container:\` and service jobs an MTU: that needs default-network-opts, Docker 24.0+)`,
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
  const ciSteps = ciDockerSteps(ci, mtu, engine);
  // The CI system's own daemon.json step (a self-hosted GitHub runner) makes the generic one say the same thing twice.
  const generic = [daemonJson(mtu, engine), systemdDropIn(mtu, engine), compose(mtu)].filter((g) => !ciSteps.some((c) => c.snippet === g.snippet));
  const steps = [...ciSteps, ...generic];
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

/**
 * A swarm overlay too large for its underlay. Docker's overlay driver reads com.docker.network.driver.mtu as the
 * underlay's MTU and subtracts VXLAN's 50 bytes itself (measured: option 1450 gives containers 1400), so the option
 * to give is the underlay's MTU. An overlay cannot be changed in place: it is re-created (its services detached).
 * The routing mesh (ingress) is re-created the same way with --ingress: `docker swarm init` has no MTU option.
 */
export function fixOverlayMtu(net: { name: string; ingress?: boolean; attachable?: boolean; encrypted?: boolean }, underlayMtu: number, containerMtu: number): Fix {
  const opts = `${net.attachable ? ' --attachable' : ''}${net.encrypted ? ' --opt encrypted' : ''} --opt com.docker.network.driver.mtu=${underlayMtu}`;
  const why = `the overlay driver takes the option as the underlay's MTU and subtracts VXLAN's 50 bytes itself: containers get ${containerMtu}`;
  if (net.ingress) {
    return {
      summary: `Re-create the routing mesh ${net.name} with com.docker.network.driver.mtu=${underlayMtu} (${why}). docker swarm init has no MTU option: do it right after init, before services publish ports.`,
      steps: [
        {
          title: 'On a manager, with no service publishing ports (answer y; the removal takes a moment)',
          language: 'sh',
          snippet: [
            `docker network rm ${net.name}`,
            `while docker network inspect ${net.name} >/dev/null 2>&1; do sleep 0.2; done`,
            `docker network create --driver overlay --ingress --opt com.docker.network.driver.mtu=${underlayMtu} ${net.name}`,
          ].join('\n'),
        },
      ],
    };
  }
  return {
    summary: `Re-create overlay ${net.name} with com.docker.network.driver.mtu=${underlayMtu}: ${why}.`,
    steps: [
      {
        title: 'docker CLI, on a manager (remove or detach the services on it first)',
        language: 'sh',
        snippet: `docker network rm ${net.name}\ndocker network create -d overlay${opts} ${net.name}`,
      },
      {
        title: 'docker stack / compose file',
        language: 'yaml',
        snippet: `networks:\n  ${net.name}:\n    driver: overlay\n${net.attachable ? '    attachable: true\n' : ''}    driver_opts:\n      com.docker.network.driver.mtu: ${underlayMtu}${net.encrypted ? '\n      encrypted: ""' : ''}`,
      },
    ],
  };
}

/**
 * docker_gwbridge, the way out of every overlay container on a node, keeps the bridge driver's 1500 (dockerd --mtu
 * does not reach it). It takes an MTU only when it is created, so it is created by hand before the node joins the
 * swarm (measured: pre-created with the option, overlay containers got eth1 1450).
 */
export function fixGwbridgeMtu(mtu: number): Fix {
  return {
    summary: `Re-create docker_gwbridge with com.docker.network.driver.mtu=${mtu} before the node joins the swarm (Docker only creates it when missing, at 1500; dockerd --mtu does not apply to it).`,
    steps: [
      {
        title: 'On each node: leave the swarm (a manager needs --force, or demote it first), replace docker_gwbridge, join again',
        language: 'sh',
        snippet: [
          'docker swarm leave',
          'docker network rm docker_gwbridge',
          'docker network create \\',
          '  --opt com.docker.network.bridge.name=docker_gwbridge \\',
          '  --opt com.docker.network.bridge.enable_icc=false \\',
          '  --opt com.docker.network.bridge.enable_ip_masquerade=true \\',
          `  --opt com.docker.network.driver.mtu=${mtu} \\`,
          '  docker_gwbridge',
          'docker swarm join --token <token> <manager>:2377   # or docker swarm init',
        ].join('\n'),
      },
    ],
  };
}

/**
 * macvlan/ipvlan containers get their parent interface's MTU: Docker ignores com.docker.network.driver.mtu for these
 * drivers (moby/libnetwork#2274) and the kernel refuses a macvlan/ipvlan link above its parent's MTU. The knob is
 * the parent (or the VLAN sub-interface Docker made for `-o parent=eth0.10`).
 */
export function fixParentMtu(driver: string, network: string, parent: string, mtu: number): Fix {
  return {
    summary: `Set the MTU of ${parent}, the parent of ${driver} network ${network}, to ${mtu}: its containers take the parent's MTU (Docker ignores com.docker.network.driver.mtu for ${driver}).`,
    steps: [
      { title: `Now (containers started afterwards get it; running ones keep theirs until restarted)`, language: 'sh', snippet: `ip link set dev ${parent} mtu ${mtu}` },
      {
        title: `Persistently: the parent's own configuration (netplan shown; ifupdown: \`mtu ${mtu}\` under \`iface ${parent}\`)`,
        language: 'yaml',
        snippet: `network:\n  ethernets:   # or vlans: / bridges:, wherever ${parent} is defined\n    ${parent}:\n      mtu: ${mtu}`,
      },
    ],
  };
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
      { title: `Now (the bridge; restart the containers on it, or restart dockerd with --mtu=${mtu})`, language: 'sh', snippet: `ip link set dev ${bridge} mtu ${mtu}` },
      {
        title: `Persistently: ifupdown (/etc/network/interfaces), or netplan \`bridges: ${bridge}: mtu: ${mtu}\``,
        language: 'ini',
        snippet: `auto ${bridge}\niface ${bridge} inet static\n    mtu ${mtu}\n    # bridge_ports, address ... as before`,
      },
      ...docker.steps.filter((s) => s.language !== 'yaml' || !/networks:/.test(s.snippet)),
    ],
  };
}
