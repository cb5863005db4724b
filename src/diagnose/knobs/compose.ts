/**
 * Docker networks created with the option: `docker network create --opt` and compose's `driver_opts` (the compose
 * specification's networks.driver_opts, passed as the network's options), so no dockerd version gates them.
 */
import type { FixStep } from '../../model/report.js';
import { MTU_OPTION } from '../../model/net.js';
import { yamlScalar } from './snippets.js';

/** A compose file's top-level `networks:` entry giving network `name` the MTU. */
export function composeNetworkYaml(name: string, mtu: number, driver?: string): string {
  return [
    'networks:',
    `  ${yamlScalar(name)}:`,
    ...(driver ? [`    driver: ${yamlScalar(driver)}`] : []),
    '    driver_opts:',
    `      ${MTU_OPTION}: ${mtu}`,
  ].join('\n');
}

export function composeStep(mtu: number): FixStep {
  return {
    title: 'docker compose: every network (user-defined networks ignore dockerd --mtu)',
    language: 'yaml',
    snippet: composeNetworkYaml('default', mtu, 'bridge'),
  };
}

export function networkCreateStep(network: string, mtu: number): FixStep {
  return {
    title: 'docker CLI',
    language: 'sh',
    snippet: `docker network create --opt ${MTU_OPTION}=${mtu} ${network}`,
  };
}
