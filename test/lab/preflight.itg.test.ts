/**
 * Issue 2 end to end: the CLI in a runner namespace, a real TLS registry behind a router that holds
 * the bottleneck. Each scenario asserts what a user checks: exit code, verdict, finding codes, and
 * that the verdict came in time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab, type LabOptions } from './harness/lab.js';
import { codes, runCli } from './cli.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function withLab(opts: LabOptions): Promise<Lab> {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
  lab = await createLab(opts);
  return lab;
}

const big = (l: Lab, path = '/big.tgz') => [
  '--url',
  `https://${l.registryName}${path}`,
  '--registries',
  'none',
  '--ca-file',
  l.caFile,
  '--json',
];

describe('preflight in the lab', () => {
  it('healthy 1500 path: pass, exit 0, in under 3 s', async () => {
    const l = await withLab({});
    const r = await runCli(l, big(l));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.report?.verdict).toBe('pass');
    expect(r.report?.findings).toEqual([]);
    const p = r.report!.layers[0]!.probes[0]!;
    expect(p).toMatchObject({ outcome: 'ok', capped: true, address: l.registryIp });
    expect(p.phases.tlsMs).toBeGreaterThan(0);
    expect(r.report?.uplinkMtu).toBe(1500);
    expect(r.ms).toBeLessThan(3000);
  });

  it('black hole (1450 hop, ICMP frag-needed dropped): pmtu-blackhole, exit 1, in at most 10 s', async () => {
    const l = await withLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await runCli(l, big(l));
    expect(r.code).toBe(1);
    expect(r.report?.verdict).toBe('fail');
    expect(codes(r)).toContain('pmtu-blackhole');
    const p = r.report!.layers[0]!.probes[0]!;
    expect(p.outcome).toBe('stall');
    expect(p.phases.connectMs).toBeDefined(); // TCP connected: small packets pass
    expect(p.stall?.phase).toBe('tls'); // the certificate flight is what vanishes
    expect(p.tcpInfo?.rcvOooPack ?? 0).toBeGreaterThan(0); // its tail got through behind the gap
    expect(r.ms).toBeLessThanOrEqual(10_000);
  });

  it('the same 1450 hop with ICMP passing: PMTUD repairs it, pass', async () => {
    const l = await withLab({ bottleneckMtu: 1450 });
    const r = await runCli(l, big(l));
    expect(r.code).toBe(0);
    expect(r.report?.verdict).toBe('pass');
    expect(r.report!.layers[0]!.probes[0]!.outcome).toBe('ok');
    expect(r.report?.findings).toEqual([]);
    // The ICMP "fragmentation needed" goes to the server (whose segments were too big), so it is the
    // registry's kernel that learns 1450; the runner's own route keeps 1500.
    const learned = await l.execIn('registry', 'ip', ['route', 'get', l.runnerIp]);
    expect(learned.stdout).toMatch(/mtu 1450/);
    expect(r.report!.layers[0]!.uplinks[0]).toMatchObject({ effectiveMtu: 1500 });
  });

  it('an unresolvable name is dns-failure, never an MTU finding', async () => {
    const l = await withLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await runCli(l, [
      '--url',
      'https://rubygems.org/downloads/x.gem',
      '--registries',
      'none',
      '--ca-file',
      l.caFile,
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['dns-failure']);
    expect(r.report!.findings[0]!.summary).toContain('rubygems.org');
  });

  it('a closed port is connect-refused', async () => {
    const l = await withLab({});
    const r = await runCli(l, ['--url', `https://${l.registryName}:9443/x`, '--registries', 'none', '--json']);
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(['connect-refused']);
  });

  it('a slow link is never called pmtu-blackhole', async () => {
    const l = await withLab({ slowRate: '256kbit' });
    const r = await runCli(l, [...big(l), '--timeout', '8']);
    expect(codes(r)).not.toContain('pmtu-blackhole');
    expect(codes(r)).not.toContain('transfer-stall');
    expect(codes(r)).toContain('slow-transfer');
    expect(r.ms).toBeLessThan(8000 + 1500);
  });

  it('the catalog: npm, rubygems and pecl probed by name (lab DNS answers for them)', async () => {
    const l = await withLab({ names: ['registry.npmjs.org', 'rubygems.org', 'pecl.php.net'] });
    const r = await runCli(l, ['--registries', 'npm,rubygems,pecl', '--ca-file', l.caFile, '--json']);
    expect(r.code).toBe(0);
    expect(r.report!.layers[0]!.probes.map((p) => [p.target, p.outcome])).toEqual([
      ['npm', 'ok'],
      ['rubygems', 'ok'],
      ['pecl', 'ok'],
    ]);
  });

  it('the run ends by --timeout even when every probe hangs', async () => {
    const l = await withLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await runCli(l, [...big(l), '--timeout', '2', '--stall-timeout', '1.9']);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(2000 + 1200); // node start-up plus the deadline
    expect(r.report).toBeDefined();
  });

  it('text output names the hop and the fix', async () => {
    const l = await withLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await runCli(
      l,
      big(l).filter((a) => a !== '--json'),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/pmtu-blackhole/);
    expect(r.stdout).toMatch(/clamp-mss-to-pmtu/);
  });
});
