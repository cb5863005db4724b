import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lintGitlab } from '../../../src/lint/gitlab.js';
import { at, expectLintShape, fixture } from './helpers.js';

describe('lintGitlab', () => {
  it('flags every docker:dind service without a fitting --mtu: top-level, default:, a hidden job, a job', async () => {
    const fs = lintGitlab(await fixture('gitlab/positive/.gitlab-ci.yml'), '.gitlab-ci.yml', 1450);
    expect(at(fs)).toEqual(['.gitlab-ci.yml:9', '.gitlab-ci.yml:14', '.gitlab-ci.yml:19', '.gitlab-ci.yml:31']);
    expectLintShape(fs, 1450, expect);
    expect(fs[0]!.summary).toBe(
      "docker:dind service of the top-level services in .gitlab-ci.yml:9 has no --mtu; the uplink MTU is 1450, dind's bridge defaults to 1500: downloads in containers it runs (docker build, docker run) can stall.",
    );
    expect(fs[1]!.summary).toContain('of the default section');
    expect(fs[2]!.summary).toContain("of job '.dind'");
    expect(fs[3]!.summary).toContain('has --mtu=1500, above the uplink MTU 1450');
  });

  it('prints the service as it should read, keeping alias and command, with the MTU arguments', async () => {
    const fs = lintGitlab(await fixture('gitlab/positive/.gitlab-ci.yml'), '.gitlab-ci.yml', 1450);
    expect(parse(fs[1]!.fix!.steps[0]!.snippet)).toEqual({
      services: [
        {
          name: 'docker:27-dind',
          alias: 'docker',
          command: ['--mtu=1450', '--default-network-opt=bridge=com.docker.network.driver.mtu=1450'],
        },
      ],
    });
    // The existing --tls=false stays.
    expect(parse(fs[2]!.fix!.steps[0]!.snippet).services[0].command).toEqual([
      '--tls=false',
      '--mtu=1450',
      '--default-network-opt=bridge=com.docker.network.driver.mtu=1450',
    ]);
    // dockerd 20.10 has no --default-network-opt (24.0+): offering it would stop the daemon from starting.
    expect(parse(fs[3]!.fix!.steps[0]!.snippet).services[0].command).toEqual(['--mtu=1450']);
  });

  it('passes --mtu given as one or two arguments, from a variable, and a docker:dind job image (a client)', async () => {
    expect(lintGitlab(await fixture('gitlab/negative/.gitlab-ci.yml'), '.gitlab-ci.yml', 1450)).toEqual([]);
  });

  it('says nothing when the uplink is 1500: nothing is larger than the path', async () => {
    expect(lintGitlab(await fixture('gitlab/positive/.gitlab-ci.yml'), '.gitlab-ci.yml', 1500)).toEqual([]);
  });

  it('an --mtu that fit 1450 is too large for 1400', async () => {
    const fs = lintGitlab(await fixture('gitlab/negative/.gitlab-ci.yml'), '.gitlab-ci.yml', 1400);
    expect(at(fs)).toEqual(['.gitlab-ci.yml:6']);
    expect(fs[0]!.summary).toContain('has --mtu=1450, above the uplink MTU 1400');
  });

  it('turns malformed YAML into an info finding with its line, never an exception', async () => {
    const fs = lintGitlab(await fixture('malformed/positive/.gitlab-ci.yml'), '.gitlab-ci.yml', 1450);
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ code: 'ci-config-mtu', severity: 'info', file: '.gitlab-ci.yml', line: 5 });
    expect(fs[0]!.summary).toMatch(
      /^\.gitlab-ci\.yml:5 is not valid YAML \(.+\); its MTU settings were not checked\.$/,
    );
    expect(lintGitlab(await fixture('malformed/negative/.gitlab-ci.yml'), '.gitlab-ci.yml', 1450)).toEqual([]);
  });

  it('reads a component file: the spec header document, then the jobs', () => {
    const text =
      'spec:\n  inputs:\n    stage:\n      default: test\n---\nbuild:\n  stage: $[[ inputs.stage ]]\n  services: [docker:dind]\n  script: [docker info]\n';
    expect(at(lintGitlab(text, 'templates/x.yml', 1450))).toEqual(['templates/x.yml:8']);
  });
});
