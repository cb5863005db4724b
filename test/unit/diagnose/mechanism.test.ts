/**
 * The mechanism a probe's socket and route state show, over `ip route get`, `ip -o route show cache` and `ss -tin`
 * captured in the lab (test/fixtures/<scenario>/, by a runner namespace behind the lab router):
 *  - upstream-1400-icmp-to-runner-only: a 1400 hop both ways, ICMP reaching the runner only; the route exception
 *    after a Node TLS connection, and a later download advertising the smaller MSS;
 *  - upstream-1400-mss-clamp: the same hop, no ICMP at all, the router clamping SYNs (nft `maxseg size set rt mtu`);
 *  - last-hop-1450-pmtud: a 1450 hop toward the runner, ICMP reaching the registry (PMTUD toward the server).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpRouteGetExpiry, parseRouteExceptions, resolveUplink } from '../../../src/collect/host/routes.js';
import { judgeMechanism, mechanismLine } from '../../../src/diagnose/mechanism.js';
import type { NetInterface, ProbeResult } from '../../../src/model/report.js';
import { parseSsTcpInfo } from '../../../src/probe/tcp-info.js';

const fixture = (scenario: string, file: string) =>
  readFileSync(path.join(import.meta.dirname, '../../fixtures', scenario, file), 'utf8');
const ETH0: NetInterface[] = [{ name: 'eth0', mtu: 1500, state: 'up', kind: 'veth' }];
const REGISTRY = { address: '10.213.2.2', port: 443 };

function probe(outcome: ProbeResult['outcome'], ss?: string): ProbeResult {
  const tcpInfo = ss === undefined ? undefined : parseSsTcpInfo(ss, REGISTRY);
  return {
    target: 'url',
    url: 'https://registry.lab.test/blob',
    host: 'registry.lab.test',
    address: REGISTRY.address,
    outcome,
    phases: {},
    bytes: outcome === 'ok' ? 8388608 : 0,
    capped: outcome === 'ok',
    samples: [],
    ...(tcpInfo ? { tcpInfo } : {}),
  };
}

function uplink(scenario: string, before: string) {
  const get = parseIpRouteGetExpiry(fixture(scenario, 'ip-route-get.txt'));
  return resolveUplink('registry.lab.test', REGISTRY.address, [], ETH0, get, parseRouteExceptions(before));
}

describe('route exceptions', () => {
  it('lists a learned path MTU with its expiry; an empty cache lists none; busybox prints routes, not exceptions', () => {
    expect(parseRouteExceptions(fixture('upstream-1400-icmp-to-runner-only', 'ip-route-show-cache.txt'))).toEqual([
      { address: '10.213.2.2', mtu: 1400, expiresSec: 597 },
    ]);
    expect(parseRouteExceptions(fixture('upstream-1400-mss-clamp', 'ip-route-show-cache.txt'))).toEqual([]);
    expect(parseRouteExceptions('default via 10.213.1.1 dev eth0 \n10.213.2.2 via 10.213.1.1 dev eth0 \n')).toEqual([]);
  });

  it('an exception absent before the probes was learned during this run; one there before, earlier', () => {
    const scenario = 'upstream-1400-icmp-to-runner-only';
    const learned = uplink(scenario, fixture(scenario, 'ip-route-show-cache-before.txt'))!;
    expect(learned).toMatchObject({ ifaceMtu: 1500, cachedPmtu: 1400, effectiveMtu: 1400, pmtuExpiresSec: 597 });
    expect(learned.pmtuLearned).toBe('this-run');
    // The interface's MTU and the path's apart; no claim that PMTUD works.
    expect(learned.explanation).toBe(
      'a route exception: the kernel learned a path MTU of 1400 to 10.213.2.2 from ICMP during this run',
    );
    const left = uplink(scenario, fixture(scenario, 'ip-route-show-cache.txt'))!;
    expect(left.pmtuLearned).toBe('earlier');
  });
});

describe('which mechanism the socket shows', () => {
  it('a stall with a route exception learned on the way out: PMTUD only outbound', () => {
    const scenario = 'upstream-1400-icmp-to-runner-only';
    const u = uplink(scenario, '');
    expect(judgeMechanism(probe('stall'), u)).toEqual({ kind: 'pmtud-outbound-only', pmtu: 1400, learned: 'this-run' });
  });

  it('a later download that advertised the exception-sized MSS worked only because of it', () => {
    const scenario = 'upstream-1400-icmp-to-runner-only';
    const p = probe('ok', fixture(scenario, 'ss-tin-download.txt'));
    expect(p.tcpInfo).toMatchObject({ advMss: 1348, sndMss: 1348, pmtu: 1400 });
    const m = judgeMechanism(p, uplink(scenario, ''));
    expect(m).toEqual({ kind: 'learned-mss', advMss: 1348, pmtu: 1400, learned: 'this-run' });
    expect(mechanismLine('runner', m)).toMatch(/full-size packets were not shown to pass/);
  });

  it('a clamped SYN: the server sends with an MSS below ours and no exception: MSS clamping, not PMTUD', () => {
    const scenario = 'upstream-1400-mss-clamp';
    const m = judgeMechanism(probe('ok', fixture(scenario, 'ss-tin-download.txt')), uplink(scenario, ''));
    expect(m).toEqual({ kind: 'mss-clamp', serverMss: 1348, advMss: 1448 });
    expect(mechanismLine('runner', m)).toMatch(/^runner: MSS clamping on the path.*not PMTUD$/);
  });

  it('segments arriving smaller than our MSS while the server kept our MSS: PMTUD toward the server', () => {
    const scenario = 'last-hop-1450-pmtud';
    const m = judgeMechanism(probe('ok', fixture(scenario, 'ss-tin-download.txt')), uplink(scenario, ''));
    expect(m).toEqual({ kind: 'pmtud', rcvMss: 1398, advMss: 1448 });
  });

  it('no socket state (a container without ss) is unknown, never PMTUD', () => {
    expect(judgeMechanism(probe('ok'), uplink('upstream-1400-mss-clamp', ''))).toEqual({ kind: 'unknown' });
  });
});
