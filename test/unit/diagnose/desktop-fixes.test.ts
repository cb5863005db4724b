/**
 * A network of an engine in Docker Desktop's, colima's or a podman machine's VM gets that product's setting, not
 * /etc/docker/daemon.json on this machine; a stalling macOS or Windows host gets its interface's MTU. The layers are
 * built as the collectors would from the reduced /info files of test/fixtures/desktop-engine-info (sources named
 * there) and the macOS/Windows captures' format.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectDesktop } from '../../../src/collect/docker/desktop.js';
import { diagnose } from '../../../src/diagnose/index.js';
import type { DesktopEngine, Layer } from '../../../src/model/layers.js';
import type { ProbeResult } from '../../../src/model/report.js';
import { containerLayer, daemonLayer, engine, hostLayer, networkLayer } from './layer-builders.js';

const info = (f: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../fixtures/desktop-engine-info/${f}`, import.meta.url), 'utf8'));

const probe = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'npm',
  url: 'https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz',
  host: 'registry.npmjs.org',
  address: '104.16.2.35',
  family: 4,
  outcome: 'ok',
  phases: { dnsMs: 3, connectMs: 9, tlsMs: 30, ttfbMs: 50, doneMs: 250 },
  bytes: 2 * 1024 * 1024,
  capped: true,
  throughputBps: 10_000_000,
  samples: [],
  ...over,
});
const stalled = () =>
  probe({
    outcome: 'stall',
    phases: { connectMs: 7, doneMs: 3100 },
    bytes: 0,
    capped: false,
    stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
  });

const uplink = (iface: string, mtu: number) => ({
  target: 'registry.npmjs.org',
  address: '104.16.2.35',
  iface,
  ifaceMtu: mtu,
  effectiveMtu: mtu,
  kind: 'physical' as const,
});
const mac = hostLayer({
  platform: 'darwin',
  mtu: 1400,
  interfaces: [
    { name: 'en0', mtu: 1400, state: 'up', kind: 'physical' },
    { name: 'bridge100', mtu: 1500, state: 'up', kind: 'bridge', ports: ['vmenet0'] },
  ],
  uplinks: [uplink('en0', 1400)],
  probes: [probe()],
});
const ci = { system: 'local' as const, kubernetes: false, container: false };
const run = (layers: Layer[]) => diagnose({ layers, ci, stallTimeoutMs: 3000, minThroughput: 65536 });

/** The VM's dockerd seen through the API: its namespace leaves at 1400, its default bridge and a compose network 1500. */
function vmLayers(
  desktop: DesktopEngine,
  network: { name: string; isDefault: boolean; origin?: 'compose' },
  podman = false,
): Layer[] {
  const daemon = daemonLayer({
    parent: 'host',
    mtu: 1400,
    version: engine(podman ? '5.5.0' : '27.4.0'),
    ...(podman ? { engine: { name: 'podman' as const, version: '5.5.0' } } : {}),
    desktop,
    interfaces: [{ name: 'eth0', mtu: 1400, state: 'up', kind: 'physical' }],
    uplinks: [uplink('eth0', 1400)],
    probes: [probe()],
  });
  const net = networkLayer(`docker-net-${network.name}`, {
    parent: 'docker',
    mtu: 1500,
    network: network.name,
    isDefault: network.isDefault,
    ...(network.isDefault ? { bridge: 'docker0', mtuOption: 1500 } : {}),
    ...(network.origin ? { origin: network.origin } : {}),
  });
  const c = containerLayer('docker-container-x', {
    parent: net.id,
    network: network.name,
    mtu: 1500,
    probes: [probe()],
  });
  return [mac, daemon, net, c];
}

const fixOf = (layers: Layer[]) => {
  const f = run(layers).findings.find((x) => x.layer.startsWith('docker-net-'));
  expect(f?.fix).toBeDefined();
  return { summary: f!.fix!.summary, text: f!.fix!.steps.map((s) => `${s.title}\n${s.snippet}`).join('\n') };
};

describe('fixes for an engine in a desktop VM', () => {
  it('Docker Desktop: Settings → Docker Engine ($HOME/.docker/daemon.json), not /etc/docker or systemd', () => {
    const desktop = detectDesktop(info('docker-desktop-info.json'), {
      host: 'unix:///var/run/docker.sock',
      source: 'default',
    })!;
    const { summary, text } = fixOf(vmLayers(desktop, { name: 'bridge', isDefault: true }));
    expect(summary).toMatch(/^Set the MTU of Docker Desktop's dockerd to 1400 in Settings → Docker Engine/);
    expect(text).toContain('$HOME/.docker/daemon.json');
    expect(text).toContain('"mtu": 1400');
    expect(text).toContain('"default-network-opts"');
    expect(text).not.toMatch(/\/etc\/docker|systemd|ExecStart/);
  });

  it('a black hole in Docker Desktop’s VM: the headline names its setting, not a bare "Docker MTU"', () => {
    const desktop = detectDesktop(info('docker-desktop-info.json'), { host: '', source: '' })!;
    const layers = vmLayers(desktop, { name: 'bridge', isDefault: true });
    layers[3] = { ...layers[3]!, probes: [stalled()] };
    const f = run(layers).findings.find((x) => x.code === 'pmtu-blackhole');
    expect(f?.summary).toMatch(/set Docker Desktop's engine MTU to 1400 \(Settings → Docker Engine\)/);
    expect(f?.fix?.steps.map((x) => x.title).join('\n')).toContain('Settings → Docker Engine');
  });

  it('colima: the docker: section of the profile’s colima.yaml (colima has no MTU flag)', () => {
    const desktop = detectDesktop(info('colima-profile-work-info.json'), { host: '', source: '' })!;
    const { summary, text } = fixOf(vmLayers(desktop, { name: 'bridge', isDefault: true }));
    expect(summary).toMatch(/colima \(profile work\)'s dockerd to 1400 in colima's docker: section/);
    expect(text).toContain('colima start --edit --profile work');
    expect(text).toContain('~/.colima/work/colima.yaml');
    expect(text).toContain(
      'docker:\n  mtu: 1400\n  default-network-opts:\n    bridge:\n      com.docker.network.driver.mtu: "1400"',
    );
    expect(text).not.toMatch(/\/etc\/docker|--network-mtu/);
  });

  it('colima, a compose network: driver_opts, or default-network-opts in colima.yaml', () => {
    const { summary, text } = fixOf(
      vmLayers(
        { product: 'colima', profile: 'default', evidence: 'x' },
        { name: 'app_default', isDefault: false, origin: 'compose' },
      ),
    );
    expect(summary).toMatch(/^Give the compose network app_default driver_opts com.docker.network.driver.mtu: 1400/);
    expect(text).toContain('`colima start --edit` (~/.colima/default/colima.yaml)');
  });

  it('podman machine: a network created with mtu (the machine has no MTU setting)', () => {
    const desktop = detectDesktop(info('podman-machine-info.json'), {
      host: 'unix:///var/folders/x1/T/podman/podman-machine-default-api.sock',
      source: 'DOCKER_HOST',
    })!;
    // The engine behind the socket is Podman (GET /version's Components): Podman's knobs, placed in the machine.
    const { summary, text } = fixOf(vmLayers(desktop, { name: 'bridge', isDefault: true }, true));
    expect(summary).toMatch(/^podman machine podman-machine-default has no MTU setting of its own/);
    expect(text).toContain('podman network create --opt mtu=1400 mtu1400');
    expect(text).toMatch(/from macOS or Windows the podman CLI reaches the machine's engine/);
    expect(text).toMatch(/In the machine \(`podman machine ssh`\): containers\.conf/);
    expect(text).toContain('default_network = "mtu1400"');
    expect(text).not.toMatch(/daemon\.json|dockerd/);
  });

  it('a Linux dockerd keeps /etc/docker/daemon.json', () => {
    const layers = vmLayers({ product: 'colima', evidence: 'x' }, { name: 'bridge', isDefault: true });
    const linux = layers.map((l) => (l.kind === 'docker-daemon' ? { ...l, desktop: undefined } : l));
    expect(fixOf(linux).text).toContain('/etc/docker/daemon.json');
  });
});

describe('a macOS or Windows host', () => {
  it('its vmnet bridge above the uplink is not a container bridge: no host mtu-mismatch', () => {
    expect(run([mac]).findings).toEqual([]);
    // The same interfaces on Linux are the docker0 case.
    const { platform: _p, ...linux } = mac;
    expect(run([linux]).findings.map((f) => f.code)).toEqual(['mtu-mismatch']);
  });

  it('a stall beyond a Mac: lower the interface MTU with ifconfig, not ip route advmss', () => {
    const d = run([{ ...mac, interfaces: [mac.interfaces[0]!], probes: [stalled()] }]);
    expect(d.findings.map((f) => f.code)).toEqual(['pmtu-blackhole']);
    const text = d.findings[0]!.fix!.steps.map((s) => s.snippet).join('\n');
    expect(text).toContain('sudo ifconfig en0 mtu 1400');
    expect(text).not.toContain('ip route');
  });

  it('a stall beyond a Windows machine: netsh interface ipv4 set subinterface', () => {
    const win = hostLayer({
      platform: 'win32',
      mtu: 1400,
      interfaces: [{ name: 'Wi-Fi', mtu: 1400, state: 'up', kind: 'physical' }],
      uplinks: [uplink('Wi-Fi', 1400)],
      probes: [stalled()],
    });
    const text = run([win])
      .findings[0]!.fix!.steps.map((s) => s.snippet)
      .join('\n');
    expect(text).toContain('netsh interface ipv4 set subinterface "Wi-Fi" mtu=1400 store=persistent');
  });
});
