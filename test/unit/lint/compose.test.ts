import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { declaresDefaultNetwork, lintCompose } from '../../../src/lint/compose.js';
import { at, expectLintShape, fixture } from './helpers.js';

describe('lintCompose', () => {
  it('flags declared networks without (or above) the MTU option and the implicit default network; not external or host-mode', async () => {
    const fs = lintCompose(await fixture('compose/positive/docker-compose.yml'), 'docker-compose.yml', 1450);
    expect(at(fs)).toEqual(['docker-compose.yml:12', 'docker-compose.yml:14', 'docker-compose.yml:1']);
    expectLintShape(fs, 1450, expect);
    expect(fs[0]!.summary).toBe(
      "compose network 'backend' in docker-compose.yml:12 has no driver_opts com.docker.network.driver.mtu; the uplink MTU is 1450, compose networks default to 1500 (dockerd --mtu does not apply to them): downloads in its containers can stall.",
    );
    expect(fs[1]!.summary).toContain('has com.docker.network.driver.mtu 1500, above the uplink MTU 1450');
    // app is on backend, cache on the host network: only worker is on the implicit default.
    expect(fs[2]!.summary).toContain('(worker) use the default network compose creates');
  });

  it('a file with no networks: at all: its services are on the default network', async () => {
    const fs = lintCompose(await fixture('compose/positive/compose.yaml'), 'compose.yaml', 1450);
    expect(at(fs)).toEqual(['compose.yaml:1']);
    expect(parse(fs[0]!.fix!.steps[0]!.snippet)).toEqual({
      networks: { default: { driver_opts: { 'com.docker.network.driver.mtu': 1450 } } },
    });
  });

  it('passes networks with the option (a number or a variable) and a declared default', async () => {
    expect(lintCompose(await fixture('compose/negative/docker-compose.yml'), 'docker-compose.yml', 1450)).toEqual([]);
  });

  it('an override file leaves the default network to its base file', async () => {
    const text = await fixture('compose/negative/compose.override.yml');
    expect(lintCompose(text, 'compose.override.yml', 1450)).toEqual([]);
    expect(at(lintCompose(text, 'compose.ci.yml', 1450))).toEqual(['compose.ci.yml:1']);
    expect(lintCompose(text, 'compose.ci.yml', 1450, { defaultNetworkElsewhere: true })).toEqual([]);
    expect(declaresDefaultNetwork(await fixture('compose/negative/docker-compose.yml'))).toBe(true);
    expect(declaresDefaultNetwork(text)).toBe(false);
  });
});
