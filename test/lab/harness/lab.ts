// A three-namespace network lab for integration tests: a CI runner behind a router whose path toward the runner
// can carry less than everything else, and a registry stand-in (HTTPS + HTTP + DNS) on the far side.
//
//   runner ns                 router ns                                   registry ns
//   eth0 (runnerMtu) ─veth─ to-runner (runnerMtu)  │ to-registry (1500) ─veth─ eth0 (1500, real frames)
//   10.213.1.2              10.213.1.1               10.213.2.1                10.213.2.2  registry-server.mjs, dnsmasq
//                           route 10.213.1.0/24 mtu lock <bottleneckMtu>
//
// Downloads flow registry → router → runner. The runner advertises MSS runnerMtu - 40 (1460), so the registry sends
// 1500-byte packets. The router must forward them toward the runner over a route whose MTU is bottleneckMtu: it
// drops them and sends ICMP "fragmentation needed" (IPv6: "packet too big") to the registry, whose kernel lowers
// the path MTU and resends smaller segments (PMTUD works: a latent risk, not a failure). With `dropFragNeeded` an
// nft rule in the router drops that ICMP, so the registry retransmits full-size segments forever: a path-MTU black
// hole, as seen in CI. Uploads (runner → registry) are never affected, as in a real docker0 → eth0 setup where the
// local kernel routes and answers with ICMP.
//
// Addresses are the same in every lab: each lab is its own set of namespaces, none touches the root namespace, so
// concurrent labs cannot collide. Only these addresses and loopback are ever used.
//
// Must run as root (ip netns, nft, tc). Every lab removes its namespaces, processes, /etc/netns entries and temp
// dir in close(); labs left behind by a crashed process (whose pid is gone) are swept by the next createLab().

import { spawn as spawnChild, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LabOptions {
  /**
   * MTU of the router's path toward the runner: the bottleneck (default 1500 = healthy). A locked route MTU on the
   * router, not a smaller interface MTU: a veth whose two ends disagree drops big frames silently in both directions.
   * No effect when >= runnerMtu.
   */
  bottleneckMtu?: number;
  /**
   * The router drops the ICMP frag-needed / packet-too-big it would send: a PMTUD black hole (default false).
   * 'toward-registry' drops only what it would send to the registry side: with `upstream`, the runner still learns
   * the path MTU from its own oversized packets (PMTUD that works one way only).
   */
  dropFragNeeded?: boolean | 'toward-registry';
  /**
   * The bottleneck is a hop upstream that both directions cross (a VPN, PPPoE or provider link), not only the last
   * hop toward the runner: the router's route toward the registry gets the same locked MTU, so the runner's own
   * full-size packets (Node 24's ~1.6 KB ClientHello) are answered with ICMP toward the runner (default false).
   */
  upstream?: boolean;
  /**
   * The router rewrites the MSS option of forwarded SYNs to what its route toward their destination carries (nft
   * `tcp flags syn tcp option maxseg size set rt mtu`, what Kubernetes nodes and VPN gateways do): no ICMP needed.
   */
  clampMss?: boolean;
  /** tc tbf rate on the router's egress toward the runner, e.g. '2mbit' (this kernel has no netem). */
  slowRate?: string;
  /** MTU of the runner's eth0 and of the router's end of that link (default 1500). */
  runnerMtu?: number;
  /** Extra DNS names that resolve to the registry and are in its certificate, e.g. 'registry.npmjs.org'. */
  names?: string[];
  /** Also give every link IPv6 addresses (fd00:213:1::/64, fd00:213:2::/64) and AAAA records (default false). */
  ipv6?: boolean;
  /**
   * Key type of the lab CA and server certificate (default 'rsa2048'). The server sends leaf + CA cert, like a
   * real server sends leaf + intermediate. Its TLS 1.3 flight is ~2.3 KB with RSA 2048: a full 1448-byte segment
   * plus a ~830-byte tail, so a black hole stalls the handshake. With P-256 it is ~1.3 KB, one segment that fits
   * through a 1450 bottleneck (not through 1280): the handshake completes and the stall moves to the body.
   */
  tlsKey?: 'rsa2048' | 'ec-p256';
  /**
   * TLS key-exchange groups the server accepts, colon-separated (Node's ecdhCurve), e.g. 'X25519:P-256' for a
   * server without post-quantum key exchange. Default: Node 24's, which prefers X25519MLKEM768 when the client offers
   * it (Node 24 does, curl with OpenSSL 3.0 does not); its ServerHello is ~1.1 KB larger, so with a Node client
   * even the P-256 flight spans two segments and a black hole stalls the handshake.
   */
  tlsGroups?: string;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface Lab {
  /** Unique per lab and process: `mtp<pid>x<n>`. Namespace and temporary interface names start with it. */
  prefix: string;
  runnerNs: string;
  routerNs: string;
  registryNs: string;
  /** The runner's eth0 address. */
  runnerIp: string;
  /** The registry's address: HTTPS on 443, HTTP on 80, silent TCP on 8443, 9443 closed, DNS on 53. */
  registryIp: string;
  /** The registry's IPv6 address when `ipv6` was set. */
  registryIp6?: string;
  /** 'registry.lab.test', resolved by the lab DNS. */
  registryName: string;
  /** PEM of the CA generated for this lab; trusted by nothing else. */
  caFile: string;
  /** The lab DNS server (dnsmasq in the registry namespace); the runner's resolv.conf names only it. */
  dnsIp: string;
  /** Temporary directory: certificates, server.log, dnsmasq.log. Removed by close(). */
  tmpDir: string;
  /**
   * Run a command in the runner namespace (`ip netns exec`, so /etc/netns/<runnerNs>/resolv.conf and hosts apply).
   * The environment is this process's minus proxy variables, plus `env`. On timeout the command gets SIGKILL.
   */
  exec(cmd: string, args: string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<ExecResult>;
  /** Spawn a command in the runner namespace (for signal tests); it is killed by close() if still running. */
  spawn(cmd: string, args: string[], opts?: { env?: Record<string, string> }): ChildProcess;
  /** Run a command in the router or registry namespace (inspection: ss, nft list, ip route get). */
  execIn(ns: 'router' | 'registry', cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Kill servers and spawned processes, delete the namespaces, /etc/netns/<ns> and the temp dir. Idempotent. */
  close(): Promise<void>;
}

export const REGISTRY_NAME = 'registry.lab.test';
const RUNNER_IP = '10.213.1.2';
const ROUTER_RUNNER_SIDE_IP = '10.213.1.1';
const ROUTER_REGISTRY_SIDE_IP = '10.213.2.1';
const REGISTRY_IP = '10.213.2.2';
const RUNNER_IP6 = 'fd00:213:1::2';
const ROUTER_RUNNER_SIDE_IP6 = 'fd00:213:1::1';
const ROUTER_REGISTRY_SIDE_IP6 = 'fd00:213:2::1';
const REGISTRY_IP6 = 'fd00:213:2::2';
/**
 * The runner's link (its eth0 and the router's side), for tests that put other hosts on it: macvlan containers take
 * addresses of `subnet` and route through `router`.
 */
export const RUNNER_LINK = { subnet: '10.213.1.0/24', router: ROUTER_RUNNER_SIDE_IP } as const;
/** Names the harness needs on the machine; all are in Debian's iproute2, nftables, dnsmasq-base and openssl. */
const REQUIRED_TOOLS = ['ip', 'nft', 'tc', 'dnsmasq', 'openssl'] as const;
const SERVER_SCRIPT = fileURLToPath(new URL('./registry-server.mjs', import.meta.url));
const READY_TIMEOUT_MS = 10_000;
/** Namespace names this harness creates: mtp<pid>x<n> + r(unner) | t (rouTer) | g (reGistry). */
const NS_PATTERN = /^mtp\d+x\d+[rtg]$/;
/** Temp dirs: mtp<pid>x<n>-XXXXXX (mkdtemp). */
const TMP_DIR_PATTERN = /^mtp\d+x\d+-[A-Za-z0-9]{6}$/;
/** Temporary root-namespace veth names: mtp<pid>x<n> + a|b|c|d; they only live a few ms during creation. */
const TEMP_LINK_PATTERN = /^mtp\d+x\d+[abcd]$/;

let labCounter = 0;
/** Prefixes of this process's labs that are not closed yet. */
const livePrefixes = new Set<string>();
const openLabs = new Set<() => void>();

/** Whether this machine can build labs: root plus the tools above. Lab tests should fail, not skip, when not ok. */
export function labAvailable(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux')
    return { ok: false, why: `network namespaces need Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0)
    return { ok: false, why: `the lab needs root (ip netns, nft, tc), running as uid ${process.getuid?.()}` };
  const missing = REQUIRED_TOOLS.filter((t) => !findTool(t));
  if (missing.length)
    return {
      ok: false,
      why: `missing tools: ${missing.join(', ')} (apt-get install iproute2 nftables dnsmasq-base openssl)`,
    };
  return { ok: true };
}

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`network lab unavailable: ${avail.why}`);
  const o = {
    bottleneckMtu: opts.bottleneckMtu ?? 1500,
    dropFragNeeded: opts.dropFragNeeded ?? false,
    upstream: opts.upstream ?? false,
    clampMss: opts.clampMss ?? false,
    slowRate: opts.slowRate,
    runnerMtu: opts.runnerMtu ?? 1500,
    names: [...new Set(opts.names ?? [])],
    ipv6: opts.ipv6 ?? false,
    tlsKey: opts.tlsKey ?? 'rsa2048',
    tlsGroups: opts.tlsGroups,
  };
  for (const [k, v] of [
    ['bottleneckMtu', o.bottleneckMtu],
    ['runnerMtu', o.runnerMtu],
  ] as const) {
    // 1280 is the IPv6 minimum; below 576 IPv4 itself stops being reliable. Nothing in CI runs outside this range.
    if (!Number.isInteger(v) || v < (o.ipv6 ? 1280 : 576) || v > 9000)
      throw new Error(`LabOptions.${k} must be an integer MTU in 576..9000 (1280.. with ipv6), got ${v}`);
  }
  for (const n of o.names) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(n))
      throw new Error(`LabOptions.names: '${n}' is not a DNS name`);
  }
  if (o.tlsGroups !== undefined && !/^[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)*$/.test(o.tlsGroups)) {
    throw new Error(
      `LabOptions.tlsGroups must be colon-separated group names like 'X25519:P-256', got '${o.tlsGroups}'`,
    );
  }
  if (o.slowRate !== undefined && !/^\d+(\.\d+)?([kmg]?bit|[kmg]?bps)$/i.test(o.slowRate)) {
    throw new Error(`LabOptions.slowRate must be a tc rate like '2mbit', got '${o.slowRate}'`);
  }

  const prefix = `mtp${process.pid}x${labCounter++ % 1000}`;
  livePrefixes.add(prefix);
  sweepStaleLabs();
  const ns = { runner: `${prefix}r`, router: `${prefix}t`, registry: `${prefix}g` };
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const children = new Set<ChildProcess>();
  const track = (child: ChildProcess): ChildProcess => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  // Synchronous last resort if the test process exits without close(): stale namespaces would otherwise only be
  // swept by the next run.
  const emergencyCleanup = (): void => {
    for (const c of children) c.kill('SIGKILL');
    for (const n of Object.values(ns)) removeNamespaceSync(n);
    rmSync(tmpDir, { recursive: true, force: true });
  };
  openLabs.add(emergencyCleanup);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all([...children].map((c) => stopChild(c)));
      for (const n of Object.values(ns)) await removeNamespace(n);
      await rm(tmpDir, { recursive: true, force: true });
      openLabs.delete(emergencyCleanup);
      livePrefixes.delete(prefix);
    })();
    return closing;
  };

  try {
    const [certs] = await Promise.all([
      makeCertificates(
        tmpDir,
        prefix,
        o.tlsKey,
        [REGISTRY_NAME, ...o.names],
        o.ipv6 ? [REGISTRY_IP, REGISTRY_IP6] : [REGISTRY_IP],
      ),
      buildNetwork(prefix, ns, o),
    ]);
    await writeRunnerEtc(ns.runner, REGISTRY_IP);
    await Promise.all([
      startDnsmasq(ns.registry, tmpDir, [REGISTRY_NAME, ...o.names], o.ipv6, track),
      startRegistryServer(ns.registry, tmpDir, certs, o.tlsGroups, track),
    ]);
  } catch (err) {
    await close();
    throw err;
  }

  const exec: Lab['exec'] = (cmd, args, eopts = {}) =>
    run(ipTool(), ['netns', 'exec', ns.runner, cmd, ...args], {
      timeoutMs: eopts.timeoutMs,
      env: labEnv(eopts.env),
      track,
    });
  return {
    prefix,
    runnerNs: ns.runner,
    routerNs: ns.router,
    registryNs: ns.registry,
    runnerIp: RUNNER_IP,
    registryIp: REGISTRY_IP,
    registryIp6: o.ipv6 ? REGISTRY_IP6 : undefined,
    registryName: REGISTRY_NAME,
    caFile: path.join(tmpDir, 'ca.pem'),
    dnsIp: REGISTRY_IP,
    tmpDir,
    exec,
    spawn: (cmd, args, sopts = {}) =>
      track(
        spawnChild(ipTool(), ['netns', 'exec', ns.runner, cmd, ...args], { env: labEnv(sopts.env), stdio: 'pipe' }),
      ),
    execIn: (which, cmd, args, eopts = {}) =>
      run(ipTool(), ['netns', 'exec', ns[which], cmd, ...args], { timeoutMs: eopts.timeoutMs, env: labEnv(), track }),
    close,
  };
}

async function buildNetwork(
  prefix: string,
  ns: { runner: string; router: string; registry: string },
  o: {
    bottleneckMtu: number;
    dropFragNeeded: boolean | 'toward-registry';
    upstream: boolean;
    clampMss: boolean;
    slowRate?: string;
    runnerMtu: number;
    ipv6: boolean;
  },
): Promise<void> {
  const ip = (...args: string[]) => must(ipTool(), args);
  const inNs = (n: string, ...args: string[]) => must(ipTool(), ['-n', n, ...args]);
  for (const n of Object.values(ns)) {
    await ip('netns', 'add', n);
    await inNs(n, 'link', 'set', 'lo', 'up');
    // Duplicate address detection keeps new IPv6 addresses (link-local ones too) "tentative" for ~1 s; neighbour
    // discovery meanwhile loses the first SYN, and a retransmitted SYN costs a 1 s RTO and starts TCP with cwnd 1.
    // Interfaces moved in below take the namespace's `default` settings.
    await must(ipTool(), [
      'netns',
      'exec',
      n,
      'sysctl',
      '-qw',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.accept_dad=0',
    ]);
  }
  // The root namespace already has an eth0: create each veth pair under temporary names, move the ends into their
  // namespaces, then rename them there.
  const runnerEnd = { temp: `${prefix}a`, ns: ns.runner, name: 'eth0', mtu: o.runnerMtu };
  // Both ends of a link share its MTU, as docker0 and a container's eth0 do. (With a smaller MTU on the router's
  // end, the veth would silently drop the runner's full-size uploads at L2: a second black hole, the wrong way.)
  const routerRunnerEnd = { temp: `${prefix}b`, ns: ns.router, name: 'to-runner', mtu: o.runnerMtu };
  const routerRegistryEnd = { temp: `${prefix}c`, ns: ns.router, name: 'to-registry', mtu: 1500 };
  const registryEnd = { temp: `${prefix}d`, ns: ns.registry, name: 'eth0', mtu: 1500 };
  const ends = [runnerEnd, routerRunnerEnd, routerRegistryEnd, registryEnd];
  await ip('link', 'add', runnerEnd.temp, 'type', 'veth', 'peer', 'name', routerRunnerEnd.temp);
  await ip('link', 'add', routerRegistryEnd.temp, 'type', 'veth', 'peer', 'name', registryEnd.temp);
  for (const end of ends) {
    await ip('link', 'set', end.temp, 'netns', end.ns);
    await inNs(end.ns, 'link', 'set', end.temp, 'name', end.name, 'mtu', String(end.mtu));
  }
  // The kernel checks a packet against the egress MTU only for real frames: a GSO/TSO super-packet (up to 64 KB)
  // sails through a small-MTU hop unchecked. Internet servers' packets arrive as real frames, so make the registry
  // emit them too (gso_max_segs 1 = every skb is one MSS).
  await inNs(ns.registry, 'link', 'set', 'eth0', 'gso_max_segs', '1');
  for (const end of ends) await inNs(end.ns, 'link', 'set', end.name, 'up');

  await inNs(ns.runner, 'addr', 'add', `${RUNNER_IP}/24`, 'dev', 'eth0');
  await inNs(ns.router, 'addr', 'add', `${ROUTER_RUNNER_SIDE_IP}/24`, 'dev', 'to-runner');
  await inNs(ns.router, 'addr', 'add', `${ROUTER_REGISTRY_SIDE_IP}/24`, 'dev', 'to-registry');
  await inNs(ns.registry, 'addr', 'add', `${REGISTRY_IP}/24`, 'dev', 'eth0');
  await inNs(ns.runner, 'route', 'add', 'default', 'via', ROUTER_RUNNER_SIDE_IP);
  await inNs(ns.registry, 'route', 'add', 'default', 'via', ROUTER_REGISTRY_SIDE_IP);
  await must(ipTool(), ['netns', 'exec', ns.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  // The bottleneck is a locked MTU on the router's route toward the runner: forwarding checks every packet against
  // it (real frames, and GSO packets segment by segment), so a 1500-byte download packet from the registry is
  // dropped here and answered with ICMP frag-needed (the locked route MTU cannot be raised by PMTU updates).
  const bottleneck = o.bottleneckMtu < o.runnerMtu ? ['mtu', 'lock', String(o.bottleneckMtu)] : [];
  if (bottleneck.length) {
    await inNs(
      ns.router,
      'route',
      'replace',
      '10.213.1.0/24',
      'dev',
      'to-runner',
      'proto',
      'kernel',
      'scope',
      'link',
      'src',
      ROUTER_RUNNER_SIDE_IP,
      ...bottleneck,
    );
  }
  if (o.upstream && o.bottleneckMtu < 1500) {
    // The same hop on the way out: the registry's link route, locked, so the runner's 1500-byte packets are dropped
    // here and answered with ICMP toward the runner (unless dropFragNeeded is true).
    await inNs(
      ns.router,
      'route',
      'replace',
      '10.213.2.0/24',
      'dev',
      'to-registry',
      'proto',
      'kernel',
      'scope',
      'link',
      'src',
      ROUTER_REGISTRY_SIDE_IP,
      'mtu',
      'lock',
      String(o.bottleneckMtu),
    );
  }
  if (o.ipv6) {
    await inNs(ns.runner, 'addr', 'add', `${RUNNER_IP6}/64`, 'dev', 'eth0');
    await inNs(ns.router, 'addr', 'add', `${ROUTER_RUNNER_SIDE_IP6}/64`, 'dev', 'to-runner');
    await inNs(ns.router, 'addr', 'add', `${ROUTER_REGISTRY_SIDE_IP6}/64`, 'dev', 'to-registry');
    await inNs(ns.registry, 'addr', 'add', `${REGISTRY_IP6}/64`, 'dev', 'eth0');
    await inNs(ns.runner, '-6', 'route', 'add', 'default', 'via', ROUTER_RUNNER_SIDE_IP6);
    await inNs(ns.registry, '-6', 'route', 'add', 'default', 'via', ROUTER_REGISTRY_SIDE_IP6);
    await must(ipTool(), ['netns', 'exec', ns.router, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    // IPv6 forwarding honours a route MTU only when it is locked; then the router sends ICMPv6 packet-too-big.
    if (bottleneck.length)
      await inNs(
        ns.router,
        '-6',
        'route',
        'replace',
        'fd00:213:1::/64',
        'dev',
        'to-runner',
        'proto',
        'kernel',
        'metric',
        '256',
        ...bottleneck,
      );
  }

  if (o.dropFragNeeded) {
    // The ICMP errors the router generates for forwarded packets leave through its own output hook; drop them there
    // and the registry never learns the path MTU. Counters make `nft list ruleset` show that the rule fired.
    const toward = o.dropFragNeeded === 'toward-registry' ? 'oifname "to-registry" ' : '';
    await must(
      findTool('nft')!,
      ['-f', '-'],
      [
        'table inet mtp_lab {',
        '  chain output {',
        '    type filter hook output priority filter; policy accept;',
        `    ${toward}icmp type destination-unreachable icmp code frag-needed counter drop`,
        `    ${toward}icmpv6 type packet-too-big counter drop`,
        '  }',
        '}',
      ].join('\n'),
      ns.router,
    );
  }
  if (o.clampMss) {
    // `rt mtu` is the MSS the route toward the packet's destination carries: a SYN toward the registry over the
    // locked upstream route is clamped to bottleneckMtu - 40, and so is the SYN-ACK toward the runner.
    await must(
      findTool('nft')!,
      ['-f', '-'],
      [
        'table inet mtp_clamp {',
        '  chain forward {',
        '    type filter hook forward priority mangle; policy accept;',
        '    tcp flags syn tcp option maxseg size set rt mtu counter',
        '  }',
        '}',
      ].join('\n'),
      ns.router,
    );
  }
  if (o.slowRate) {
    // burst 16kb lets a few segments through at line rate (so the connection starts like a real link); limit 256kb
    // is the queue, beyond which tbf drops and TCP backs off.
    await must(findTool('tc')!, [
      '-n',
      ns.router,
      'qdisc',
      'add',
      'dev',
      'to-runner',
      'root',
      'tbf',
      'rate',
      o.slowRate,
      'burst',
      '16kb',
      'limit',
      '256kb',
    ]);
  }
}

/**
 * `ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc/*: the runner then asks only the lab DNS, and the
 * machine's /etc/hosts does not leak in.
 */
async function writeRunnerEtc(runnerNs: string, dnsIp: string): Promise<void> {
  const dir = path.join('/etc/netns', runnerNs);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'resolv.conf'), `nameserver ${dnsIp}\n`);
  await writeFile(path.join(dir, 'hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
}

interface Certs {
  ca: string;
  chain: string;
  key: string;
}

async function makeCertificates(
  dir: string,
  prefix: string,
  keyType: 'rsa2048' | 'ec-p256',
  dnsNames: string[],
  ips: string[],
): Promise<Certs> {
  const openssl = findTool('openssl')!;
  const newKey =
    keyType === 'rsa2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const f = (name: string) => path.join(dir, name);
  // Own config files: the machine's openssl.cnf adds its own defaults, which would clash with ours.
  await writeFile(
    f('ca.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = mtu-preflight lab CA ${prefix}`,
      '[v3_ca]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await writeFile(
    f('server.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${REGISTRY_NAME}`,
      '[v3_server]',
      'basicConstraints = critical,CA:FALSE',
      `keyUsage = critical,${keyType === 'rsa2048' ? 'digitalSignature,keyEncipherment' : 'digitalSignature'}`,
      'extendedKeyUsage = serverAuth',
      'authorityKeyIdentifier = keyid',
      `subjectAltName = ${[...dnsNames.map((n) => `DNS:${n}`), ...ips.map((a) => `IP:${a}`)].join(',')}`,
      '',
    ].join('\n'),
  );
  // Certificates valid from now for 2 days: labs live for seconds, everything runs on this machine's clock.
  await Promise.all([
    must(openssl, [
      'req',
      '-x509',
      '-new',
      ...newKey,
      '-nodes',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
      '-days',
      '2',
      '-config',
      f('ca.cnf'),
      '-extensions',
      'v3_ca',
    ]),
    must(openssl, [
      'req',
      '-new',
      ...newKey,
      '-nodes',
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
      '-config',
      f('server.cnf'),
    ]),
  ]);
  await must(openssl, [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    `0x${Date.now().toString(16)}${process.pid.toString(16)}`,
    '-days',
    '2',
    '-out',
    f('server.pem'),
    '-extfile',
    f('server.cnf'),
    '-extensions',
    'v3_server',
  ]);
  // Serve leaf + CA like a real server serves leaf + intermediate, so the certificate flight has a realistic size.
  const chain = (await readFile(f('server.pem'), 'utf8')) + (await readFile(f('ca.pem'), 'utf8'));
  await writeFile(f('server-chain.pem'), chain);
  return { ca: f('ca.pem'), chain: f('server-chain.pem'), key: f('server.key') };
}

async function startDnsmasq(
  registryNs: string,
  dir: string,
  names: string[],
  ipv6: boolean,
  track: (c: ChildProcess) => ChildProcess,
): Promise<void> {
  const args = [
    'netns',
    'exec',
    registryNs,
    findTool('dnsmasq')!,
    '--keep-in-foreground',
    '--conf-file=/dev/null', // ignore the machine's /etc/dnsmasq.conf
    '--no-resolv',
    '--no-hosts',
    '--no-poll', // no upstream, no /etc/hosts: only the names below exist
    '--local=/#/', // every other name is local-only, hence NXDOMAIN at once (never forwarded, never REFUSED)
    `--listen-address=${REGISTRY_IP}`,
    '--bind-interfaces',
    '--user=root', // it would drop to nobody, who cannot write the log in our 0700 temp dir
    `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
    `--log-facility=${path.join(dir, 'dnsmasq.log')}`,
    '--log-queries',
    // host-record is exact (no subdomains) and makes dnsmasq answer NODATA, not NXDOMAIN, for the other family.
    ...names.map((n) => `--host-record=${n},${REGISTRY_IP}${ipv6 ? `,${REGISTRY_IP6}` : ''}`),
  ];
  const child = track(spawnChild(ipTool(), args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  // dnsmasq has no readiness signal in the foreground: poll for its UDP socket on port 53.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`dnsmasq exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
    const ss = await run(ipTool(), ['netns', 'exec', registryNs, 'ss', '-Hlnu', 'sport = :53'], {});
    if (ss.stdout.includes(`${REGISTRY_IP}:53`)) return;
    await sleep(20);
  }
  throw new Error(`dnsmasq not listening on ${REGISTRY_IP}:53 after ${READY_TIMEOUT_MS} ms: ${stderr.trim()}`);
}

async function startRegistryServer(
  registryNs: string,
  dir: string,
  certs: Certs,
  groups: string | undefined,
  track: (c: ChildProcess) => ChildProcess,
): Promise<void> {
  const child = track(
    spawnChild(
      ipTool(),
      [
        'netns',
        'exec',
        registryNs,
        process.execPath,
        SERVER_SCRIPT,
        '--cert',
        certs.chain,
        '--key',
        certs.key,
        '--log',
        path.join(dir, 'server.log'),
        ...(groups ? ['--groups', groups] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: labEnv() },
    ),
  );
  let stdout = '';
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`registry server not ready after ${READY_TIMEOUT_MS} ms: ${stderr.trim()}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`registry server exited (${code ?? signal}) before it was ready: ${stderr.trim()}`));
    });
  });
}

/** Kill with SIGTERM, then SIGKILL if it has not exited after a second. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
  await exited;
  clearTimeout(timer);
}

/** Kill whatever still runs in the namespace (processes this lab started), then delete it and its /etc/netns dir. */
async function removeNamespace(n: string): Promise<void> {
  const pids = await run(ipTool(), ['netns', 'pids', n], {});
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await run(ipTool(), ['netns', 'del', n], {});
  await rm(path.join('/etc/netns', n), { recursive: true, force: true });
}

function removeNamespaceSync(n: string): void {
  const pids = spawnSync(ipTool(), ['netns', 'pids', n], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  spawnSync(ipTool(), ['netns', 'del', n]);
  rmSync(path.join('/etc/netns', n), { recursive: true, force: true });
}

/** Remove namespaces, temp dirs and temporary links left by lab processes that died without close(). */
function sweepStaleLabs(): void {
  const stale = (name: string): boolean => {
    const m = /^mtp(\d+)(x\d+)/.exec(name);
    if (!m) return false;
    const pid = Number(m[1]);
    // Our own pid: left by an earlier process that had the same pid, unless it is one of our open labs.
    if (pid === process.pid) return !livePrefixes.has(`mtp${m[1]}${m[2]}`);
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'EPERM';
    }
  };
  const nsList = spawnSync(ipTool(), ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of nsList.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (NS_PATTERN.test(name) && stale(name)) removeNamespaceSync(name);
  }
  for (const entry of readdirSync(os.tmpdir())) {
    if (TMP_DIR_PATTERN.test(entry) && stale(entry))
      rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
  const links = spawnSync(ipTool(), ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const [, name = ''] of links.matchAll(/^\d+: ([^:@\s]+)/gm)) {
    if (TEMP_LINK_PATTERN.test(name) && stale(name)) spawnSync(ipTool(), ['link', 'del', name]);
  }
}

process.once('exit', () => {
  for (const cleanup of openLabs) cleanup();
});

/** This process's environment without proxy settings (the lab has no proxy; a CI proxy would hijack requests). */
function labEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^((https?|all|no|ftp)_proxy|npm_config_(https_)?proxy|node_use_env_proxy)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(
  cmd: string,
  args: string[],
  o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string; track?: (c: ChildProcess) => ChildProcess },
): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawnChild(cmd, args, {
      env: o.env ?? labEnv(),
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    o.track?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Math.round(performance.now() - started),
      });
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

/** Run a setup command (optionally inside `ns` via `ip netns exec`) and throw with its stderr if it fails. */
async function must(cmd: string, args: string[], input?: string, ns?: string): Promise<string> {
  const full = ns ? ([ipTool(), ['netns', 'exec', ns, cmd, ...args]] as const) : ([cmd, args] as const);
  const r = await run(full[0], [...full[1]], { input });
  if (r.code !== 0)
    throw new Error(`lab setup failed: ${[cmd, ...args].join(' ')} -> exit ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

const toolCache = new Map<string, string | undefined>();
/** Absolute path of a tool: root's PATH usually has /usr/sbin, a CI user's may not. */
function findTool(name: string): string | undefined {
  if (!toolCache.has(name)) {
    const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean);
    toolCache.set(
      name,
      dirs
        .map((d) => path.join(d, name))
        .find((p) => {
          try {
            accessSync(p, fsConstants.X_OK);
            return true;
          } catch {
            return false;
          }
        }),
    );
  }
  return toolCache.get(name);
}

function ipTool(): string {
  const ip = findTool('ip');
  if (!ip) throw new Error('ip (iproute2) not found');
  return ip;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
