import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNetworkInspect, parseNetworkList, parseVersion } from '../../../../src/collect/docker/inspect.js';
import { findProbeOutput } from '../../../../src/collect/docker/protocol.js';
import { splitImageRef } from '../../../../src/collect/docker/runs.js';
import { demuxLogs, parseBuildStream } from '../../../../src/collect/docker/stream.js';

const FIX = path.resolve(import.meta.dirname, '../../../fixtures');
const text = (f: string) => readFileSync(path.join(FIX, f), 'utf8');
const json = (f: string) => JSON.parse(text(f)) as unknown;

describe('parseVersion', () => {
  it.each([
    ['nested-dockerd-api-flannel-1450/version.json', 'GET /version'],
    ['nested-dockerd-flannel-1450/docker-version.json', "docker version --format '{{json .}}'"],
  ])('%s (%s)', (file) => {
    expect(parseVersion(json(file))).toEqual({
      version: '20.10.24+dfsg1',
      apiVersion: '1.41',
      os: 'linux',
      arch: 'amd64',
      kernel: expect.any(String),
      major: 20,
    });
  });

  it('survives a daemon that answers nothing useful', () => {
    expect(parseVersion({})).toEqual({ version: 'unknown', apiVersion: 'unknown' });
  });
});

describe('parseNetworkInspect (docker network inspect, captured by the docker lab)', () => {
  it.each([
    // The default bridge lists its MTU (1500 here although the uplink is 1450).
    [
      'nested-dockerd-flannel-1450/network-inspect-bridge.json',
      { name: 'bridge', driver: 'bridge', mtuOption: 1500, mtu: 1500, bridge: 'docker0', isDefault: true },
    ],
    [
      'nested-dockerd-flannel-1450-mtu-1450/network-inspect-bridge.json',
      { name: 'bridge', mtuOption: 1450, mtu: 1450, bridge: 'docker0', isDefault: true },
    ],
    [
      'nested-dockerd-flannel-1450/network-inspect-user-mtu-1450.json',
      { name: 'mtu1450', mtuOption: 1450, mtu: 1450, bridge: 'br-BRIDGE', isDefault: false },
    ],
    // No option at all: the driver default, 1500, whatever dockerd --mtu says.
    [
      'nested-dockerd-flannel-1450-mtu-1450/network-inspect-user-default.json',
      { name: 'usernet', mtu: 1500, bridge: 'br-BRIDGE', isDefault: false },
    ],
  ])('%s', (file, want) => {
    const [raw] = json(file) as unknown[];
    const n = parseNetworkInspect(raw)!;
    expect(n).toMatchObject({ ...want, bridge: want.bridge.replace('BRIDGE', n.id.slice(0, 12)) });
    if (!('mtuOption' in want)) expect(n).not.toHaveProperty('mtuOption');
  });

  it('skips host and none (no interface of their own), and reads overlay defaults', () => {
    expect(parseNetworkInspect({ Name: 'host', Driver: 'host' })).toBeUndefined();
    expect(parseNetworkInspect({ Name: 'none', Driver: 'null' })).toBeUndefined();
    const overlay = parseNetworkInspect({
      Name: 'ingress',
      Id: 'x',
      Driver: 'overlay',
      Options: { 'com.docker.network.driver.overlay.vxlanid_list': '4096' },
    });
    expect(overlay).toMatchObject({ mtu: 1450, driver: 'overlay' });
    expect(overlay).not.toHaveProperty('bridge');
  });
});

describe('parseNetworkList (GET /networks, captured raw)', () => {
  it('dockerd with no --mtu: one default bridge at 1500', () => {
    expect(
      parseNetworkList(json('nested-dockerd-api-flannel-1450/networks.json')).map((n) => [n.name, n.mtu, n.bridge]),
    ).toEqual([['bridge', 1500, 'docker0']]);
  });

  it('dockerd --mtu 1450: the default bridge has it, user-defined networks do not; owners and internal read', () => {
    const nets = parseNetworkList(json('nested-dockerd-api-flannel-1450-mtu-1450/networks.json'));
    expect(
      nets.map((n) => ({
        name: n.name,
        mtu: n.mtu,
        option: n.mtuOption,
        origin: n.origin,
        internal: n.internal,
        isDefault: n.isDefault,
      })),
    ).toEqual([
      { name: 'bridge', mtu: 1450, option: 1450, origin: undefined, internal: false, isDefault: true },
      { name: 'app_default', mtu: 1500, option: undefined, origin: 'compose', internal: false, isDefault: false },
      { name: 'backend', mtu: 1500, option: undefined, origin: undefined, internal: true, isDefault: false },
      {
        name: 'github_network_0c8a4b9e6f1d4f2ab3c5d7e9f1a2b3c4',
        mtu: 1400,
        option: 1400,
        origin: 'github-actions',
        internal: false,
        isDefault: false,
      },
    ]);
    expect(nets.find((n) => n.name === 'app_default')?.labels['com.docker.compose.project']).toBe('app');
    for (const n of nets.filter((x) => !x.isDefault)) expect(n.bridge).toBe(`br-${n.id.slice(0, 12)}`);
  });
});

describe('captured streams', () => {
  it('finds the probe answer in a classic-builder stream', () => {
    const b = parseBuildStream(text('nested-dockerd-api-flannel-1450/build-stream.txt'));
    expect(b.error).toBeUndefined();
    expect(b.imageId).toMatch(/^sha256:4df6ce5c/);
    expect(findProbeOutput(b.output)).toEqual({
      mtuPreflightProbe: 1,
      node: 'v24.21.0',
      interfaces: [],
      uplinks: [],
      probes: [],
      notes: [],
    });
  });

  it('reads the failure of a build', () => {
    const b = parseBuildStream(text('nested-dockerd-api-flannel-1450/build-stream-failed.txt'));
    expect(b.error).toBe("The command 'node -e process.exit(3)' returned a non-zero code: 3");
    expect(findProbeOutput(b.output)).toBeUndefined();
  });

  it('demultiplexes container logs', () => {
    const logs = demuxLogs(readFileSync(path.join(FIX, 'nested-dockerd-api-flannel-1450/container-logs.bin')));
    expect(logs).toEqual({ stdout: 'out-1\nout-2\n', stderr: 'err-1\n' });
  });
});

describe('splitImageRef (a pull without a tag would fetch every tag)', () => {
  it.each([
    ['node', { fromImage: 'node', tag: 'latest' }],
    ['node:24-alpine', { fromImage: 'node', tag: '24-alpine' }],
    ['registry.example.com:5000/team/node', { fromImage: 'registry.example.com:5000/team/node', tag: 'latest' }],
    ['registry.example.com:5000/team/node:24', { fromImage: 'registry.example.com:5000/team/node', tag: '24' }],
    ['node@sha256:abc', { fromImage: 'node@sha256:abc' }],
  ])('%s', (ref, want) => {
    expect(splitImageRef(ref)).toEqual(want);
  });
});
