/** Typed layers for rule tests, with the defaults a collector would fill in. */
import type { DockerDaemonLayer, DockerNetworkLayer, HostLayer, InnerLayer } from '../../../src/model/layers.js';

const empty = { interfaces: [], uplinks: [], probes: [], notes: [] };

export const hostLayer = (over: Partial<HostLayer> = {}): HostLayer => ({
  id: 'host',
  name: 'host',
  kind: 'host',
  ...empty,
  ...over,
});

/** A reachable daemon probed from its own namespace (--network host), unless `over` says otherwise. */
export const daemonLayer = (over: Partial<DockerDaemonLayer> = {}): DockerDaemonLayer => ({
  id: 'docker',
  name: 'docker',
  kind: 'docker-daemon',
  ...empty,
  reachable: true,
  required: false,
  view: { from: 'host-network container', ms: 900 },
  ...over,
});

export const networkLayer = (id: string, over: Partial<DockerNetworkLayer> = {}): DockerNetworkLayer => ({
  id,
  name: id,
  kind: 'docker-network',
  ...empty,
  network: id.replace(/^docker-net-/, ''),
  driver: 'bridge',
  purpose: 'existing',
  isDefault: false,
  internal: false,
  subnets: [],
  gwbridge: false,
  ...over,
});

export const containerLayer = (id: string, over: Partial<InnerLayer> = {}): InnerLayer => ({
  id,
  name: id,
  kind: 'container',
  ...empty,
  variant: 'bridge',
  network: 'bridge',
  image: 'probe',
  ms: 900,
  ...over,
});

/** The engine version a daemon reports, as GET /version gives it. */
export const engine = (version: string) => ({ version, apiVersion: '1.41', major: Number.parseInt(version, 10) });
