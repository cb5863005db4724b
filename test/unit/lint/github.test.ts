import { describe, expect, it } from 'vitest';
import { lintGithubWorkflow } from '../../../src/lint/github.js';
import { at, expectLintShape, fixture } from './helpers.js';

describe('lintGithubWorkflow', () => {
  it('flags container: jobs (string and mapping), services of a job without container, and docker:// steps', async () => {
    const ci = lintGithubWorkflow(
      await fixture('github/positive/.github/workflows/ci.yml'),
      '.github/workflows/ci.yml',
      1450,
    );
    const rel = lintGithubWorkflow(
      await fixture('github/positive/.github/workflows/release.yaml'),
      '.github/workflows/release.yaml',
      1450,
    );
    expect(at([...ci, ...rel])).toEqual([
      '.github/workflows/ci.yml:6',
      '.github/workflows/ci.yml:16',
      '.github/workflows/ci.yml:29',
      '.github/workflows/release.yaml:7',
    ]);
    expectLintShape([...ci, ...rel], 1450, expect);
    expect(ci[0]!.summary).toBe(
      "job 'build' in .github/workflows/ci.yml:6 runs in a container (node:24-bookworm-slim) with its services (redis) on the network the runner creates for it, at MTU 1500 (dockerd --mtu does not apply to it); the uplink MTU is 1450: the job's downloads can stall.",
    );
    expect(ci[1]!.summary).toContain('starts service containers (postgres)');
    expect(ci[2]!.summary).toContain("step 'shellcheck' of job 'lint'");
    expect(rel[0]!.summary).toContain('runs in a container (debian:bookworm)');
  });

  it("prints the runner's dockerd settings: a workflow cannot set that network's MTU", async () => {
    const [f] = lintGithubWorkflow(
      await fixture('github/positive/.github/workflows/release.yaml'),
      'release.yaml',
      1450,
    );
    expect(JSON.parse(f!.fix!.steps[0]!.snippet)).toEqual({
      mtu: 1450,
      'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': '1450' } },
    });
    expect(f!.fix!.steps[1]!.snippet).toContain('--default-network-opt=bridge=com.docker.network.driver.mtu=1450');
  });

  it('passes jobs on the runner and reusable-workflow calls', async () => {
    expect(lintGithubWorkflow(await fixture('github/negative/.github/workflows/ci.yml'), 'ci.yml', 1450)).toEqual([]);
  });
});
