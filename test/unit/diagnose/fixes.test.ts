/** The fix text per CI system and engine: what a user copies, so what it says must be true and said once. */
import { describe, expect, it } from 'vitest';
import { fixDockerMtu } from '../../../src/diagnose/knobs/fixes.js';
import type { CiFact } from '../../../src/model/report.js';

const ci = (system: CiFact['system']): CiFact => ({ system, kubernetes: false, container: false });

describe('fixDockerMtu', () => {
  it('GitHub Actions on Docker 24+: the runner host gets mtu and default-network-opts, and no step repeats another', () => {
    const f = fixDockerMtu(ci('github-actions'), 1450, 27);
    const runner = f.steps.find((s) => s.title.startsWith('Self-hosted runner host'))!;
    expect(JSON.parse(runner.snippet)).toEqual({
      mtu: 1450,
      'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': '1450' } },
    });
    expect(runner.title).toMatch(/including the networks Actions creates/);
    const snippets = f.steps.map((s) => s.snippet);
    expect(new Set(snippets).size).toBe(snippets.length);
  });

  it('GitHub Actions on Docker 20: the title says what that engine cannot do instead of promising it; daemon.json once', () => {
    const f = fixDockerMtu(ci('github-actions'), 1450, 20);
    const runner = f.steps.find((s) => s.title.startsWith('Self-hosted runner host'))!;
    expect(JSON.parse(runner.snippet)).toEqual({ mtu: 1450 });
    expect(runner.title).toBe(
      'Self-hosted runner host: dockerd (Docker 20 cannot give the networks Actions creates for `container:` and service jobs an MTU: that needs default-network-opts, Docker 24.0+)',
    );
    expect(f.steps.filter((s) => s.snippet === runner.snippet)).toHaveLength(1);
    expect(f.steps.map((s) => s.title)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dockerd under systemd/),
        expect.stringMatching(/^docker compose/),
      ]),
    );
  });

  it('GitLab: the dind service command first, and the generic daemon.json still offered', () => {
    const f = fixDockerMtu(ci('gitlab-ci'), 1450, 27);
    expect(f.steps[0]!.snippet).toContain('command: ["--mtu=1450"');
    expect(f.steps.some((s) => s.title.startsWith('dockerd (any host)'))).toBe(true);
  });
});

/**
 * Each knob as its own source has it (the sources are named at each knob in src/diagnose/knobs/): a fix that names a
 * setting the CI system does not have would send users after nothing.
 */
describe('the knobs, as the things they configure have them', () => {
  const all = (f: ReturnType<typeof fixDockerMtu>) => f.steps.map((s) => `${s.title}\n${s.snippet}`).join('\n');

  it('GitLab: network_mtu is a Docker executor setting (16.5.0+) that needs FF_NETWORK_PER_BUILD; the Kubernetes executor has none', () => {
    const f = fixDockerMtu(ci('gitlab-ci'), 1450, 27);
    const runner = f.steps.find((s) => s.language === 'toml')!;
    expect(runner.title).toBe(
      'GitLab Runner, Docker executor (16.5.0+): config.toml, the network it creates per job (only with FF_NETWORK_PER_BUILD)',
    );
    expect(runner.snippet).toBe(
      '[runners.docker]\n  network_mtu = 1450\n[runners.feature_flags]\n  FF_NETWORK_PER_BUILD = true',
    );
    expect(all(f)).not.toMatch(/Kubernetes/);
    // dind's entrypoint hands arguments starting with '-' to dockerd; default-network-opt only from Docker 24.
    expect(f.steps[0]!.snippet).toBe(
      'services:\n  - name: docker:dind\n    command: ["--mtu=1450", "--default-network-opt=bridge=com.docker.network.driver.mtu=1450"]',
    );
    expect(fixDockerMtu(ci('gitlab-ci'), 1450, 23).steps[0]!.snippet).toBe(
      'services:\n  - name: docker:dind\n    command: ["--mtu=1450"]',
    );
  });

  it('Woodpecker: no agent variable for network options exists, so none is printed; the agent host dockerd (Docker 24+) is', () => {
    const f = fixDockerMtu(ci('woodpecker'), 1450, 27);
    expect(all(f)).not.toMatch(/WOODPECKER_BACKEND_DOCKER_NETWORK|check your|exact variable/);
    expect(f.steps[0]).toMatchObject({
      title: '.woodpecker.yml: the docker plugin starts its own dockerd; give it the MTU',
      snippet: expect.stringContaining('settings:\n      mtu: 1450'),
    });
    const agent = f.steps[1]!;
    expect(agent.title).toMatch(
      /^Woodpecker agent host: its docker backend has no setting for the networks it creates per workflow; .*Docker 24\.0\+/,
    );
    expect(JSON.parse(agent.snippet)).toEqual({
      mtu: 1450,
      'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': '1450' } },
    });
    // Said once: the generic daemon.json step would repeat the agent host's.
    expect(f.steps.filter((s) => s.snippet === agent.snippet)).toHaveLength(1);
    // Docker 23: nothing reaches the per-workflow networks; no step pretends otherwise.
    const old = fixDockerMtu(ci('woodpecker'), 1450, 23).steps;
    expect(old.map((s) => s.snippet).join('\n')).not.toMatch(/default-network-opt/);
    expect(old.map((s) => s.title)).not.toContainEqual(expect.stringMatching(/^Woodpecker agent host/));
  });

  it('Drone: DRONE_RUNNER_NETWORK_OPTS in key:value form, drone-runner-docker 1.5.0+', () => {
    const f = fixDockerMtu(ci('drone'), 1450, 27);
    expect(f.steps[1]).toEqual({
      title: 'Drone Docker runner (drone-runner-docker 1.5.0+): the networks it creates for each build',
      language: 'sh',
      snippet: 'DRONE_RUNNER_NETWORK_OPTS=com.docker.network.driver.mtu:1450',
    });
  });

  it("ARC: legacy dockerMTU (v0.18.0+, docker0 only) and the scale-set chart's dind args with the MTU added", () => {
    const f = fixDockerMtu({ system: 'github-actions', kubernetes: true, container: true }, 1450, 27);
    expect(f.steps[0]!.title).toMatch(
      /^Actions Runner Controller \(legacy RunnerDeployment, v0\.18\.0\+\).*docker0, not the networks of `container:` jobs/,
    );
    expect(f.steps[0]!.snippet).toBe('spec:\n  template:\n    spec:\n      dockerMTU: 1450');
    expect(f.steps[1]!.snippet).toBe(
      'args: ["dockerd", "--host=unix:///var/run/docker.sock", "--group=$(DOCKER_GROUP_GID)", "--mtu=1450", "--default-network-opt=bridge=com.docker.network.driver.mtu=1450"]',
    );
  });

  it('GitHub on Docker 20: the job networks can only be helped by clamping the MSS on the runner host, and that is printed', () => {
    const f = fixDockerMtu(ci('github-actions'), 1450, 20);
    expect(f.steps.find((s) => /clamp the MSS/.test(s.title))?.snippet).toBe(
      'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
    );
  });

  it('dockerd: daemon.json and the systemd drop-in carry --mtu, and default-network-opts only from Docker 24', () => {
    const steps = (engine: number) => fixDockerMtu(ci('local'), 1400, engine).steps;
    const [json24, unit24] = steps(24);
    expect(JSON.parse(json24!.snippet)).toEqual({
      mtu: 1400,
      'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': '1400' } },
    });
    expect(unit24!.snippet.split('\n').at(-1)).toBe(
      'ExecStart=/usr/bin/dockerd --mtu=1400 --default-network-opt=bridge=com.docker.network.driver.mtu=1400 -H fd:// --containerd=/run/containerd/containerd.sock',
    );
    const [json23, unit23] = steps(23);
    expect(JSON.parse(json23!.snippet)).toEqual({ mtu: 1400 });
    expect(json23!.title).toContain('Docker 23 has no default-network-opts, added in 24.0');
    expect(unit23!.snippet.split('\n').at(-1)).toBe(
      'ExecStart=/usr/bin/dockerd --mtu=1400 -H fd:// --containerd=/run/containerd/containerd.sock',
    );
  });
});
