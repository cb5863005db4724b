/**
 * dockerd's own MTU knobs, checked against moby (github.com/moby/moby):
 * - `--mtu` / daemon.json `mtu`: the default bridge (docker0) only, in every dockerd (v24.0.0 cmd/dockerd/config.go:31;
 *   today daemon/command/config.go: 'Set the MTU for the default "bridge" network'). User-defined networks ignore it.
 * - `--default-network-opt=bridge=com.docker.network.driver.mtu=N` / daemon.json `default-network-opts`: the options of
 *   every network created without its own (compose, `docker network create`, the per-job networks CI runners create
 *   through the API), from Docker 24.0 (v24.0.0 cmd/dockerd/config.go:30, daemon/network.go:322; not in v23.0.6).
 *   An older dockerd refuses to start with either ("the following directives don't match any configuration option").
 * `engine` below is the daemon's major version when it is known; unknown is taken as current.
 */
import type { FixStep } from '../../model/report.js';
import { DEFAULT_NETWORK_OPTS_SINCE, hasDefaultNetworkOpts, MTU_OPTION } from '../../model/net.js';

/** "Docker 24.0": the release that brought default-network-opts, as the fixes name it. */
export const DEFAULT_NETWORK_OPTS_RELEASE = `${DEFAULT_NETWORK_OPTS_SINCE}.0`;

/** `--default-network-opt=bridge=com.docker.network.driver.mtu=N`: the flag form of daemon.json's default-network-opts. */
export const defaultNetworkOptArg = (mtu: number): string => `--default-network-opt=bridge=${MTU_OPTION}=${mtu}`;

/** The dockerd arguments that set the MTU: docker0's, and (Docker 24+) that of every network it creates. */
export function dockerdMtuArgs(mtu: number, engine?: number): string[] {
  return [`--mtu=${mtu}`, ...(hasDefaultNetworkOpts(engine) ? [defaultNetworkOptArg(mtu)] : [])];
}

/** /etc/docker/daemon.json: `mtu` for docker0, and (Docker 24+) `default-network-opts` for every other bridge network. */
export function daemonJsonText(mtu: number, engine?: number): string {
  const opts = hasDefaultNetworkOpts(engine)
    ? { 'default-network-opts': { bridge: { [MTU_OPTION]: String(mtu) } } }
    : {};
  return JSON.stringify({ mtu, ...opts }, null, 2);
}

/** The daemon.json step; `title` names whose dockerd it is (default: any host). */
export function daemonJsonStep(mtu: number, engine?: number, title?: string): FixStep {
  const caveat = hasDefaultNetworkOpts(engine)
    ? ''
    : ` (Docker ${engine} has no default-network-opts, added in ${DEFAULT_NETWORK_OPTS_RELEASE}: give user-defined networks the option themselves)`;
  return {
    title: title ?? `dockerd (any host): /etc/docker/daemon.json, then restart docker${caveat}`,
    language: 'json',
    snippet: daemonJsonText(mtu, engine),
  };
}

/**
 * The same flags on the command line of a dockerd run by systemd. The ExecStart after the empty one is the packaged
 * unit's (moby contrib/init/systemd/docker.service, unchanged from v24.0.0 to today) with the MTU arguments added.
 */
export function systemdDropInStep(mtu: number, engine?: number): FixStep {
  return {
    title:
      'dockerd under systemd: /etc/systemd/system/docker.service.d/mtu.conf (empty ExecStart= clears the packaged one)',
    language: 'ini',
    snippet: `[Service]\nExecStart=\nExecStart=/usr/bin/dockerd ${dockerdMtuArgs(mtu, engine).join(' ')} -H fd:// --containerd=/run/containerd/containerd.sock`,
  };
}
