/**
 * The fix a finding prints: the exact setting to change, for the CI system we run in,
 * with the measured MTU filled in. The knobs are the ones users actually turn
 * (dockerd --mtu / daemon.json, dind service command, Drone plugin mtu, ARC dockerMTU, compose driver_opts).
 */
import type { CiFact, Fix, FixStep } from '../types.js';

/** MSS = MTU - 20 (IPv4 header) - 20 (TCP header). */
export function mssFor(mtu: number): number {
  return mtu - 40;
}

function daemonJson(mtu: number): FixStep {
  return {
    title: 'dockerd (any host): /etc/docker/daemon.json, then restart docker',
    language: 'json',
    snippet: JSON.stringify({ mtu, 'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': String(mtu) } } }, null, 2),
  };
}

function systemdDropIn(mtu: number): FixStep {
  return {
    title: 'dockerd under systemd: /etc/systemd/system/docker.service.d/mtu.conf (empty ExecStart= clears the packaged one)',
    language: 'ini',
    snippet: `[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --mtu=${mtu} --default-network-opt=bridge=com.docker.network.driver.mtu=${mtu} -H fd:// --containerd=/run/containerd/containerd.sock`,
  };
}

function compose(mtu: number): FixStep {
  return {
    title: 'docker compose: every network (user-defined networks ignore dockerd --mtu)',
    language: 'yaml',
    snippet: `networks:\n  default:\n    driver: bridge\n    driver_opts:\n      com.docker.network.driver.mtu: ${mtu}`,
  };
}

function ciDockerSteps(ci: CiFact, mtu: number): FixStep[] {
  switch (ci.system) {
    case 'gitlab-ci':
      return [
        {
          title: '.gitlab-ci.yml: pass the MTU to the docker:dind service',
          language: 'yaml',
          snippet: `services:\n  - name: docker:dind\n    command: ["--mtu=${mtu}", "--default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}"]`,
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
                snippet: `args: ["dockerd", "--host=unix:///var/run/docker.sock", "--mtu=${mtu}", "--default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}"]`,
              },
            ]
          : []),
        {
          title: 'Self-hosted runner host: dockerd, including the networks Actions creates for `container:` and service jobs',
          language: 'json',
          snippet: JSON.stringify({ mtu, 'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': String(mtu) } } }, null, 2),
        },
      ];
    default:
      return [];
  }
}

/** Inner Docker network(s) larger than the path they leave by. */
export function fixDockerMtu(ci: CiFact, mtu: number): Fix {
  const steps = [...ciDockerSteps(ci, mtu), daemonJson(mtu), systemdDropIn(mtu), compose(mtu)];
  return {
    summary: `Set the Docker MTU to ${mtu}: dockerd --mtu=${mtu} for the default bridge, plus com.docker.network.driver.mtu=${mtu} for user-defined networks.`,
    steps,
  };
}

/** A user-defined network (compose, `docker network create`) left at the default. */
export function fixNetworkMtu(network: string, mtu: number): Fix {
  return {
    summary: `Re-create network ${network} with com.docker.network.driver.mtu=${mtu}, or set default-network-opts in daemon.json.`,
    steps: [
      { title: 'docker CLI', language: 'sh', snippet: `docker network create --opt com.docker.network.driver.mtu=${mtu} ${network}` },
      compose(mtu),
      daemonJson(mtu),
    ],
  };
}

/**
 * A black hole beyond this machine (the small hop is further up the path): the server's segments must
 * shrink. Advertising a smaller MSS on our route makes every server send segments that fit; MSS clamping
 * on the router that owns the small link fixes it for everyone behind it.
 */
export function fixPathBlackhole(iface: string | undefined, gateway: string | undefined, mtu: number): Fix {
  const route = gateway ? `default via ${gateway} dev ${iface ?? 'IFACE'}` : `default dev ${iface ?? 'IFACE'}`;
  return {
    summary: `Make servers send segments that fit a ${mtu}-byte path: clamp the MSS on the hop with the small MTU, or advertise MSS ${mssFor(mtu)} from this machine.`,
    steps: [
      {
        title: 'On the router or node that owns the small link (fixes every host behind it)',
        language: 'sh',
        snippet: 'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
      },
      {
        title: `On this machine: advertise a smaller MSS on the route (downloads then fit ${mtu})`,
        language: 'sh',
        snippet: `ip route change ${route} advmss ${mssFor(mtu)}`,
      },
      {
        title: 'Not a fix: net.ipv4.tcp_mtu_probing only shrinks what this machine sends; downloads still stall',
        language: 'sh',
        snippet: '# sysctl net.ipv4.tcp_mtu_probing=1   (does not help downloads)',
      },
    ],
  };
}
