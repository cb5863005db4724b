/**
 * probeTarget over Node's own HTTP (src/probe/transport.ts) on loopback: a plain HTTP server and, in this process,
 * a CONNECT proxy (a stand-in for tinyproxy, which test/lab/proxy.itg.test.ts runs for real). What a user reads in
 * the report: the outcome, the phases, the codes a cut-short answer has always had, the proxy that was used.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTarget, type ProbeDeps } from '../../../src/probe/download.js';

let server: http.Server;
let proxy: http.Server;
let port = 0;
let proxyPort = 0;
const connects: Array<{ authority: string; auth?: string }> = [];

function listen(s: http.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/redirect') return res.writeHead(302, { location: '/big' }).end();
    if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': 1_000_000 });
      return res.write(Buffer.alloc(10_000), () => res.socket?.destroy());
    }
    if (req.url === '/headers') return res.writeHead(200, { 'x-big': 'a'.repeat(20_000) }).end();
    res.writeHead(200, { 'content-length': 200_000 }).end(Buffer.alloc(200_000, 0x61));
  });
  proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    connects.push({
      authority: req.url!,
      ...(req.headers['proxy-authorization'] ? { auth: req.headers['proxy-authorization'] } : {}),
    });
    if (!req.url!.endsWith(`:${port}`)) return client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const up = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      up.pipe(client).pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  port = await listen(server);
  proxyPort = await listen(proxy);
});

afterAll(async () => {
  server.closeAllConnections();
  proxy.closeAllConnections();
  await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => proxy.close(r))]);
});

const probe = (path: string, env: NodeJS.ProcessEnv = {}, host = '127.0.0.1') => {
  const deps: ProbeDeps = {
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    now: () => performance.now(),
    env,
  };
  const settings = { stallTimeoutMs: 2000, maxBytes: 100_000, deadline: performance.now() + 5000, insecure: false };
  return probeTarget({ id: 'url', name: 'url', url: `http://${host}:${port}${path}` }, settings, deps);
};

describe('direct', () => {
  it('a download to the byte cap, each phase timed, a redirect followed', async () => {
    const p = await probe('/redirect', {}, 'registry.test');
    expect(p).toMatchObject({ outcome: 'ok', status: 200, capped: true, address: '127.0.0.1', family: 4 });
    expect(p.redirects).toEqual([`http://registry.test:${port}/big`]);
    expect(p.bytes).toBeGreaterThanOrEqual(100_000);
    for (const k of ['dnsMs', 'connectMs', 'ttfbMs', 'doneMs'] as const) expect(p.phases[k]).toBeGreaterThan(0);
  });

  it('a body closed (FIN) short of its content-length: http-error with the code the report has always given', async () => {
    const p = await probe('/cut');
    expect(p.outcome).toBe('http-error');
    expect(p.bytes).toBeGreaterThan(0);
    expect(p.error?.code).toBe('UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
  });

  it('headers past the 16 KiB limit: http-error UND_ERR_HEADERS_OVERFLOW', async () => {
    expect(await probe('/headers')).toMatchObject({
      outcome: 'http-error',
      error: { code: 'UND_ERR_HEADERS_OVERFLOW' },
    });
  });
});

describe('through a proxy (CONNECT)', () => {
  it('HTTP_PROXY: tunnelled, credentials sent as Basic, viaProxy named without them, no address of ours', async () => {
    connects.length = 0;
    const p = await probe('/big', { HTTP_PROXY: `http://bot:p%40ss@127.0.0.1:${proxyPort}` }, 'registry.test');
    expect(p).toMatchObject({ outcome: 'ok', capped: true, viaProxy: `http://***:***@127.0.0.1:${proxyPort}/` });
    expect(p.address).toBeUndefined();
    expect(connects).toEqual([
      { authority: `registry.test:${port}`, auth: `Basic ${Buffer.from('bot:p@ss').toString('base64')}` },
    ]);
  });

  it('NO_PROXY: direct, the proxy sees nothing', async () => {
    connects.length = 0;
    const p = await probe('/big', { http_proxy: `http://127.0.0.1:${proxyPort}`, no_proxy: '.test' }, 'registry.test');
    expect(p).toMatchObject({ outcome: 'ok', address: '127.0.0.1' });
    expect(p.viaProxy).toBeUndefined();
    expect(connects).toEqual([]);
  });

  it('a refused tunnel: proxy-error naming the proxy’s answer', async () => {
    const env = { HTTP_PROXY: `http://127.0.0.1:${proxyPort}` };
    const p = await probeTarget(
      { id: 'url', name: 'url', url: 'http://registry.test:1/x' },
      { stallTimeoutMs: 2000, maxBytes: 1000, deadline: performance.now() + 5000, insecure: false },
      { lookup: async () => [{ address: '127.0.0.1', family: 4 }], now: () => performance.now(), env },
    );
    expect(p).toMatchObject({
      outcome: 'proxy-error',
      error: { message: expect.stringMatching(/Proxy response \(403\)/) },
    });
  });

  it('a dead proxy: proxy-error ECONNREFUSED', async () => {
    const dead = net.createServer();
    const deadPort = await listen(dead as unknown as http.Server);
    await new Promise((r) => dead.close(r));
    const p = await probe('/big', { HTTP_PROXY: `http://127.0.0.1:${deadPort}` });
    expect(p).toMatchObject({ outcome: 'proxy-error', error: { code: 'ECONNREFUSED' } });
  });
});
