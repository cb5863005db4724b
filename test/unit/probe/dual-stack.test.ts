/**
 * probeEachFamily over loopback (::1 and 127.0.0.1, nothing else): a dual-stack name is probed once per family from
 * one lookup; a family that cannot connect while the other does is a note, not a probe; a name with one family, an
 * address literal, or a pinned family gives one probe.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeEachFamily } from '../../../src/probe/dual-stack.js';
import type { LookupAddress, ProbeDeps, ProbeSettings } from '../../../src/probe/download.js';
import { createHelperResolver } from '../../../src/probe/resolver.js';

const BODY = Buffer.alloc(64 * 1024, 0x61);
let dual: http.Server;
let v4only: http.Server;
let dualPort = 0;
let v4Port = 0;

function listen(server: http.Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

beforeAll(async () => {
  const handler: http.RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-length': BODY.length });
    res.end(BODY);
  };
  dual = http.createServer(handler);
  v4only = http.createServer(handler);
  dualPort = await listen(dual, '::');
  v4Port = await listen(v4only, '127.0.0.1');
});

afterAll(async () => {
  dual.closeAllConnections();
  v4only.closeAllConnections();
  await Promise.all([new Promise((r) => dual.close(r)), new Promise((r) => v4only.close(r))]);
});

const BOTH: LookupAddress[] = [
  { address: '::1', family: 6 },
  { address: '127.0.0.1', family: 4 },
];

function setup(answers: Record<string, LookupAddress[]>, settings: Partial<ProbeSettings> = {}) {
  const asked: string[] = [];
  const deps: ProbeDeps = {
    lookup: async (host) => {
      asked.push(host);
      const a = answers[host];
      if (!a) throw Object.assign(new Error(`no ${host}`), { code: 'ENOTFOUND' });
      return a;
    },
    now: () => performance.now(),
    env: {},
  };
  const s: ProbeSettings = {
    stallTimeoutMs: 2000,
    maxBytes: 16 * 1024,
    deadline: performance.now() + 5000,
    insecure: false,
    ...settings,
  };
  return { deps, settings: s, asked };
}

describe('probeEachFamily', () => {
  it('probes a dual-stack name over both families from one lookup, getaddrinfo order first', async () => {
    const { deps, settings, asked } = setup({ 'dual.test': BOTH });
    const r = await probeEachFamily({ id: 'url', name: 'url', url: `http://dual.test:${dualPort}/f` }, settings, deps);
    expect(r.probes.map((p) => [p.family, p.address, p.outcome])).toEqual([
      [6, '::1', 'ok'],
      [4, '127.0.0.1', 'ok'],
    ]);
    expect(r.notes).toEqual([]);
    expect(asked).toEqual(['dual.test']);
  });

  it('drops a family that cannot connect while the other did, with a note saying why', async () => {
    const { deps, settings } = setup({ 'dual.test': BOTH });
    const r = await probeEachFamily({ id: 'url', name: 'url', url: `http://dual.test:${v4Port}/f` }, settings, deps);
    expect(r.probes.map((p) => [p.family, p.outcome])).toEqual([[4, 'ok']]);
    expect(r.notes).toEqual([
      `dual.test over IPv6 (::1) could not connect (ECONNREFUSED) while IPv4 did: clients fall back to the family that connects, so only that one was judged`,
    ]);
  });

  it('keeps both when neither family connects', async () => {
    const { deps, settings } = setup({ 'dual.test': BOTH });
    // A port that was free a moment ago: nothing listens on it over either family.
    const srv = http.createServer();
    const port = await listen(srv, '::');
    await new Promise((r) => srv.close(r));
    const r = await probeEachFamily({ id: 'url', name: 'url', url: `http://dual.test:${port}/f` }, settings, deps);
    expect(r.probes.map((p) => [p.family, p.outcome])).toEqual([
      [6, 'connect-refused'],
      [4, 'connect-refused'],
    ]);
  });

  it.each([
    ['a name with one family', 'v4.test', {}],
    ['an address literal', '127.0.0.1', {}],
    ['a pinned family', 'dual.test', { family: 4 as const }],
  ])('%s: one probe', async (_name, host, extra) => {
    const { deps, settings } = setup({ 'dual.test': BOTH, 'v4.test': [{ address: '127.0.0.1', family: 4 }] }, extra);
    const r = await probeEachFamily({ id: 'url', name: 'url', url: `http://${host}:${dualPort}/f` }, settings, deps);
    expect(r.probes.map((p) => [p.family, p.outcome])).toEqual([[4, 'ok']]);
  });

  it('a failed lookup is one dns-failure probe', async () => {
    const { deps, settings } = setup({});
    const r = await probeEachFamily(
      { id: 'url', name: 'url', url: `http://nowhere.test:${dualPort}/f` },
      settings,
      deps,
    );
    expect(r.probes.map((p) => p.outcome)).toEqual(['dns-failure']);
  });
});

describe('createHelperResolver (getaddrinfo in a helper process)', () => {
  it('answers like dns.lookup, with its error codes, and stops when closed', async () => {
    const resolver = createHelperResolver();
    try {
      const addrs = await resolver.lookup('localhost');
      expect(addrs.map((a) => a.address)).toContain('127.0.0.1');
      expect(addrs.every((a) => a.family === 4 || a.family === 6)).toBe(true);
      const err = await resolver.lookup('no-such-host.invalid').catch((e: NodeJS.ErrnoException) => e);
      expect((err as NodeJS.ErrnoException).code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    } finally {
      resolver.close();
    }
    // After close, a lookup never settles (the run is over); it must not throw or hang the caller's event loop.
    let settled = false;
    void resolver.lookup('localhost').then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
  });

  it('falls back to an in-process lookup when the helper cannot start', async () => {
    const resolver = createHelperResolver({ execPath: '/nonexistent/node' });
    try {
      const addrs = await resolver.lookup('localhost');
      expect(addrs.map((a) => a.address)).toContain('127.0.0.1');
    } finally {
      resolver.close();
    }
  });
});
