import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  contextDirName,
  parseContextMeta,
  parseDockerConfig,
  parseDockerHost,
  resolveDockerEndpoint,
} from '../../../../src/collect/docker/endpoint.js';
import { EndpointError } from '../../../../src/model/errors.js';

describe('parseDockerHost', () => {
  it.each([
    [
      'unix:///var/run/docker.sock',
      undefined,
      { host: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock', origin: 'http://localhost' },
    ],
    [
      '/run/user/1000/docker.sock',
      undefined,
      { host: 'unix:///run/user/1000/docker.sock', socketPath: '/run/user/1000/docker.sock' },
    ],
    ['tcp://docker:2375', undefined, { host: 'tcp://docker:2375', origin: 'http://docker:2375' }],
    ['tcp://docker', undefined, { host: 'tcp://docker:2375', origin: 'http://docker:2375' }],
    [
      'tcp://docker:2376',
      { verify: true },
      { host: 'tcp://docker:2376', origin: 'https://docker:2376', tls: { verify: true } },
    ],
    ['tcp://docker', { verify: true }, { host: 'tcp://docker:2376', origin: 'https://docker:2376' }],
    ['tcp://[fd00::1]:2376', { verify: false }, { origin: 'https://[fd00::1]:2376' }],
  ] as const)('%s', (value, tls, want) => {
    expect(parseDockerHost(value, tls as never, 'DOCKER_HOST')).toMatchObject(want);
  });

  it.each([
    ['ssh://me@build-host', /ssh:\/\/ daemons are reached through the docker CLI/],
    ['npipe:////./pipe/docker_engine', /Windows named pipes/],
    ['unix://relative.sock', /unix:\/\/\/absolute\/path/],
    ['docker:2375', /is not unix:\/\/\/path or tcp:\/\/host:port/],
  ])('rejects %s with the reason', (value, msg) => {
    expect(() => parseDockerHost(value, undefined, 'DOCKER_HOST')).toThrow(EndpointError);
    expect(() => parseDockerHost(value, undefined, 'DOCKER_HOST')).toThrow(msg);
  });
});

describe('docker CLI config and contexts', () => {
  it('reads currentContext, ignoring default and broken files', () => {
    expect(parseDockerConfig('{"auths":{},"currentContext":"ci"}')).toEqual({ currentContext: 'ci' });
    expect(parseDockerConfig('{"currentContext":"default"}')).toEqual({});
    expect(parseDockerConfig('not json')).toEqual({});
  });

  it('reads a context meta.json as the CLI writes it', () => {
    const meta =
      '{"Name":"ci","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376","SkipTLSVerify":false}}}';
    expect(parseContextMeta(meta)).toEqual({ name: 'ci', host: 'tcp://10.0.0.5:2376', skipTlsVerify: false });
  });

  it('names context folders by the sha256 of the name (as docker context create does)', () => {
    expect(contextDirName('default')).toBe('37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f');
  });
});

describe('resolveDockerEndpoint', () => {
  const files = (map: Record<string, string>) => async (p: string) => map[p];

  it('uses DOCKER_HOST with the GitLab docker:dind TLS variables', async () => {
    const ep = await resolveDockerEndpoint({
      env: { DOCKER_HOST: 'tcp://docker:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs/client' },
      homedir: '/root',
      readFile: files({
        '/certs/client/ca.pem': 'CA',
        '/certs/client/cert.pem': 'CERT',
        '/certs/client/key.pem': 'KEY',
      }),
    });
    expect(ep).toEqual({
      host: 'tcp://docker:2376',
      source: 'DOCKER_HOST',
      origin: 'https://docker:2376',
      tls: { verify: true, ca: 'CA', cert: 'CERT', key: 'KEY' },
    });
  });

  it('falls back to the current docker context, then to /var/run/docker.sock', async () => {
    const dir = contextDirName('remote');
    const ep = await resolveDockerEndpoint({
      env: {},
      homedir: '/home/ci',
      readFile: files({
        '/home/ci/.docker/config.json': '{"currentContext":"remote"}',
        [path.join('/home/ci/.docker/contexts/meta', dir, 'meta.json')]:
          '{"Name":"remote","Endpoints":{"docker":{"Host":"unix:///run/remote.sock"}}}',
      }),
    });
    expect(ep).toMatchObject({
      host: 'unix:///run/remote.sock',
      source: 'docker context "remote"',
      socketPath: '/run/remote.sock',
    });
    const def = await resolveDockerEndpoint({ env: {}, homedir: '/home/ci', readFile: files({}) });
    expect(def).toMatchObject({ host: 'unix:///var/run/docker.sock', source: 'default' });
  });

  it('DOCKER_CONTEXT beats config.json; a context without meta is an error naming the file', async () => {
    await expect(
      resolveDockerEndpoint({
        env: { DOCKER_CONTEXT: 'gone', DOCKER_CONFIG: '/cfg' },
        homedir: '/x',
        readFile: files({ '/cfg/config.json': '{"currentContext":"other"}' }),
      }),
    ).rejects.toThrow(/docker context "gone" has no docker endpoint \(\/cfg\/contexts\/meta\/[0-9a-f]{64}\/meta.json/);
  });
});
