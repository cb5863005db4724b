/**
 * An in-memory Engine API for the collector's unit tests: containers, networks and images with labels, and a probe
 * whose outcome depends on the MTU of the network it runs on (stalls above `pathMtu` when `blackhole`).
 * It answers like the real daemon for the calls the collector makes; the lab tests cover the real one.
 */
import type { CallOptions, DockerClient, DockerResponse } from '../../../../src/collect/docker/api.js';
import { DockerApiError } from '../../../../src/model/errors.js';
import type { DockerEndpoint } from '../../../../src/collect/docker/endpoint.js';
import { decodeProbeConfig, type InnerProbeOutput } from '../../../../src/collect/docker/protocol.js';
import type { NetInterface, ProbeResult } from '../../../../src/model/report.js';

export interface FakeScenario {
  /** MTU of the daemon namespace's uplink. */
  pathMtu: number;
  /** Default bridge MTU (dockerd --mtu). */
  bridgeMtu: number;
  /** Oversized packets vanish (true) or PMTUD repairs the path (false). */
  blackhole: boolean;
  /** The largest MTU that works from containers, when below pathMtu (ICMP lost for forwarded traffic only). */
  innerLimit?: number;
  /** Extra networks as GET /networks returns them. */
  networks?: unknown[];
  imagePresent?: boolean;
  /** Name of the default bridge's Linux bridge (docker0; br0 for `dockerd --bridge=br0`). */
  bridgeName?: string;
  /**
   * What a container on each network sees in /sys/class/net (interface -> MTU), as captured in the lab
   * (container-sys-class-net.json of test/fixtures/nested-dockerd-*; `host` is the daemon's namespace). Its traffic
   * leaves by the last interface (eth1 = docker_gwbridge on an overlay). Without a view: eth0 at the network's MTU.
   */
  views?: Record<string, Record<string, number> | { exit: number; stderr: string }>;
  /** GET /info as the daemon answers it (the swarm part is read). */
  info?: unknown;
  /** Leftovers of an earlier run, with their labels. */
  leftovers?: Array<{ kind: 'container' | 'network' | 'image'; id: string; labels: Record<string, string> }>;
  /** The build step's probe dies before its answer (the RUN step fails with exit 1 and prints no answer line). */
  buildNoAnswer?: boolean;
}

interface Obj {
  id: string;
  labels: Record<string, string>;
  network?: string;
  cmd?: string[];
  env?: string[];
  files?: Buffer;
  mtu?: number;
}

/** How long a fake container takes to exit after printing its answer. */
const EXIT_AFTER_ANSWER_MS = 20;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ok = (o: Partial<ProbeResult> = {}): ProbeResult => ({
  target: 'url',
  url: 'https://registry.lab.test/blob?bytes=2097152',
  host: 'registry.lab.test',
  address: '10.213.2.2',
  family: 4,
  outcome: 'ok',
  phases: { dnsMs: 2, connectMs: 4, tlsMs: 12, ttfbMs: 15, doneMs: 120 },
  bytes: 2097152,
  capped: true,
  throughputBps: 20_000_000,
  samples: [[120, 2097152]],
  ...o,
});

const stall = (): ProbeResult =>
  ok({
    outcome: 'stall',
    phases: { dnsMs: 2, connectMs: 5, doneMs: 3100 },
    bytes: 0,
    capped: false,
    throughputBps: undefined,
    samples: [],
    stall: { phase: 'tls', afterBytes: 0, idleMs: 3000 },
    error: { code: 'STALL', message: 'x' },
  });

export class FakeDaemon implements DockerClient {
  readonly endpoint: DockerEndpoint = {
    host: 'unix:///fake.sock',
    source: 'DOCKER_HOST',
    socketPath: '/fake.sock',
    origin: 'http://localhost',
  };
  containers = new Map<string, Obj>();
  networks = new Map<string, Obj & { name: string }>();
  images = new Map<string, Obj>();
  calls: string[] = [];
  /** Every create with its labels, to check that nothing unlabelled was made. */
  createdLabels: Array<Record<string, string>> = [];
  builds: string[] = [];
  private n = 0;
  closed = false;

  constructor(private s: FakeScenario) {
    this.networks.set('n-bridge', { id: 'n-bridge', name: 'bridge', labels: {}, mtu: s.bridgeMtu });
    for (const l of s.leftovers ?? []) {
      const map = l.kind === 'container' ? this.containers : l.kind === 'image' ? this.images : this.networks;
      map.set(l.id, {
        id: l.id,
        labels: l.labels,
        ...(l.kind === 'network' ? { name: l.id } : {}),
      });
    }
  }

  private probeOutput(network: string): InnerProbeOutput {
    const host = network === 'host';
    const view = this.s.views?.[network] as Record<string, number> | undefined;
    if (view) return this.viewOutput(host, view);
    const net = [...this.networks.values()].find((n) => n.name === network);
    const mtu = host ? this.s.pathMtu : (net?.mtu ?? 1500);
    const fits = host || mtu <= (this.s.innerLimit ?? this.s.pathMtu);
    return {
      mtuPreflightProbe: 1,
      node: 'v24.0.0',
      interfaces: host
        ? [
            {
              name: this.s.bridgeName ?? 'docker0',
              mtu: this.s.bridgeMtu,
              state: 'up',
              kind: 'bridge',
              ports: ['veth1'],
            },
            { name: 'eth0', mtu: this.s.pathMtu, state: 'up', kind: 'veth' },
          ]
        : [{ name: 'eth0', mtu, state: 'up', kind: 'veth' }],
      uplinks: [
        {
          target: 'registry.lab.test',
          address: '10.213.2.2',
          iface: 'eth0',
          ifaceMtu: mtu,
          effectiveMtu: mtu,
          kind: 'veth',
        },
      ],
      mtu,
      probes: [fits || !this.s.blackhole ? ok() : stall()],
      notes: [],
    };
  }

  /** A captured /sys/class/net view: the uplink is eth0 in the daemon's namespace, the last ethN in a container. */
  private viewOutput(host: boolean, view: Record<string, number>): InnerProbeOutput {
    const kindOf = (n: string): NetInterface['kind'] =>
      n === 'lo' ? 'loopback' : /^(docker0|docker_gwbridge|br)/.test(n) ? 'bridge' : /^vx/.test(n) ? 'vxlan' : 'veth';
    const interfaces: NetInterface[] = Object.entries(view).map(([name, mtu]) => ({
      name,
      mtu,
      state: 'up',
      kind: kindOf(name),
      ...(name === 'vx0' ? { tunnelOverhead: 50 } : {}),
    }));
    const egress = host
      ? 'eth0'
      : Object.keys(view)
          .filter((n) => /^eth\d+$/.test(n))
          .sort()
          .at(-1)!;
    const mtu = view[egress]!;
    const fits = host || mtu <= (this.s.innerLimit ?? this.s.pathMtu);
    return {
      mtuPreflightProbe: 1,
      node: 'v20.19.2',
      interfaces,
      uplinks: [
        {
          target: 'registry.lab.test',
          address: '10.213.2.2',
          iface: egress,
          ifaceMtu: mtu,
          effectiveMtu: mtu,
          kind: 'veth',
        },
      ],
      mtu: view.eth0,
      probes: [fits || !this.s.blackhole ? ok() : stall()],
      notes: [],
    };
  }

  private labelled(
    map: Map<string, Obj>,
    filters: string | undefined,
  ): Array<{ Id: string; Labels: Record<string, string> }> {
    const want = filters ? ((JSON.parse(filters) as { label?: string[] }).label ?? []) : [];
    return [...map.values()]
      .filter((o) =>
        want.every((w) => {
          const [k, v] = w.split('=');
          return v === undefined ? k! in o.labels : o.labels[k!] === v;
        }),
      )
      .map((o) => ({ Id: o.id, Labels: o.labels }));
  }

  async raw(method: string, path: string, opts: CallOptions): Promise<DockerResponse> {
    const body = await this.route(method, path, opts);
    if (body instanceof Buffer) return { status: 200, body, contentType: 'application/vnd.docker.multiplexed-stream' };
    if (typeof body === 'string') return { status: 200, body: Buffer.from(body), contentType: 'application/json' };
    return { status: 200, body: Buffer.from(JSON.stringify(body ?? '')), contentType: 'application/json' };
  }

  async call<T>(method: string, path: string, opts: CallOptions): Promise<T> {
    const r = await this.route(method, path, opts);
    return (r instanceof Buffer ? r.toString() : r) as T;
  }

  private async route(method: string, path: string, opts: CallOptions): Promise<unknown> {
    if (this.closed && !opts.cleanup) throw new DockerApiError('CLOSED', 'closed');
    this.calls.push(`${method} ${path}`);
    const q = opts.query ?? {};
    const id = () => `id${++this.n}`;
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/info') return this.s.info ?? { Swarm: { LocalNodeState: 'inactive' } };
    if (method === 'GET' && (m = /^\/networks\/([^/]+)$/.exec(path))) {
      const want = decodeURIComponent(m[1]!);
      const n = (this.s.networks as Array<{ Name?: string }> | undefined)?.find((x) => x.Name === want);
      if (!n) throw new DockerApiError('HTTP_404', `network ${want} not found`, 404);
      return n;
    }
    if (method === 'GET' && path === '/version')
      return { Version: '20.10.24+dfsg1', ApiVersion: '1.41', Os: 'linux', KernelVersion: '6.1.0' };
    if (method === 'GET' && path === '/networks') {
      if (q.filters) return this.labelled(this.networks, String(q.filters));
      return [
        {
          Name: 'bridge',
          Id: 'n-bridge',
          Driver: 'bridge',
          Scope: 'local',
          Options: {
            'com.docker.network.bridge.default_bridge': 'true',
            'com.docker.network.bridge.name': this.s.bridgeName ?? 'docker0',
            'com.docker.network.driver.mtu': String(this.s.bridgeMtu),
          },
          Labels: {},
        },
        { Name: 'host', Id: 'n-host', Driver: 'host', Options: {}, Labels: {} },
        ...(this.s.networks ?? []),
        ...[...this.networks.values()]
          .filter((n) => n.id !== 'n-bridge')
          .map((n) => ({
            Name: n.name,
            Id: n.id,
            Driver: 'bridge',
            Options: n.mtu ? { 'com.docker.network.driver.mtu': String(n.mtu) } : {},
            Labels: n.labels,
          })),
      ];
    }
    if (method === 'GET' && path === '/containers/json') return this.labelled(this.containers, String(q.filters));
    if (method === 'GET' && path === '/images/json') return this.labelled(this.images, String(q.filters));
    if (method === 'GET' && (m = /^\/images\/(.+)\/json$/.exec(path))) {
      if (this.s.imagePresent === false)
        throw new DockerApiError('HTTP_404', `No such image: ${decodeURIComponent(m[1]!)}`, 404);
      return { Id: 'sha256:probe' };
    }
    if (method === 'POST' && path === '/containers/create') {
      const j = opts.json as {
        Labels: Record<string, string>;
        Cmd: string[];
        Env: string[];
        HostConfig: { NetworkMode: string };
      };
      this.createdLabels.push(j.Labels);
      const c = { id: id(), labels: j.Labels, cmd: j.Cmd, env: j.Env, network: j.HostConfig.NetworkMode };
      this.containers.set(c.id, c);
      return { Id: c.id };
    }
    if ((m = /^\/containers\/([^/]+)(\/\w+)?$/.exec(path))) {
      const c = this.containers.get(m[1]!);
      if (!c) throw new DockerApiError('HTTP_404', 'No such container', 404);
      const op = m[2];
      if (method === 'PUT' && op === '/archive') return void (c.files = opts.body!);
      if (method === 'POST' && op === '/start') {
        // A captured failure to start (ipvlan on a kernel without it): the daemon's 500 with its message.
        const failed = this.s.views?.[c.network!] as { exit?: number; stderr?: string } | undefined;
        if (failed?.exit)
          throw new DockerApiError(
            'HTTP_500',
            String(failed.stderr).replace(/^docker: Error response from daemon: /, ''),
            500,
          );
        return undefined;
      }
      // The container exits a little after it printed its answer; a followed log ends at the exit.
      if (method === 'POST' && op === '/wait') return delay(EXIT_AFTER_ANSWER_MS).then(() => ({ StatusCode: 0 }));
      if (method === 'GET' && op === '/logs') {
        const cfg = decodeProbeConfig(c.cmd![1]!);
        if (cfg.budgetMs <= cfg.stallTimeoutMs) throw new Error('budget too small');
        const text = Buffer.from(`${JSON.stringify(this.probeOutput(c.network!))}\n`);
        const h = Buffer.alloc(8);
        h[0] = 1;
        h.writeUInt32BE(text.length, 4);
        const frame = Buffer.concat([h, text]);
        if (q.follow && opts.onChunk) {
          opts.onChunk(frame);
          await delay(EXIT_AFTER_ANSWER_MS);
        }
        return frame;
      }
      if (method === 'DELETE' && !op) return void this.containers.delete(c.id);
    }
    if (method === 'POST' && path === '/networks/create') {
      const j = opts.json as { Name: string; Labels: Record<string, string>; Options: Record<string, string> };
      this.createdLabels.push(j.Labels);
      const net = { id: id(), name: j.Name, labels: j.Labels, mtu: Number(j.Options['com.docker.network.driver.mtu']) };
      this.networks.set(net.id, net);
      return { Id: net.id };
    }
    if (method === 'DELETE' && (m = /^\/networks\/(.+)$/.exec(path))) {
      if (!this.networks.delete(m[1]!)) throw new DockerApiError('HTTP_404', 'no such network', 404);
      return undefined;
    }
    if (method === 'POST' && path === '/build') {
      // The images of a build carry the labels of its Dockerfile's LABEL line (key="value" pairs).
      const context = opts.body!.toString('latin1');
      const line = /^LABEL (.*)$/m.exec(context)?.[1] ?? '';
      const labels = Object.fromEntries(
        [...line.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*")/g)].map((m) => [m[1]!, JSON.parse(m[2]!) as string]),
      );
      this.createdLabels.push(labels);
      this.builds.push(context);
      const out = JSON.stringify(this.probeOutput('bridge'));
      const word = /RUN \["node", "\/probe\/probe.mjs", "([A-Za-z0-9_-]+)"\]/.exec(context)?.[1];
      const exit = this.s.buildNoAnswer ? 1 : word ? (decodeProbeConfig(word).exitCode ?? 0) : 0;
      if (exit === 0) {
        this.images.set(String(q.t), { id: String(q.t), labels });
        return [
          JSON.stringify({ stream: 'Step 1/5 : FROM x\n' }),
          JSON.stringify({ stream: `${out}\n` }),
          JSON.stringify({ aux: { ID: 'sha256:built' } }),
        ].join('\r\n');
      }
      // As dockerd's classic builder answers a failed RUN step: the steps before it committed (COPY's image, which
      // carries the LABEL line's labels), no tag, the step's error last (moby builder/dockerfile/internals.go).
      this.images.set('a1b2c3d4e5f6', { id: 'a1b2c3d4e5f6', labels });
      return [
        JSON.stringify({ stream: 'Step 3/4 : COPY probe /probe\n' }),
        JSON.stringify({ stream: ' ---> a1b2c3d4e5f6\n' }),
        JSON.stringify({ stream: 'Step 4/4 : RUN ["node", "/probe/probe.mjs", "…"]\n' }),
        ...(this.s.buildNoAnswer ? [] : [JSON.stringify({ stream: `${out}\n` })]),
        JSON.stringify({
          errorDetail: {
            code: exit,
            message: `The command 'node /probe/probe.mjs …' returned a non-zero code: ${exit}`,
          },
          error: `The command 'node /probe/probe.mjs …' returned a non-zero code: ${exit}`,
        }),
      ].join('\r\n');
    }
    if (method === 'DELETE' && (m = /^\/images\/(.+)$/.exec(path))) {
      if (!this.images.delete(m[1]!)) throw new DockerApiError('HTTP_404', 'no such image', 404);
      return undefined;
    }
    if (method === 'POST' && path === '/images/create') {
      if (!q.tag) throw new Error('a pull without a tag pulls every tag');
      return '{"status":"done"}';
    }
    throw new Error(`fake daemon: unhandled ${method} ${path}`);
  }

  abortAll(): void {
    this.closed = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
