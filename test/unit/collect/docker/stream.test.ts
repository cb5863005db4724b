import { describe, expect, it } from 'vitest';
import { decodeProbeConfig, encodeProbeConfig, findProbeOutput } from '../../../../src/collect/docker/protocol.js';
import { demuxLogs, parseBuildStream, pullError } from '../../../../src/collect/docker/stream.js';

const frame = (stream: 1 | 2, text: string) => {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
};

describe('demuxLogs', () => {
  it('splits the 8-byte-header stream into stdout and stderr, in order', () => {
    const buf = Buffer.concat([frame(1, 'hello '), frame(2, 'warn\n'), frame(1, 'world\n')]);
    expect(demuxLogs(buf)).toEqual({ stdout: 'hello world\n', stderr: 'warn\n' });
  });

  it('keeps a frame cut short by the end of the body', () => {
    const buf = frame(1, 'abcdef').subarray(0, 11);
    expect(demuxLogs(buf).stdout).toBe('abc');
  });

  it('treats a body without frame headers as a TTY stream', () => {
    expect(demuxLogs(Buffer.from('{"a":1}\n'))).toEqual({ stdout: '{"a":1}\n', stderr: '' });
  });
});

describe('build and pull streams', () => {
  const ok = [
    '{"stream":"Step 1/5 : FROM mtp-probe:lab"}',
    '{"stream":"\\n"}',
    '{"stream":" ---\\u003e 0b1c2d\\n"}',
    '{"stream":"Step 5/5 : RUN [\\"node\\", \\"/probe/probe.mjs\\", \\"eyJ2\\"]\\n"}',
    '{"stream":" ---\\u003e Running in 3f2e\\n"}',
    '{"stream":"\\n{\\"mtuPreflightProbe\\":1,\\"node\\":\\"v24.21.0\\",\\"interfaces\\":[],\\"uplinks\\":[],\\"probes\\":[],\\"notes\\":[]}\\n"}',
    '{"stream":"Removing intermediate container 3f2e\\n"}',
    '{"aux":{"ID":"sha256:abc"}}',
    '{"stream":"Successfully built abc\\n"}',
  ].join('\r\n');

  it('collects the RUN output and the image id', () => {
    const b = parseBuildStream(ok);
    expect(b.imageId).toBe('sha256:abc');
    expect(b.error).toBeUndefined();
    expect(findProbeOutput(b.output)).toMatchObject({ mtuPreflightProbe: 1, node: 'v24.21.0' });
  });

  it('reports the daemon error of a failed build', () => {
    const b = parseBuildStream(
      '{"stream":"Step 1/4 : FROM nope:1"}\n{"errorDetail":{"message":"pull access denied for nope"},"error":"pull access denied for nope"}\n',
    );
    expect(b.error).toBe('pull access denied for nope');
  });

  it('finds the error in a pull stream', () => {
    expect(
      pullError(
        '{"status":"Pulling from library/node"}\n{"errorDetail":{"message":"Get \\"https://registry-1.docker.io/v2/\\": dial tcp: lookup registry-1.docker.io: no such host"},"error":"x"}\n',
      ),
    ).toMatch(/no such host/);
    expect(pullError('{"status":"Status: Image is up to date for node:24-alpine"}\n')).toBeUndefined();
  });
});

describe('probe protocol', () => {
  it('round-trips the config through one argv word', () => {
    const c = {
      v: 1 as const,
      targets: [{ id: 'url', name: 'r', url: 'https://registry.lab.test/x?bytes=1' }],
      stallTimeoutMs: 3000,
      maxBytes: 2_000_000,
      budgetMs: 9000,
      insecure: false,
    };
    const word = encodeProbeConfig(c);
    expect(word).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeProbeConfig(word)).toEqual(c);
    expect(() => decodeProbeConfig(encodeProbeConfig({ ...c, v: 2 as never }))).toThrow(/protocol 1/);
  });

  it('takes the last answer line and ignores other output', () => {
    const text =
      'npm notice\n{"mtuPreflightProbe":1,"node":"a","interfaces":[],"uplinks":[],"probes":[],"notes":[]}\n{"mtuPreflightProbe":1,"node":"b","interfaces":[],"uplinks":[],"probes":[],"notes":[]}\n{"other":1}\n';
    expect(findProbeOutput(text)?.node).toBe('b');
    expect(findProbeOutput('{"mtuPreflightProbe":1,"node":')).toBeUndefined();
  });
});
