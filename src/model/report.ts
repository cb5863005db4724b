/**
 * The report model shared by collect → probe → diagnose → render.
 * Everything here is serialised into `--json` output; the field names and the
 * finding codes are part of the public contract (see README, "JSON schema").
 */

import { fromLayerJson, type LayerJson } from './layer-json.js';
import type { Layer } from './layers.js';

export const SCHEMA_VERSION = 1;

export type Verdict = 'pass' | 'warn' | 'fail';
export type Severity = 'error' | 'warning' | 'info';

export type InterfaceKind =
  | 'loopback'
  | 'physical'
  | 'bridge'
  | 'veth'
  | 'vxlan'
  | 'geneve'
  | 'wireguard'
  | 'tun'
  | 'tap'
  | 'ipip'
  | 'sit'
  | 'gre'
  | 'ip6tnl'
  | 'ppp'
  | 'vlan'
  | 'bond'
  | 'macvlan'
  | 'ipvlan'
  | 'dummy'
  | 'other';

/** One network interface as seen in /sys/class/net of a namespace. */
export interface NetInterface {
  name: string;
  mtu: number;
  /** operstate: up, down, unknown (tunnels and loopback report unknown while working) */
  state: string;
  kind: InterfaceKind;
  /** The bridge (or bond) this interface is enslaved to. */
  master?: string;
  /** For bridges: the enslaved ports. */
  ports?: string[];
  /** Bytes of encapsulation this kind adds, when it is a tunnel (VXLAN 50, WireGuard 60, IP-in-IP 20 ...). */
  tunnelOverhead?: number;
}

/** A route from the kernel's routing table (IPv4 or IPv6). */
export interface Route {
  family: 4 | 6;
  /** Network address, e.g. 0.0.0.0 or ::. */
  destination: string;
  prefixLength: number;
  gateway?: string;
  iface: string;
  metric: number;
}

/** The interface a given target address leaves by, and the MTU that path gets. */
export interface Uplink {
  /** The target host name (or proxy) this uplink was resolved for. */
  target: string;
  /** The address the route was looked up for. */
  address: string;
  iface: string;
  ifaceMtu: number;
  /** A route-level `mtu` (ip route ... mtu N), which beats the interface's. */
  routeMtu?: number;
  /** A path MTU the kernel learned from ICMP (ip route get: cache ... mtu N): a route exception. */
  cachedPmtu?: number;
  /** Seconds the route exception had left when read after the probes (net.ipv4.route.mtu_expires). */
  pmtuExpiresSec?: number;
  /**
   * Whether the route exception was there before any probe ran ('earlier': a previous run or job left it) or appeared
   * during this run ('this-run': a probe's own packets taught it). Absent when the exceptions could not be listed.
   */
  pmtuLearned?: 'this-run' | 'earlier';
  /** min(ifaceMtu, routeMtu, cachedPmtu) */
  effectiveMtu: number;
  kind: InterfaceKind;
  gateway?: string;
  /** Why this uplink's MTU is below 1500, when its kind says (e.g. "vxlan: 1500 - 50 bytes of VXLAN overhead"). */
  explanation?: string;
}

export type ProbeOutcome =
  | 'ok'
  | 'stall'
  | 'dns-failure'
  | 'dns-timeout'
  | 'connect-refused'
  | 'connect-timeout'
  | 'tls-error'
  | 'http-error'
  | 'proxy-error'
  | 'redirect-error'
  | 'deadline'
  | 'error';

/** Where in the exchange a stall happened. */
export type StallPhase = 'connect' | 'tls' | 'headers' | 'body';

/**
 * A stall ended before the stall timeout, and on what (src/probe/evidence.ts): 'kernel', the socket held segments
 * behind a gap for several RTOs; 'layer-contrast', the layer above shook hands with the target 20 times faster.
 */
export interface EarlyStall {
  by: 'kernel' | 'layer-contrast';
  /** Ms without progress when it ended. */
  afterMs: number;
  detail: string;
}

/** Socket state the kernel reported (ss -tin) when a probe stalled. */
export interface TcpInfo {
  bytesAcked?: number;
  bytesReceived?: number;
  segsIn?: number;
  /** Out-of-order segments received: tail segments that got through behind a dropped full-size one. */
  rcvOooPack?: number;
  rcvMss?: number;
  advMss?: number;
  /** `mss`: the MSS this socket sends with, from the server's SYN-ACK (after any clamping on the path). */
  sndMss?: number;
  pmtu?: number;
  retrans?: number;
  /** Bytes we sent, retransmissions included (ss bytes_sent). */
  bytesSent?: number;
  /** Of which retransmissions (ss bytes_retrans). */
  bytesRetrans?: number;
  /** Our segments the server SACKed: they arrived while an earlier one is still missing there. */
  sacked?: number;
  /** Our segments the kernel has marked lost. */
  lost?: number;
  raw: string;
}

export interface ProbeResult {
  /** Catalog id (npm, rubygems, ...) or 'url' for --url targets. */
  target: string;
  url: string;
  host: string;
  /** The address TCP connected (or tried to connect) to; absent when a proxy was used or DNS failed. */
  address?: string;
  family?: 4 | 6;
  viaProxy?: string;
  outcome: ProbeOutcome;
  /** Milliseconds from probe start at which each phase completed. */
  phases: { dnsMs?: number; connectMs?: number; tlsMs?: number; ttfbMs?: number; doneMs?: number };
  /** Body bytes received. */
  bytes: number;
  /** True when the byte cap ended the probe (success). */
  capped: boolean;
  status?: number;
  /** Bytes per second over the body phase. */
  throughputBps?: number;
  stall?: { phase: StallPhase; afterBytes: number; idleMs: number; early?: EarlyStall };
  /** [ms since start, cumulative body bytes], sampled while receiving. */
  samples: Array<[number, number]>;
  error?: { code: string; message: string };
  tcpInfo?: TcpInfo;
  /** Certificate verification was skipped (--insecure). */
  insecure?: boolean;
  /** Redirects followed before the final URL, in order. */
  redirects?: string[];
  /** Retry-After of a 429/503 answer, as sent. */
  retryAfter?: string;
}

export type { Layer, LayerKind } from './layers.js';

export type CiSystem = 'github-actions' | 'gitlab-ci' | 'drone' | 'woodpecker' | 'jenkins' | 'buildkite' | 'local';

/** The CI system as its users name it. */
export const CI_LABEL: Record<CiSystem, string> = {
  'github-actions': 'GitHub Actions',
  'gitlab-ci': 'GitLab CI',
  drone: 'Drone',
  woodpecker: 'Woodpecker',
  jenkins: 'Jenkins',
  buildkite: 'Buildkite',
  local: 'local machine',
};

export interface CiFact {
  system: CiSystem;
  /** Running inside a Kubernetes pod (KUBERNETES_SERVICE_HOST). */
  kubernetes: boolean;
  /** Running inside a container (/.dockerenv or container env). */
  container: boolean;
}

export interface FixStep {
  title: string;
  snippet: string;
  /** Syntax for code fences: yaml, json, sh, ini, toml. */
  language: string;
}

export interface Fix {
  summary: string;
  steps: FixStep[];
}

/** Stable finding codes: part of the JSON contract, never renamed. */
export type FindingCode =
  | 'pmtu-blackhole'
  | 'mtu-mismatch'
  | 'transfer-stall'
  | 'dns-failure'
  | 'dns-timeout'
  | 'connect-refused'
  | 'connect-timeout'
  | 'tls-error'
  | 'http-error'
  | 'proxy-error'
  | 'redirect-error'
  | 'slow-transfer'
  | 'probe-error'
  | 'deadline-exceeded'
  | 'docker-unreachable'
  | 'probe-image-missing'
  | 'ci-config-mtu'
  | 'ci-config-unchecked'
  | 'mtu-option-ignored'
  | 'tunnel-parent'
  | 'path-mtu-learned'
  | 'mss-clamped'
  | 'pod-network-mtu';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** Id of the layer the finding is about. */
  layer: string;
  /** One line with the numbers. */
  summary: string;
  evidence: string[];
  recommendedMtu?: number;
  /** Probe target(s) this finding concerns. */
  targets?: string[];
  /** The fix was tried and measured (nested docker layer). */
  verified?: { mtu: number; ok: boolean; detail: string };
  fix?: Fix;
  /** For config lint findings: file and 1-based line. */
  file?: string;
  line?: number;
  /** The hops on the path this finding blames (where the MTU shrinks), for the layer diagram to mark. */
  hops?: Hop[];
}

/** One end of a hop: the internet (beyond this machine), a layer, or an interface of a layer (an uplink or a bridge). */
export type HopEnd =
  { kind: 'internet' } | { kind: 'layer'; layer: string } | { kind: 'interface'; layer: string; iface: string };

export interface Hop {
  from: HopEnd;
  to: HopEnd;
}

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: string; version: string };
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  /** The MTU to set on the inner network(s), when a finding recommends one. */
  recommendedMtu?: number;
  /** Effective MTU of the runner's uplink (smallest over the targets' routes). */
  uplinkMtu?: number;
  ci: CiFact;
  /** The run hit --timeout; what is here is what was found until then. */
  timedOut: boolean;
  /** Options that shaped the run (secrets redacted). */
  settings: Record<string, unknown>;
  layers: Layer[];
  findings: Finding[];
  /** The CI config lint's side of the run (src/lint); absent when the lint is off. Its findings are in `findings`. */
  lint?: LintReport;
}

/** What the CI config lint judged against, and what it has to say beyond its findings. */
export interface LintReport {
  /** The uplink MTU the files were judged against; absent when it was unknown (the lint was skipped). */
  uplinkMtu?: number;
  /** Where that MTU came from: --assume-mtu, the probes' uplinks, or (--lint-only) the default route's interface. */
  uplinkSource?: 'assume-mtu' | 'probes' | 'default-route';
  notes: string[];
}

/** The JSON report as written (schema v1, README "JSON schema"): each layer's kind-specific fields as `facts`. */
export type ReportJson = Omit<Report, 'layers'> & { layers: LayerJson[] };

/** A JSON report (schema v1) read back into the typed model; layers of kinds this version does not know are dropped. */
export function fromReportJson(j: ReportJson): Report {
  return { ...j, layers: j.layers.map(fromLayerJson).filter((l): l is Layer => l !== undefined) };
}
