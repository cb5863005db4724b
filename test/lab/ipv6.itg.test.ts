/**
 * Issue 5: IPv6. A target reachable only over IPv6 (a name with only an AAAA answer, and an address literal), and a
 * dual-stack name whose IPv6 path silently drops packets over 1280 bytes (a tunnel without "packet too big") while
 * IPv4 works: the probe says which family it used, a dual-stack name is probed per family
 * (src/probe/dual-stack.ts), and the finding names the family whose path is broken.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
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

const args = (l: Lab, url: string) => [
  '--url',
  url,
  '--registries',
  'none',
  '--ca-file',
  l.caFile,
  '--docker',
  'off',
  '--json',
  '--timeout',
  '8',
  '--stall-timeout',
  '2',
];

describe('IPv6', () => {
  it('a target reachable only over IPv6 (AAAA-only name, and the address literal): probed over IPv6, pass', async () => {
    const l = await withLab({ ipv6: true, names: ['v6only.lab.test'] });
    // /etc/netns/<runner>/hosts is bind-mounted over /etc/hosts by `ip netns exec`: the name gets only its AAAA there
    // (NSS stops at the hosts file), and the lab DNS is never asked.
    await appendFile(path.join('/etc/netns', l.runnerNs, 'hosts'), `${l.registryIp6}\tv6only.lab.test\n`);
    for (const url of ['https://v6only.lab.test/big.tgz', `https://[${l.registryIp6}]/big.tgz`]) {
      const r = await runCli(l, args(l, url));
      expect(r.code, JSON.stringify(r.report?.findings)).toBe(0);
      expect(r.report!.findings).toEqual([]);
      const probes = r.report!.layers[0]!.probes;
      expect(probes).toHaveLength(1); // one family: nothing to compare
      expect(probes[0]).toMatchObject({ outcome: 'ok', family: 6, address: l.registryIp6, capped: true });
      expect(r.report!.layers[0]!.uplinks[0]).toMatchObject({
        address: l.registryIp6,
        iface: 'eth0',
        effectiveMtu: 1500,
      });
    }
  });

  it('a dual-stack name whose IPv6 path black-holes full-size packets while IPv4 works: both probed, the finding names IPv6', async () => {
    const l = await withLab({ ipv6: true });
    // In the router: IPv6 packets over 1280 bytes toward the runner vanish, with no ICMPv6 "packet too big" (what a
    // tunnel or an L2 hop with a smaller MTU does). IPv4 is untouched.
    const nft = (...a: string[]) => l.execIn('router', 'nft', a);
    await nft('add', 'table', 'inet', 'mtp_v6hole');
    await nft(
      'add',
      'chain',
      'inet',
      'mtp_v6hole',
      'forward',
      '{ type filter hook forward priority 0 ; policy accept ; }',
    );
    const rule = await nft(
      'add',
      'rule',
      'inet',
      'mtp_v6hole',
      'forward',
      'meta',
      'nfproto',
      'ipv6',
      'ip6',
      'daddr',
      'fd00:213:1::/64',
      'meta',
      'length',
      'gt',
      '1280',
      'counter',
      'drop',
    );
    expect(rule.code, rule.stderr).toBe(0);

    const r = await runCli(l, args(l, `https://${l.registryName}/big.tgz`));
    expect(r.code, r.stderr).toBe(1);
    const probes = r.report!.layers[0]!.probes;
    expect(probes.map((p) => [p.family, p.address, p.outcome]).sort()).toEqual([
      [4, l.registryIp, 'ok'],
      [6, l.registryIp6, 'stall'],
    ]);
    const v6 = probes.find((p) => p.family === 6)!;
    expect(v6.stall?.phase).toBe('tls'); // the certificate flight is what vanishes
    expect(v6.phases.connectMs).toBeDefined();
    expect(codes(r)).toEqual(['pmtu-blackhole']); // the kernel saw the flight's tail behind the gap
    const f = r.report!.findings[0]!;
    expect(f.summary).toMatch(/^registry\.lab\.test over IPv6: TCP connected, then the TLS handshake stalled/);
    expect(f.evidence.join('\n')).toMatch(
      /registry\.lab\.test over IPv4 \(10\.213\.2\.2\) downloaded fine while IPv6 \(fd00:213:2::2\) stalled/,
    );
    expect(f.fix?.steps.map((s) => s.snippet).join('\n')).toMatch(
      /ip -6 route change default via fd00:213:1::1 dev eth0 advmss 1340/,
    );
    expect(r.ms).toBeLessThanOrEqual(8000 + 1500);

    const text = await runCli(
      l,
      args(l, `https://${l.registryName}/big.tgz`).filter((a) => a !== '--json'),
    );
    expect(text.stdout).toMatch(/registry\.lab\.test \(IPv6\)\s+stall/);
    expect(text.stdout).toMatch(/pmtu-blackhole/);
    expect((await nft('list', 'table', 'inet', 'mtp_v6hole')).stdout).toMatch(/counter packets [1-9]/);
  });

  it('a dual-stack name with both paths healthy: two probes, pass', async () => {
    const l = await withLab({ ipv6: true });
    const r = await runCli(l, args(l, `https://${l.registryName}/big.tgz`));
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.layers[0]!.probes.map((p) => [p.family, p.outcome]).sort()).toEqual([
      [4, 'ok'],
      [6, 'ok'],
    ]);
    expect(r.report!.findings).toEqual([]);
  });

  it('a name with both records on a runner whose IPv6 cannot connect: judged over IPv4, the IPv6 attempt is a note, pass', async () => {
    const l = await withLab({ ipv6: true });
    // The registry stops answering on IPv6 (TCP RST for every SYN): what Happy Eyeballs falls back from.
    const nft = (...a: string[]) => l.execIn('registry', 'nft', a);
    await nft('add', 'table', 'inet', 'mtp_v6refuse');
    await nft(
      'add',
      'chain',
      'inet',
      'mtp_v6refuse',
      'input',
      '{ type filter hook input priority 0 ; policy accept ; }',
    );
    await nft(
      'add',
      'rule',
      'inet',
      'mtp_v6refuse',
      'input',
      'meta',
      'nfproto',
      'ipv6',
      'tcp',
      'dport',
      '443',
      'reject',
      'with',
      'tcp',
      'reset',
    );
    const r = await runCli(l, args(l, `https://${l.registryName}/big.tgz`));
    expect(r.code, r.stderr).toBe(0);
    expect(r.report!.layers[0]!.probes.map((p) => [p.family, p.outcome])).toEqual([[4, 'ok']]);
    expect(r.report!.layers[0]!.notes.join('\n')).toMatch(
      /registry\.lab\.test over IPv6 \(fd00:213:2::2\) could not connect \(ECONNREFUSED\) while IPv4 did/,
    );
  });
});
