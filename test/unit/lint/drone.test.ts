import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isDockerPlugin, lintDrone } from '../../../src/lint/drone.js';
import { at, expectLintShape, fixture } from './helpers.js';

describe('lintDrone (Drone)', () => {
  it('flags the docker plugin without settings.mtu, one with mtu 1500, and a dind service; not a dind client step', async () => {
    const fs = lintDrone(await fixture('drone/positive/.drone.yml'), '.drone.yml', 1450);
    expect(at(fs)).toEqual(['.drone.yml:8', '.drone.yml:22', '.drone.yml:29']);
    expectLintShape(fs, 1450, expect);
    expect(fs[0]!.summary).toBe(
      "plugins/docker step 'publish' in .drone.yml:8 has no settings.mtu; the uplink MTU is 1450, the plugin's own dockerd defaults to 1500: RUN steps of the build (npm install, apt-get, pip) can stall.",
    );
    expect(fs[1]!.summary).toContain('has settings.mtu 1500, above the uplink MTU 1450');
    expect(fs[2]!.summary).toContain("docker:dind service 'docker' in .drone.yml:29 has no --mtu");
  });

  it('prints the step with settings.mtu, and the service with command: --mtu', async () => {
    const fs = lintDrone(await fixture('drone/positive/.drone.yml'), '.drone.yml', 1450);
    expect(parse(fs[0]!.fix!.steps[0]!.snippet)).toEqual([
      { name: 'publish', image: 'plugins/docker', settings: { mtu: 1450 } },
    ]);
    expect(parse(fs[2]!.fix!.steps[0]!.snippet)).toEqual([
      {
        name: 'docker',
        image: 'docker:dind',
        privileged: true,
        command: ['--mtu=1450', '--default-network-opt=bridge=com.docker.network.driver.mtu=1450'],
      },
    ]);
  });

  it('passes settings.mtu 1450, a dind service with --mtu, and skips exec pipelines and non-pipeline documents', async () => {
    expect(lintDrone(await fixture('drone/negative/.drone.yml'), '.drone.yml', 1450)).toEqual([]);
  });

  it('turns malformed YAML into an info finding', async () => {
    const fs = lintDrone(await fixture('malformed/positive/.drone.yml'), '.drone.yml', 1450);
    expect(fs.map((f) => [f.severity, f.line])).toEqual([['info', 5]]);
  });

  it('knows the plugins that run their own dockerd and take mtu', () => {
    for (const img of [
      'plugins/docker',
      'plugins/docker:20',
      'docker.io/plugins/ecr',
      'plugins/gcr@sha256:abc',
      'thegeeklab/drone-docker-buildx:24',
      'woodpeckerci/plugin-docker-buildx',
    ]) {
      expect(isDockerPlugin(img), img).toBe(true);
    }
    for (const img of ['plugins/slack', 'plugins/kaniko', 'docker:dind', 'example/plugins/docker-thing'])
      expect(isDockerPlugin(img), img).toBe(false);
  });
});

describe('lintDrone (Woodpecker)', () => {
  it('flags a buildx plugin step and a dind service written as mappings, and a detached dind step with --mtu=1500', async () => {
    const a = lintDrone(await fixture('woodpecker/positive/.woodpecker.yml'), '.woodpecker.yml', 1450);
    const b = lintDrone(
      await fixture('woodpecker/positive/.woodpecker/release.yaml'),
      '.woodpecker/release.yaml',
      1450,
    );
    expect(at([...a, ...b])).toEqual(['.woodpecker.yml:3', '.woodpecker.yml:10', '.woodpecker/release.yaml:6']);
    expectLintShape([...a, ...b], 1450, expect);
    expect(b[0]!.summary).toContain('has --mtu=1500, above the uplink MTU 1450');
  });

  it('prints Woodpecker syntax: mapping-style steps stay mappings, dind gets an entrypoint list (services take no command)', async () => {
    const [plugin, service] = lintDrone(await fixture('woodpecker/positive/.woodpecker.yml'), '.woodpecker.yml', 1450);
    expect(parse(plugin!.fix!.steps[0]!.snippet)).toEqual({
      build: { image: 'woodpeckerci/plugin-docker-buildx', settings: { mtu: 1450 } },
    });
    expect(parse(service!.fix!.steps[0]!.snippet)).toEqual({
      docker: {
        image: 'docker:27-dind',
        privileged: true,
        entrypoint: [
          'dockerd-entrypoint.sh',
          '--mtu=1450',
          '--default-network-opt=bridge=com.docker.network.driver.mtu=1450',
        ],
      },
    });
  });

  it('passes the same pipeline with the MTU set', async () => {
    expect(lintDrone(await fixture('woodpecker/negative/.woodpecker.yml'), '.woodpecker.yml', 1450)).toEqual([]);
    expect(
      lintDrone(await fixture('woodpecker/negative/.woodpecker/lint.yaml'), '.woodpecker/lint.yaml', 1450),
    ).toEqual([]);
  });
});
