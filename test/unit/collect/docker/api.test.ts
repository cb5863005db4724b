/**
 * The Engine API client over a real unix socket (a stand-in daemon made here with node:http; the real dockerd is
 * exercised in test/lab/docker.itg.test.ts): JSON both ways, the daemon's message on an error status, the socket's
 * errno when there is no daemon, the deadline, and abortAll during a call that never answers.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient, describeUnreachable } from '../../../../src/collect/docker/api.js';

let dir: string;
let server: http.Server;
let sock: string;
const seen: Array<{ method?: string; url?: string; body: string; type?: string }> = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-api-'));
  sock = path.join(dir, 'docker.sock');
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, type: req.headers['content-type'] });
      if (req.url?.startsWith('/hang')) return; // never answers
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ message: 'No such container: x' }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, url: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const now = () => performance.now();
const client = () =>
  createDockerClient({ host: `unix://${sock}`, source: 'test', socketPath: sock, origin: 'http://localhost' }, now);

describe('createDockerClient over a unix socket', () => {
  it('sends JSON with the query, parses the JSON answer, on one kept-alive connection', async () => {
    const c = client();
    const r = await c.call<{ ok: boolean; url: string }>('POST', '/containers/create', {
      query: { name: 'p', skip: undefined },
      json: { Image: 'x' },
      deadline: now() + 2000,
    });
    expect(r).toEqual({ ok: true, url: '/containers/create?name=p' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"Image":"x"}', type: 'application/json' });
    await c.close();
  });

  it("an error status is HTTP_<status> with the daemon's message", async () => {
    const c = client();
    await expect(c.call('GET', '/missing', { deadline: now() + 2000 })).rejects.toMatchObject({
      code: 'HTTP_404',
      status: 404,
      message: 'GET /missing: 404 No such container: x',
    });
    await c.close();
  });

  it('no daemon: the socket’s errno, said in a user’s words', async () => {
    const missing = path.join(dir, 'none.sock');
    const c = createDockerClient(
      { host: `unix://${missing}`, source: 'test', socketPath: missing, origin: 'http://localhost' },
      now,
    );
    const err = await c.call('GET', '/_ping', { deadline: now() + 2000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOENT' });
    expect(describeUnreachable(err, `unix://${missing}`)).toBe(
      `docker: no daemon at unix://${missing} (the socket does not exist)`,
    );
    await c.close();
  });

  it('a call that never answers ends at its deadline (DEADLINE), and abortAll ends the others (CLOSED)', async () => {
    const c = client();
    await expect(c.call('GET', '/hang', { deadline: now() + 300 })).rejects.toMatchObject({ code: 'DEADLINE' });
    const pending = c.call('GET', '/hang2', { deadline: now() + 5000 });
    await new Promise((r) => setTimeout(r, 100));
    c.abortAll();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(c.call('GET', '/_ping', { deadline: now() + 1000 })).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(c.raw('GET', '/_ping', { deadline: now() + 1000, cleanup: true })).resolves.toMatchObject({
      status: 200,
    });
    await c.close();
  });
});
