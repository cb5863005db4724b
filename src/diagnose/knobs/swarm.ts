/**
 * Swarm's networks, checked against moby: an overlay takes its MTU option only when it is created (the overlay
 * driver reads it as the underlay's MTU), and docker_gwbridge is created by libnetwork with the bridge name, icc off
 * and masquerading on and no MTU (daemon/libnetwork/default_gateway_linux.go createGWNetwork), only when missing: so
 * a pre-created one with the option is used instead. No version gates either.
 */
import type { Fix } from '../../model/report.js';
import { GWBRIDGE, MTU_OPTION } from '../../model/net.js';

/**
 * A swarm overlay too large for its underlay. Docker's overlay driver reads com.docker.network.driver.mtu as the
 * underlay's MTU and subtracts VXLAN's 50 bytes itself (measured: option 1450 gives containers 1400), so the option
 * to give is the underlay's MTU. An overlay cannot be changed in place: it is re-created (its services detached).
 * The routing mesh (ingress) is re-created the same way with --ingress: `docker swarm init` has no MTU option.
 */
export function fixOverlayMtu(
  net: { name: string; ingress?: boolean; attachable?: boolean; encrypted?: boolean },
  underlayMtu: number,
  containerMtu: number,
): Fix {
  const opts = `${net.attachable ? ' --attachable' : ''}${net.encrypted ? ' --opt encrypted' : ''} --opt ${MTU_OPTION}=${underlayMtu}`;
  const why = `the overlay driver takes the option as the underlay's MTU and subtracts VXLAN's 50 bytes itself: containers get ${containerMtu}`;
  if (net.ingress) {
    return {
      summary: `Re-create the routing mesh ${net.name} with ${MTU_OPTION}=${underlayMtu} (${why}). docker swarm init has no MTU option: do it right after init, before services publish ports.`,
      steps: [
        {
          title: 'On a manager, with no service publishing ports (answer y; the removal takes a moment)',
          language: 'sh',
          snippet: [
            `docker network rm ${net.name}`,
            `while docker network inspect ${net.name} >/dev/null 2>&1; do sleep 0.2; done`,
            `docker network create --driver overlay --ingress --opt ${MTU_OPTION}=${underlayMtu} ${net.name}`,
          ].join('\n'),
        },
      ],
    };
  }
  return {
    summary: `Re-create overlay ${net.name} with ${MTU_OPTION}=${underlayMtu}: ${why}.`,
    steps: [
      {
        title: 'docker CLI, on a manager (remove or detach the services on it first)',
        language: 'sh',
        snippet: `docker network rm ${net.name}\ndocker network create -d overlay${opts} ${net.name}`,
      },
      {
        title: 'docker stack / compose file',
        language: 'yaml',
        snippet: `networks:\n  ${net.name}:\n    driver: overlay\n${net.attachable ? '    attachable: true\n' : ''}    driver_opts:\n      ${MTU_OPTION}: ${underlayMtu}${net.encrypted ? '\n      encrypted: ""' : ''}`,
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
    summary: `Re-create ${GWBRIDGE} with ${MTU_OPTION}=${mtu} before the node joins the swarm (Docker only creates it when missing, at 1500; dockerd --mtu does not apply to it).`,
    steps: [
      {
        title: `On each node: leave the swarm (a manager needs --force, or demote it first), replace ${GWBRIDGE}, join again`,
        language: 'sh',
        snippet: [
          'docker swarm leave',
          `docker network rm ${GWBRIDGE}`,
          'docker network create \\',
          `  --opt com.docker.network.bridge.name=${GWBRIDGE} \\`,
          '  --opt com.docker.network.bridge.enable_icc=false \\',
          '  --opt com.docker.network.bridge.enable_ip_masquerade=true \\',
          `  --opt ${MTU_OPTION}=${mtu} \\`,
          `  ${GWBRIDGE}`,
          'docker swarm join --token <token> <manager>:2377   # or docker swarm init',
        ].join('\n'),
      },
    ],
  };
}
