/**
 * Which desktop product runs the engine, from GET /info and the endpoint. The /info files are reduced to the fields
 * the detector reads, with values from the public sources test/fixtures/desktop-engine-info/README.md names; not
 * captured here (no desktop product runs on this Linux machine).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { desktopNote, detectDesktop } from '../../../../src/collect/docker/desktop.js';

const info = (f: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/desktop-engine-info/${f}`, import.meta.url), 'utf8'));
const sock = (host: string, source = 'default') => ({ host, source });

describe('detectDesktop', () => {
  it('Docker Desktop: OperatingSystem "Docker Desktop" in GET /info', () => {
    expect(detectDesktop(info('docker-desktop-info.json'), sock('unix:///var/run/docker.sock'))).toEqual({
      product: 'docker-desktop',
      evidence: 'GET /info: OperatingSystem "Docker Desktop"',
    });
  });

  it('Docker Desktop without /info: its context or its socket', () => {
    expect(
      detectDesktop(undefined, sock('unix:///Users/me/.docker/run/docker.sock', 'docker context "desktop-linux"')),
    ).toMatchObject({ product: 'docker-desktop' });
    expect(
      detectDesktop(undefined, sock('npipe:////./pipe/dockerDesktopLinuxEngine', 'docker context "desktop-linux"')),
    ).toMatchObject({ product: 'docker-desktop' });
  });

  it('colima: the VM is named after its profile', () => {
    expect(
      detectDesktop(info('colima-profile-work-info.json'), sock('unix:///Users/me/.colima/work/docker.sock')),
    ).toEqual({
      product: 'colima',
      profile: 'work',
      evidence: 'GET /info: Name "colima-work"',
    });
    expect(detectDesktop({ Name: 'colima' }, sock('unix:///var/run/docker.sock'))).toMatchObject({
      product: 'colima',
      profile: 'default',
    });
    // /info unreadable: the socket path says it.
    expect(detectDesktop(undefined, sock('unix:///Users/me/.colima/default/docker.sock'))).toMatchObject({
      product: 'colima',
      profile: 'default',
    });
  });

  it('podman machine: /info names no product, the API socket or pipe does', () => {
    const mac = sock('unix:///var/folders/x1/T/podman/podman-machine-default-api.sock', 'DOCKER_HOST');
    expect(detectDesktop(info('podman-machine-info.json'), mac)).toEqual({
      product: 'podman-machine',
      profile: 'podman-machine-default',
      evidence: 'endpoint unix:///var/folders/x1/T/podman/podman-machine-default-api.sock',
    });
    expect(detectDesktop(undefined, sock('npipe:////./pipe/podman-machine-default'))).toMatchObject({
      product: 'podman-machine',
      profile: 'podman-machine-default',
    });
  });

  it('a dockerd on Linux is none of them', () => {
    expect(
      detectDesktop(
        { Name: 'ci-runner-7', OperatingSystem: 'Debian GNU/Linux 12 (bookworm)' },
        sock('unix:///var/run/docker.sock'),
      ),
    ).toBeUndefined();
    expect(detectDesktop(undefined, undefined)).toBeUndefined();
  });

  it('the daemon layer says the VM is not visible from the host', () => {
    expect(desktopNote({ product: 'colima', profile: 'work', evidence: 'GET /info: Name "colima-work"' })).toBe(
      `the engine runs in colima (profile work)'s Linux VM (GET /info: Name "colima-work"): the VM's own interfaces are not visible from the host; the probe containers measure its networks and its way out`,
    );
  });
});

describe('the JSON report (schema v1) keeps them', () => {
  it('writes platform and desktop* facts and reads the same layers back', async () => {
    const { fromLayerJson, toLayerJson } = await import('../../../../src/model/layer-json.js');
    const host = {
      id: 'host',
      kind: 'host' as const,
      name: 'runner',
      interfaces: [],
      uplinks: [],
      probes: [],
      notes: [],
      platform: 'darwin' as const,
    };
    const daemon = {
      id: 'docker',
      kind: 'docker-daemon' as const,
      name: 'docker daemon',
      parent: 'host',
      interfaces: [],
      uplinks: [],
      probes: [],
      notes: [],
      reachable: true,
      required: false,
      desktop: { product: 'colima' as const, profile: 'work', evidence: 'GET /info: Name "colima-work"' },
    };
    expect(toLayerJson(host).facts).toEqual({ platform: 'darwin' });
    expect(toLayerJson(daemon).facts).toMatchObject({
      desktop: 'colima',
      desktopProfile: 'work',
      desktopEvidence: 'GET /info: Name "colima-work"',
    });
    expect(fromLayerJson(JSON.parse(JSON.stringify(toLayerJson(host))))).toEqual(host);
    expect(fromLayerJson(JSON.parse(JSON.stringify(toLayerJson(daemon))))).toEqual(daemon);
    // A Linux host writes no facts, as before.
    const { platform: _p, ...linux } = host;
    expect(toLayerJson(linux).facts).toBeUndefined();
  });
});
