/**
 * buildx builders' knobs, in the form the builder was made; checked against:
 * - docker/buildx docs/reference/buildx_create.md (commit 461836ba): `--driver-opt` (the docker-container driver's
 *   `network=` option: driver/docker-container/factory.go sets the container's HostConfig.NetworkMode from it),
 *   `--buildkitd-flags`, `--buildkitd-config`, and "BuildKit daemon network mode": `worker.oci.networkMode` in the
 *   config or `--oci-worker-net` (auto, bridge, cni, host).
 * - moby/buildkit cmd/buildkitd/config/config.go (`[worker.oci] networkMode`) and util/network/cniprovider/bridge.go:
 *   the bridge mode's CNI config names the bridge (buildkit0, appdefaults.BridgeName) and a subnet but no "mtu", so
 *   its RUN steps get the CNI bridge plugin's default 1500 whatever dockerd or the builder's network says.
 * - docker/setup-buildx-action action.yml: inputs `driver`, `driver-opts` (one per line), `buildkitd-flags`,
 *   `buildkitd-config-inline`.
 * A builder's container (buildx_buildkit_<name>0) is made once: changing its network means re-creating the builder
 * (`docker buildx rm` then `create`), which the create lines below say.
 */
import type { CiFact, Fix, FixStep } from '../../model/report.js';
import { MTU_OPTION } from '../../model/net.js';

/** The network name the fix creates for a builder, when it does not use the host's. */
export const BUILDER_NETWORK = 'buildx-mtu';

function createLine(builder: string, opts: string): string {
  return `docker buildx rm ${builder} || true\ndocker buildx create --name ${builder} --driver docker-container ${opts} --use --bootstrap`;
}

function ciSteps(ci: CiFact, builder: string, driverOpt: string, flags?: string): FixStep[] {
  const gh: FixStep = {
    title: 'GitHub Actions: the docker/setup-buildx-action step',
    language: 'yaml',
    snippet: [
      '- uses: docker/setup-buildx-action@v3',
      '  with:',
      '    driver: docker-container',
      ...(driverOpt ? ['    driver-opts: |', `      ${driverOpt}`] : []),
      ...(flags ? [`    buildkitd-flags: ${flags}`] : []),
    ].join('\n'),
  };
  const gitlab: FixStep = {
    title: ".gitlab-ci.yml: the job's script creates the builder",
    language: 'yaml',
    snippet: [
      'script:',
      ...(driverOpt.startsWith('network=') && driverOpt !== 'network=host'
        ? [`  - docker network create --opt ${MTU_OPTION}=$MTU ${driverOpt.slice('network='.length)} || true`]
        : []),
      `  - docker buildx create --name ${builder} --driver docker-container${driverOpt ? ` --driver-opt ${driverOpt}` : ''}${flags ? ` --buildkitd-flags '${flags}'` : ''} --use --bootstrap`,
    ].join('\n'),
  };
  if (ci.system === 'github-actions') return [gh];
  if (ci.system === 'gitlab-ci') return [gitlab];
  return [];
}

/**
 * A docker-container builder on a network whose MTU is above the path: its RUN steps (buildkitd's host mode, the
 * default) leave by the builder's own eth0. Either share the daemon's namespace (`network=host`), or put the builder
 * on a network created with the MTU.
 */
export function fixBuilderNetwork(ci: CiFact, builder: string, mtu: number): Fix {
  const hostOpt = 'network=host';
  const netOpt = `network=${BUILDER_NETWORK}`;
  const steps: FixStep[] = [
    ...ciSteps(ci, builder, hostOpt).map((s) => ({ ...s, snippet: s.snippet.replace(/\$MTU/g, String(mtu)) })),
    {
      title: "Re-create the builder in the daemon's network namespace (RUN steps leave as the daemon does)",
      language: 'sh',
      snippet: createLine(builder, `--driver-opt ${hostOpt}`),
    },
    {
      title: `Or keep it on its own network, created with MTU ${mtu}`,
      language: 'sh',
      snippet: `docker network create --opt ${MTU_OPTION}=${mtu} ${BUILDER_NETWORK}\n${createLine(builder, `--driver-opt ${netOpt}`)}`,
    },
  ];
  return {
    summary: `Re-create buildx builder ${builder} with --driver-opt network=host, or on a network created with ${MTU_OPTION}=${mtu}.`,
    steps,
  };
}

/**
 * buildkitd's bridge network mode: RUN steps sit on its CNI bridge (buildkit0) at 1500, which no dockerd or network
 * option reaches. Run them in the builder's namespace instead (networkMode host), which was measured to fit.
 */
export function fixBuildkitBridge(ci: CiFact, builder: string, bridge: string, mtu: number): Fix {
  const flags = '--oci-worker-net=host';
  return {
    summary: `RUN steps of builder ${builder} go through buildkitd's bridge ${bridge} (CNI, no MTU setting): run them in the builder's own namespace (buildkitd --oci-worker-net=host), whose path fits MTU ${mtu}.`,
    steps: [
      ...ciSteps(ci, builder, '', flags),
      {
        title: 'buildkitd.toml (docker buildx create --buildkitd-config buildkitd.toml, or buildkitd-config-inline)',
        language: 'toml',
        snippet: '[worker.oci]\n  networkMode = "host"',
      },
      {
        title: 'Or re-create the builder with the flag',
        language: 'sh',
        snippet: createLine(builder, `--buildkitd-flags '${flags}'`),
      },
    ],
  };
}
