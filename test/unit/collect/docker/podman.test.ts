/**
 * Podman and rootless engines through the Docker API: the engine named from GET /version's Components, rootless from
 * GET /info, Podman's `mtu` option, the sockets looked for, and a Podman socket that lacks an endpoint (a fake
 * HTTP server on a unix socket in a temp dir). The answers' shapes follow podman pkg/api/handlers/compat (v4.3.1:
 * version.go, info.go, networks.go) and what the lab's real Podman 4.3.1 answered (test/lab/podman.itg.test.ts).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../../../src/collect/docker/api.js';
import { parseEngine, parseLibpodNetworks, parseRootless } from '../../../../src/collect/docker/engine.js';
import { resolveDockerEndpoint } from '../../../../src/collect/docker/endpoint.js';
import { inspectDaemon, parseNetworkInspect } from '../../../../src/collect/docker/inspect.js';
import { EndpointError } from '../../../../src/model/errors.js';

const PODMAN_VERSION = {
  Platform: { Name: 'linux/amd64/debian-12' },
  Components: [
    { Name: 'Podman Engine', Version: '4.3.1', Details: { APIVersion: '4.3.1', Os: 'linux' } },
    { Name: 'Conmon', Version: 'conmon version 2.1.6', Details: {} },
  ],
  Version: '4.3.1',
  ApiVersion: '1.41',
  Os: 'linux',
};

describe('the engine behind the API', () => {
  it('names Podman from its component, dockerd from "Engine", nothing from an answer without Components', () => {
    expect(parseEngine(PODMAN_VERSION)).toEqual({ name: 'podman', version: '4.3.1' });
    expect(parseEngine({ Components: [{ Name: 'Engine', Version: '20.10.24' }] })).toEqual({
      name: 'docker',
      version: '20.10.24',
    });
    expect(parseEngine({ Version: '20.10.24' })).toBeUndefined();
    expect(parseEngine(null)).toBeUndefined();
  });

  it('reads rootless from dockerd SecurityOptions and from Podman Rootless', () => {
    expect(parseRootless({ SecurityOptions: ['name=seccomp,profile=builtin', 'name=rootless'] })).toBe(true);
    expect(parseRootless({ Rootless: true, SecurityOptions: ['name=seccomp,profile=default'] })).toBe(true);
    expect(parseRootless({ SecurityOptions: ['name=seccomp,profile=default'] })).toBe(false);
  });

  it("reads Podman's mtu option (and the Docker one where given), never a bridge name from the compat answer", () => {
    const n = parseNetworkInspect(
      { Name: 'lab', Id: 'ab'.repeat(32), Driver: 'bridge', Options: { mtu: '1450' } },
      true,
    );
    expect(n).toMatchObject({ name: 'lab', mtuOption: 1450, mtu: 1450 });
    expect(n?.bridge).toBeUndefined();
    // The same option on a dockerd network means nothing there.
    expect(parseNetworkInspect({ Name: 'lab', Id: 'x', Driver: 'bridge', Options: { mtu: '1450' } })?.mtu).toBe(1500);
    expect(parseLibpodNetworks([{ name: 'podman', network_interface: 'podman0', options: {} }])).toEqual([
      { name: 'podman', iface: 'podman0' },
    ]);
  });
});

describe('the sockets', () => {
  const io = (env: NodeJS.ProcessEnv, present: string[] = []) => ({
    env,
    homedir: '/home/u',
    readFile: () => Promise.resolve(undefined),
    exists: (p: string) => Promise.resolve(present.includes(p)),
  });

  it('DOCKER_HOST wins, then CONTAINER_HOST, then the first socket that exists', async () => {
    const env = { DOCKER_HOST: 'unix:///run/podman/podman.sock', CONTAINER_HOST: 'unix:///x.sock' };
    expect(await resolveDockerEndpoint(io(env))).toMatchObject({
      socketPath: '/run/podman/podman.sock',
      source: 'DOCKER_HOST',
    });
    expect(await resolveDockerEndpoint(io({ CONTAINER_HOST: 'unix:///x.sock' }))).toMatchObject({
      socketPath: '/x.sock',
      source: 'CONTAINER_HOST',
    });
    const xdg = { XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(
      await resolveDockerEndpoint(io(xdg, ['/run/user/1000/podman/podman.sock', '/run/podman/podman.sock'])),
    ).toMatchObject({
      socketPath: '/run/user/1000/podman/podman.sock',
      source: 'rootless Podman socket ($XDG_RUNTIME_DIR)',
    });
    expect(await resolveDockerEndpoint(io(xdg, ['/run/podman/podman.sock']))).toMatchObject({
      socketPath: '/run/podman/podman.sock',
    });
    expect(await resolveDockerEndpoint(io(xdg, ['/run/user/1000/docker.sock']))).toMatchObject({
      source: 'rootless Docker socket ($XDG_RUNTIME_DIR)',
    });
    expect(await resolveDockerEndpoint(io(xdg))).toMatchObject({
      host: 'unix:///var/run/docker.sock',
      source: 'default',
    });
  });

  it('an ssh:// CONTAINER_HOST is refused with a sentence saying why (podman remote over ssh is not reachable here)', async () => {
    const err = await resolveDockerEndpoint(
      io({ CONTAINER_HOST: 'ssh://core@127.0.0.1:2222/run/podman/podman.sock' }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointError);
    expect((err as Error).message).toMatch(/^CONTAINER_HOST 'ssh:\/\/.*': ssh:\/\/ daemons are reached through/);
  });
});

describe('a Podman socket that lacks an endpoint dockerd has', () => {
  let dir: string | undefined;
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (dir) await rm(dir, { recursive: true, force: true });
    server = dir = undefined;
  });

  async function fakePodman(answers: Record<string, [number, unknown]>) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mtu-podman-'));
    const socketPath = path.join(dir, 'podman.sock');
    server = http.createServer((req, res) => {
      const [status, body] = answers[(req.url ?? '').split('?')[0]!] ?? [
        404,
        { cause: 'not found', message: 'not found' },
      ];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server!.listen(socketPath, r));
    return createDockerClient(
      { host: `unix://${socketPath}`, source: 'test', socketPath, origin: 'http://localhost' },
      () => performance.now(),
    );
  }

  it('a 404 on /info and on the libpod API: the inspection stands, with a note naming each', async () => {
    const api = await fakePodman({
      '/version': [200, PODMAN_VERSION],
      '/networks': [200, [{ Name: 'bridge', Id: 'cd'.repeat(32), Driver: 'bridge', Options: {} }]],
    });
    const i = await inspectDaemon(api, performance.now() + 5000);
    await api.close();
    expect(i.version.engine).toEqual({ name: 'podman', version: '4.3.1' });
    expect(i.networks.map((n) => [n.name, n.isDefault, n.mtu])).toEqual([['bridge', true, 1500]]);
    expect(i.notes?.join('\n')).toMatch(/GET \/info failed .*swarm and rootless state not known/);
    expect(i.notes?.join('\n')).toMatch(/GET \/libpod\/networks\/json failed .*bridges are not named/);
  });

  it('a 500 on /networks: a DockerApiError the collector turns into one line, never a crash', async () => {
    const api = await fakePodman({ '/version': [200, PODMAN_VERSION], '/networks': [500, { message: 'boom' }] });
    const err = await inspectDaemon(api, performance.now() + 5000).catch((e: unknown) => e);
    await api.close();
    expect((err as Error).message).toMatch(/networks.*500|500.*networks|boom/);
  });
});
