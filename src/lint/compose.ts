/**
 * docker-compose*.yml / compose*.yml: every network compose creates is a user-defined bridge, 1500 unless its
 * driver_opts set com.docker.network.driver.mtu (dockerd --mtu covers docker0 only: moby#28314, moby#34981).
 * That includes the implicit `default` network, which compose creates for every service that names no network.
 */
import type { Document, YAMLMap } from 'yaml';
import type { Finding, Fix } from '../model/report.js';
import { MTU_OPTION } from '../model/net.js';
import { composeNetworkYaml } from '../diagnose/knobs/compose.js';
import { daemonJsonText } from '../diagnose/knobs/dockerd.js';
import {
  DOCKER_DEFAULT_MTU,
  asMap,
  asSeq,
  asString,
  entries,
  lintDocuments,
  lintFindingAt,
  mtuValue,
  pairOf,
  parseYaml,
  settingFits,
  valueOf,
  type YamlFile,
} from './yaml.js';

export interface ComposeLintOptions {
  /**
   * Another compose file of the project declares `networks: default:` (compose merges the files it is given):
   * services here that name no network are judged there, not reported as on an implicit default network.
   */
  defaultNetworkElsewhere?: boolean;
}

export function lintCompose(text: string, file: string, mtu: number, options: ComposeLintOptions = {}): Finding[] {
  // An override file (docker-compose.override.yml, compose.override.yaml) is merged over the base file, which
  // holds the project's networks: its services' default network is the base file's.
  const implicitDefault = !options.defaultNetworkElsewhere && !/\.override\.ya?ml$/.test(file);
  return lintDocuments(text, file, mtu, (yaml, doc) => {
    const root = asMap(doc, doc.contents);
    return root ? lintProject(yaml, doc, root, mtu, implicitDefault) : [];
  });
}

/** Whether a compose file declares the `default` network (for ComposeLintOptions across the project's files). */
export function declaresDefaultNetwork(text: string): boolean {
  const parsed = parseYaml(text, 'compose');
  if (!parsed.ok) return false;
  return parsed.yaml.docs.some(
    (doc) => pairOf(asMap(doc, valueOf(doc, asMap(doc, doc.contents), 'networks')), 'default') !== undefined,
  );
}

function lintProject(
  yaml: YamlFile,
  doc: Document.Parsed,
  root: YAMLMap,
  mtu: number,
  implicitDefault: boolean,
): Finding[] {
  const out: Finding[] = [];
  const networksPair = pairOf(root, 'networks');
  const networks = asMap(doc, networksPair?.value);
  const declared = new Set<string>();
  for (const { name, pair } of entries(networks)) {
    if (name.startsWith('x-')) continue;
    declared.add(name);
    const net = asMap(doc, pair.value);
    // An external network is created elsewhere (its MTU is whoever made it); host, none, macvlan... are no bridge.
    if (isTrue(asString(doc, valueOf(doc, net, 'external'))) || asMap(doc, valueOf(doc, net, 'external'))) continue;
    const driver = asString(doc, valueOf(doc, net, 'driver')) ?? 'bridge';
    if (driver !== 'bridge') continue;
    const opts = asMap(doc, valueOf(doc, net, 'driver_opts'));
    const set = mtuValue(doc, valueOf(doc, opts, MTU_OPTION));
    if (settingFits(set, mtu)) continue;
    out.push(
      lintFindingAt(yaml, pair.key, mtu, (where) => ({
        summary:
          set === undefined
            ? `compose network '${name}' in ${where} has no driver_opts ${MTU_OPTION}; the uplink MTU is ${mtu}, compose networks default to ${DOCKER_DEFAULT_MTU} (dockerd --mtu does not apply to them): downloads in its containers can stall.`
            : `compose network '${name}' in ${where} has ${MTU_OPTION} ${set}, above the uplink MTU ${mtu}: downloads in its containers can stall.`,
        evidence: [
          `${where}: networks: ${name}: ${set === undefined ? 'no driver_opts mtu' : `${MTU_OPTION}: ${set}`}`,
        ],
        fix: networkFix(yaml.file, name, asString(doc, valueOf(doc, net, 'driver')), mtu),
      })),
    );
  }
  if (declared.has('default') || !implicitDefault) return out;

  // Services that name no network (and take no other network mode) are put on the implicit `default` network.
  const servicesPair = pairOf(root, 'services');
  const onDefault = entries(asMap(doc, servicesPair?.value))
    .filter(({ name, pair }) => !name.startsWith('x-') && usesDefaultNetwork(doc, asMap(doc, pair.value)))
    .map((e) => e.name);
  if (!servicesPair || onDefault.length === 0) return out;
  out.push(
    lintFindingAt(yaml, servicesPair.key, mtu, (where) => ({
      summary: `compose services in ${where} (${onDefault.join(', ')}) use the default network compose creates, at MTU ${DOCKER_DEFAULT_MTU}: no networks: default: with driver_opts ${MTU_OPTION}; the uplink MTU is ${mtu}: downloads in these containers can stall.`,
      evidence: [
        `${where}: ${onDefault.length} service(s) on the implicit default network; ${networksPair ? `networks: declares ${[...declared].join(', ') || 'nothing'}` : 'no top-level networks:'}`,
      ],
      fix: networkFix(yaml.file, 'default', undefined, mtu),
    })),
  );
  return out;
}

function usesDefaultNetwork(doc: Document.Parsed, service: YAMLMap | undefined): boolean {
  // network_mode: host | none | service:x | container:x bypasses compose networks; `bridge` is docker0 (dockerd --mtu).
  if (pairOf(service, 'network_mode')) return false;
  const nets = valueOf(doc, service, 'networks');
  if (nets === undefined || nets === null) return true;
  const names = asSeq(doc, nets)?.items.map((i) => asString(doc, i)) ?? entries(asMap(doc, nets)).map((e) => e.name);
  return names.length === 0 || names.includes('default');
}

function isTrue(s: string | undefined): boolean {
  return s === 'true' || s === 'yes';
}

function networkFix(file: string, name: string, driver: string | undefined, mtu: number): Fix {
  return {
    summary: `Set driver_opts ${MTU_OPTION}: ${mtu} on the compose network '${name}' (or default-network-opts in the daemon's daemon.json for every network).`,
    steps: [
      { title: `${file}: in the top-level networks`, language: 'yaml', snippet: composeNetworkYaml(name, mtu, driver) },
      {
        title: 'Or, on the Docker host, for every network it creates: /etc/docker/daemon.json, then restart docker',
        language: 'json',
        snippet: daemonJsonText(mtu),
      },
    ],
  };
}
