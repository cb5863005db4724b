/**
 * The endpoints of desktop products, as their docker contexts and defaults name them. Context meta.json files are
 * written in the CLI's format (parseContextMeta); the hosts are the ones each product documents or creates: Docker
 * Desktop's context `desktop-linux` (docker/docs settings.md), colima's ~/.colima/<profile>/docker.sock (abiosoft/colima
 * environment/container/docker/context.go), the Windows pipe npipe:////./pipe/docker_engine (the CLI's default there;
 * containers/podman pkg/machine/machine_windows.go takes the same name for podman machine). Windows is not run here:
 * a named pipe is parsed, never connected to.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextDirName, parseDockerHost, resolveDockerEndpoint } from '../../../../src/collect/docker/endpoint.js';
import { EndpointError } from '../../../../src/model/errors.js';

const files = (map: Record<string, string>) => async (p: string) => map[p];
const context = (home: string, name: string, host: string) => ({
  [path.join(home, '.docker/config.json')]: JSON.stringify({ currentContext: name }),
  [path.join(home, '.docker/contexts/meta', contextDirName(name), 'meta.json')]: JSON.stringify({
    Name: name,
    Metadata: {},
    Endpoints: { docker: { Host: host, SkipTLSVerify: false } },
  }),
});

describe('Windows named pipes', () => {
  it('npipe:////./pipe/NAME is the pipe \\\\.\\pipe\\NAME on Windows', () => {
    expect(parseDockerHost('npipe:////./pipe/docker_engine', undefined, 'DOCKER_HOST', 'win32')).toEqual({
      host: 'npipe:////./pipe/docker_engine',
      source: 'DOCKER_HOST',
      socketPath: '\\\\.\\pipe\\docker_engine',
      origin: 'http://localhost',
    });
  });

  it('elsewhere it is refused with the reason; a malformed pipe is refused on Windows too', () => {
    expect(() => parseDockerHost('npipe:////./pipe/docker_engine', undefined, 'DOCKER_HOST', 'linux')).toThrow(
      "DOCKER_HOST 'npipe:////./pipe/docker_engine': Windows named pipes are reachable only from Windows (this is linux)",
    );
    expect(() => parseDockerHost('npipe://docker_engine', undefined, 'DOCKER_HOST', 'win32')).toThrow(EndpointError);
  });

  it('on Windows with nothing set, the default is the docker_engine pipe', async () => {
    const ep = await resolveDockerEndpoint({
      env: {},
      homedir: 'C:\\Users\\me',
      readFile: files({}),
      platform: 'win32',
    });
    expect(ep).toMatchObject({
      host: 'npipe:////./pipe/docker_engine',
      source: 'default',
      socketPath: '\\\\.\\pipe\\docker_engine',
    });
  });

  it("Docker Desktop's desktop-linux context on Windows (its own pipe)", async () => {
    const ep = await resolveDockerEndpoint({
      env: {},
      homedir: '/home/me',
      readFile: files(context('/home/me', 'desktop-linux', 'npipe:////./pipe/dockerDesktopLinuxEngine')),
      platform: 'win32',
    });
    expect(ep).toMatchObject({
      source: 'docker context "desktop-linux"',
      socketPath: '\\\\.\\pipe\\dockerDesktopLinuxEngine',
    });
  });
});

describe('macOS contexts', () => {
  it("Docker Desktop's desktop-linux and colima's contexts are unix sockets in the home folder", async () => {
    const dd = await resolveDockerEndpoint({
      env: {},
      homedir: '/Users/me',
      readFile: files(context('/Users/me', 'desktop-linux', 'unix:///Users/me/.docker/run/docker.sock')),
      platform: 'darwin',
    });
    expect(dd).toMatchObject({
      socketPath: '/Users/me/.docker/run/docker.sock',
      source: 'docker context "desktop-linux"',
    });
    const colima = await resolveDockerEndpoint({
      env: {},
      homedir: '/Users/me',
      readFile: files(context('/Users/me', 'colima', 'unix:///Users/me/.colima/default/docker.sock')),
      platform: 'darwin',
    });
    expect(colima).toMatchObject({ socketPath: '/Users/me/.colima/default/docker.sock' });
  });
});
