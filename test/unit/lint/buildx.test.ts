/** The lint's buildx cases: setup-buildx-action inputs, `docker buildx create` lines, kaniko/buildah jobs. */
import { describe, expect, it } from 'vitest';
import { lintGithubWorkflow, lintGitlab } from '../../../src/lint/index.js';
import { parseBuildxCreate, rewriteCreate } from '../../../src/lint/buildx.js';

const snippets = (f: { fix?: { steps: Array<{ snippet: string }> } } | undefined) =>
  (f?.fix?.steps ?? []).map((s) => s.snippet).join('\n');

const workflow = (withBlock: string, run = 'echo build') => `name: ci
on: push
jobs:
  build:
    runs-on: self-hosted
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
${withBlock}
      - run: |
          set -e
          ${run}
`;

describe('GitHub: docker/setup-buildx-action and docker buildx create in run:', () => {
  it('driver-opts network=<name>: the builder on a 1500 network, at the uses: line, with network=host', () => {
    const f = lintGithubWorkflow(
      workflow(
        '        with:\n          driver-opts: |\n            network=buildnet\n            image=moby/buildkit:latest',
      ),
      '.github/workflows/ci.yml',
      1450,
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      code: 'ci-config-mtu',
      severity: 'warning',
      file: '.github/workflows/ci.yml',
      line: 8,
      recommendedMtu: 1450,
    });
    expect(f[0]!.summary).toMatch(
      /setup-buildx-action puts the builder on network buildnet, at MTU 1500 unless it was created with com\.docker\.network\.driver\.mtu=1450/,
    );
    expect(snippets(f[0])).toContain('driver-opts: |\n    network=host');
    expect(snippets(f[0])).toContain('docker network create --opt com.docker.network.driver.mtu=1450 buildnet');
  });

  it("buildkitd's bridge mode, by flags or inline config", () => {
    for (const w of [
      '        with:\n          buildkitd-flags: --debug --oci-worker-net bridge',
      '        with:\n          buildkitd-config-inline: |\n            [worker.oci]\n              networkMode = "bridge"',
    ]) {
      const f = lintGithubWorkflow(workflow(w), 'w.yml', 1450);
      expect(f.map((x) => x.line)).toEqual([8]);
      expect(f[0]!.summary).toMatch(/buildkitd's own bridge \(worker network bridge\)/);
      expect(snippets(f[0])).toBe('with:\n  buildkitd-flags: --oci-worker-net=host');
    }
  });

  it('the default builder, network=host, another driver, or an uplink of 1500: nothing to say', () => {
    expect(lintGithubWorkflow(workflow('        with:\n          install: true'), 'w.yml', 1450)).toEqual([]);
    expect(lintGithubWorkflow(workflow('        with:\n          driver-opts: network=host'), 'w.yml', 1450)).toEqual(
      [],
    );
    expect(
      lintGithubWorkflow(
        workflow('        with:\n          driver: kubernetes\n          driver-opts: network=x'),
        'w.yml',
        1450,
      ),
    ).toEqual([]);
    expect(
      lintGithubWorkflow(workflow('        with:\n          driver-opts: network=buildnet'), 'w.yml', 1500),
    ).toEqual([]);
  });

  it('a docker buildx create line in run: is found on its own line, and the edit rewrites that line', () => {
    const f = lintGithubWorkflow(
      workflow(
        '        with:\n          install: true',
        'docker buildx create --name ci --driver-opt network=ci-net --use',
      ),
      'w.yml',
      1450,
    );
    expect(f.map((x) => x.line)).toEqual([13]);
    expect(snippets(f[0])).toContain('docker buildx create --name ci --driver-opt network=host --use');
  });
});

describe('GitLab: script lines and pod builders', () => {
  const ci = `build:
  image: docker:27
  services: [{ name: "docker:27-dind", command: ["--mtu=1450"] }]
  script:
    - docker buildx create --name b --buildkitd-flags '--oci-worker-net bridge' --use
    - docker buildx build -t x .
kaniko:
  image:
    name: gcr.io/kaniko-project/executor:v1.23.2-debug
    entrypoint: [""]
  script:
    - /kaniko/executor --context .
`;
  it('the buildx create line with the bridge mode: its line, and the line rewritten', () => {
    const f = lintGitlab(ci, '.gitlab-ci.yml', 1450);
    const create = f.find((x) => x.line === 5)!;
    expect(create.summary).toMatch(
      /job 'build' in \.gitlab-ci\.yml:5: `docker buildx create` puts RUN steps on buildkitd's own bridge/,
    );
    expect(snippets(create)).toContain("docker buildx create --name b --buildkitd-flags '--oci-worker-net=host' --use");
  });

  it('a kaniko job: info, the pod network is what counts', () => {
    const f = lintGitlab(ci, '.gitlab-ci.yml', 1450).find((x) => x.summary.includes('kaniko'))!;
    expect(f).toMatchObject({ severity: 'info', line: 8 });
    expect(f.summary).toMatch(/RUN steps run in the job's own network namespace/);
    expect(f.fix!.summary).toMatch(/CNI/);
  });
});

describe('parseBuildxCreate', () => {
  it.each([
    ['docker buildx create --use', {}],
    ['docker buildx create --driver-opt network=n1,image=moby/buildkit', { network: 'n1' }],
    ['docker buildx create --driver-opt=network=n2', { network: 'n2' }],
    ['docker buildx create --buildkitd-flags="--oci-worker-net=cni"', { workerNet: 'cni' }],
  ])('%s', (line, want) => expect(parseBuildxCreate(line)).toEqual(want));

  it('is not fooled by other commands', () => {
    expect(parseBuildxCreate('docker buildx build --network host .')).toBeUndefined();
    expect(rewriteCreate('docker buildx create --driver-opt network=n1,image=x', { network: 'n1' })).toBe(
      'docker buildx create --driver-opt network=host,image=x',
    );
  });
});
