/** The fix text per CI system and engine: what a user copies, so what it says must be true and said once. */
import { describe, expect, it } from 'vitest';
import { fixDockerMtu } from '../../../src/diagnose/knobs/fixes.js';
import type { CiFact } from '../../../src/model/report.js';

const ci = (system: CiFact['system']): CiFact => ({ system, kubernetes: false, container: false });

describe('fixDockerMtu', () => {
  it('GitHub Actions on Docker 24+: the runner host gets mtu and default-network-opts, and no step repeats another', () => {
    const f = fixDockerMtu(ci('github-actions'), 1450, 27);
    const runner = f.steps.find((s) => s.title.startsWith('Self-hosted runner host'))!;
    expect(JSON.parse(runner.snippet)).toEqual({ mtu: 1450, 'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': '1450' } } });
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
    expect(f.steps.map((s) => s.title)).toEqual(expect.arrayContaining([expect.stringMatching(/^dockerd under systemd/), expect.stringMatching(/^docker compose/)]));
  });

  it('GitLab: the dind service command first, and the generic daemon.json still offered', () => {
    const f = fixDockerMtu(ci('gitlab-ci'), 1450, 27);
    expect(f.steps[0]!.snippet).toContain('command: ["--mtu=1450"');
    expect(f.steps.some((s) => s.title.startsWith('dockerd (any host)'))).toBe(true);
  });
});
