/**
 * Podman's own MTU knobs, never dockerd's (daemon.json and --mtu do not exist for Podman). Each checked against
 * Podman's source and docs (github.com/containers/podman, v4.3.1 and main) and containers-common's containers.conf:
 * - `podman network create --opt mtu=N`: the bridge's MTU is the option `mtu` (common libnetwork/types/const.go
 *   MTUOption = "mtu"; docs/source/markdown/podman-network-create.1.md.in `--opt mtu`). The Docker-compatible API maps
 *   com.docker.network.driver.mtu onto it on create (pkg/api/handlers/compat/networks.go, v4.3.1 and main).
 * - The default network `podman` takes no MTU (podman#27917: no option in containers.conf): containers.conf
 *   `[network] default_network = "NAME"` makes a network created with the option the default (containers.conf
 *   `#default_network = "podman"`; podman-network.1.md "the name of the default network can also be changed").
 * - Quadlet: a `NAME.network` unit, section `[Network]`, `NetworkName=` and `Options=` ("equivalent to the Podman
 *   --opt option"), used by containers as `Network=NAME.network` (docs/source/markdown/podman-systemd.unit.5.md).
 * - Compose: `driver_opts: com.docker.network.driver.mtu: N`. podman-compose passes driver_opts as --opt
 *   (podman-compose#488); `mtu:` there was reported ignored while this key works (podman-compose#790); Podman's CLI
 *   maps the key since 4.5.0 (containers/common MapDockerBridgeDriverOptions, vendored in v4.5.0), the compat API
 *   (docker-compose against Podman's socket) in every Podman 4.
 * - Rootless: slirp4netns `mtu=N` in containers.conf `[engine] network_cmd_options` (default 65520), pasta
 *   `pasta_options = ["--mtu", "N"]` in `[network]` (docs/source/markdown/options/network.md `pasta:--mtu,1500`).
 */
import type { Fix, FixStep } from '../../model/report.js';
import { MTU_OPTION, PODMAN_MTU_OPTION } from '../../model/net.js';

export interface PodmanNetworkRef {
  /** The network's name as Podman's compat API lists it ('bridge' for the default network). */
  name: string;
  isDefault: boolean;
  origin?: string;
  composeProject?: string;
}

/** The name a fix gives the network it creates in place of the default one. */
export const podmanNetworkName = (mtu: number): string => `mtu${mtu}`;

export function podmanNetworkCreateStep(name: string, mtu: number): FixStep {
  return {
    title: `podman network create (then run containers with --network ${name})`,
    language: 'sh',
    snippet: `podman network create --opt ${PODMAN_MTU_OPTION}=${mtu} ${name}`,
  };
}

/** containers.conf: make the network created with the MTU the one containers get without --network. */
export function containersConfDefaultStep(name: string): FixStep {
  return {
    title:
      "containers.conf (/etc/containers/containers.conf as root, ~/.config/containers/containers.conf rootless): the default network, once no container runs (the `podman` network's own MTU cannot be set, podman#27917)",
    language: 'toml',
    snippet: `[network]\ndefault_network = "${name}"`,
  };
}

export function quadletNetworkStep(name: string, mtu: number): FixStep {
  return {
    title: `Quadlet: /etc/containers/systemd/${name}.network (rootless: ~/.config/containers/systemd/), containers use Network=${name}.network`,
    language: 'ini',
    snippet: `[Network]\nNetworkName=${name}\nOptions=${PODMAN_MTU_OPTION}=${mtu}`,
  };
}

export function podmanComposeStep(mtu: number): FixStep {
  return {
    title: `compose on Podman (podman-compose, or docker-compose on Podman's socket): this key, not \`mtu:\` (podman-compose#790); podman-compose needs Podman 4.5+ for it`,
    language: 'yaml',
    snippet: `networks:\n  default:\n    driver_opts:\n      ${MTU_OPTION}: ${mtu}`,
  };
}

/** Rootless Podman's user-space stacks: the tap they give a container's namespace. */
export function rootlessPodmanSteps(mtu: number): FixStep[] {
  return [
    {
      title:
        'rootless Podman with pasta (the default of current containers.conf default_rootless_network_cmd): ~/.config/containers/containers.conf',
      language: 'toml',
      snippet: `[network]\npasta_options = ["--mtu", "${mtu}"]`,
    },
    {
      title: 'rootless Podman with slirp4netns: ~/.config/containers/containers.conf (default mtu 65520)',
      language: 'toml',
      snippet: `[engine]\nnetwork_cmd_options = ["${PODMAN_MTU_OPTION}=${mtu}"]`,
    },
  ];
}

/** A Podman network above the path: re-create it (or, for the default one, replace it) with the MTU option. */
export function fixPodmanNetworkMtu(net: PodmanNetworkRef, mtu: number, rootless = false): Fix {
  const extra = rootless ? rootlessPodmanSteps(mtu) : [];
  if (net.isDefault) {
    const name = podmanNetworkName(mtu);
    return {
      summary: `Podman's default network keeps MTU 1500 (it takes no MTU setting): create a network with --opt ${PODMAN_MTU_OPTION}=${mtu} and make it the default in containers.conf, or run containers on it.`,
      steps: [
        podmanNetworkCreateStep(name, mtu),
        containersConfDefaultStep(name),
        quadletNetworkStep(name, mtu),
        podmanComposeStep(mtu),
        ...extra,
      ],
    };
  }
  if (net.origin === 'compose') {
    const project = net.composeProject ? ` (compose project ${net.composeProject})` : '';
    return {
      summary: `Give the compose network ${net.name}${project} driver_opts ${MTU_OPTION}: ${mtu} (Podman stores it as ${PODMAN_MTU_OPTION}=${mtu}).`,
      steps: [podmanComposeStep(mtu), podmanNetworkCreateStep(net.name, mtu), ...extra],
    };
  }
  return {
    summary: `Re-create Podman network ${net.name} with --opt ${PODMAN_MTU_OPTION}=${mtu} (podman network rm ${net.name} first: podman network update does not change an MTU, podman#20009).`,
    steps: [
      podmanNetworkCreateStep(net.name, mtu),
      quadletNetworkStep(net.name, mtu),
      podmanComposeStep(mtu),
      ...extra,
    ],
  };
}
