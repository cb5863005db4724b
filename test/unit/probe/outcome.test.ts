import { describe, expect, it } from 'vitest';
import { classifyProbeEnd, describeThrown, type ProbeEnd, type ProbeVerdict } from '../../../src/probe/outcome.js';

/** A direct https probe of registry.npmjs.org that resolved, connected and finished its TLS handshake. */
const BASE: ProbeEnd = {
  host: 'registry.npmjs.org',
  address: '104.16.1.34',
  phase: 'body',
  connected: true,
  bytes: 0,
  viaProxy: false,
  end: { status: 200 },
};
const thrown = (code: string | undefined, message = 'boom', causeCode?: string): ProbeEnd['end'] => ({
  thrown: { ...(code ? { code } : {}), ...(causeCode ? { causeCode } : {}), message },
});

// One row per way a probe ends: what was observed -> the outcome, error and stall the report shows.
const ROWS: Array<[string, Partial<ProbeEnd>, ProbeVerdict]> = [
  ['ok: the body was read to its end or to the cap', { bytes: 8_000_000 }, { outcome: 'ok' }],
  ['ok: a 3xx without Location is a final answer', { end: { status: 304 } }, { outcome: 'ok' }],
  ['http-error: the server answered 503', { end: { status: 503 } }, { outcome: 'http-error' }],
  [
    'stall in tls, ended early on kernel evidence: the stall says on what, after how long',
    {
      phase: 'tls',
      stalled: {
        phase: 'tls',
        idleMs: 1146,
        early: { by: 'kernel', afterMs: 1146, detail: 'ended on kernel evidence' },
      },
      end: thrown('STALL'),
    },
    {
      outcome: 'stall',
      stall: {
        phase: 'tls',
        afterBytes: 0,
        idleMs: 1146,
        early: { by: 'kernel', afterMs: 1146, detail: 'ended on kernel evidence' },
      },
      error: { code: 'STALL', message: 'no new bytes for 1.1 s during tls (ended on kernel evidence)' },
    },
  ],
  [
    'stall in tls: connected, then the certificate flight never came',
    { phase: 'tls', stalled: { phase: 'tls', idleMs: 5000 }, end: thrown('STALL') },
    {
      outcome: 'stall',
      stall: { phase: 'tls', afterBytes: 0, idleMs: 5000 },
      error: { code: 'STALL', message: 'no new bytes for 5 s during tls' },
    },
  ],
  [
    'stall in headers: the handshake done, the response never came',
    { phase: 'headers', stalled: { phase: 'headers', idleMs: 4960 }, end: thrown('STALL') },
    {
      outcome: 'stall',
      stall: { phase: 'headers', afterBytes: 0, idleMs: 4960 },
      error: { code: 'STALL', message: 'no new bytes for 5 s during headers' },
    },
  ],
  [
    'stall in body: the first 64 KiB arrived, then the full-size segments were dropped',
    { bytes: 65_536, stalled: { phase: 'body', idleMs: 3250 }, end: thrown('STALL') },
    {
      outcome: 'stall',
      stall: { phase: 'body', afterBytes: 65_536, idleMs: 3250 },
      error: { code: 'STALL', message: 'no new bytes for 3.3 s during body' },
    },
  ],
  [
    'stall in connect after the TCP connect: the first full-size flight is TLS, so the stall is reported there',
    { phase: 'connect', stalled: { phase: 'connect', idleMs: 5000 }, end: thrown('STALL') },
    {
      outcome: 'stall',
      stall: { phase: 'tls', afterBytes: 0, idleMs: 5000 },
      error: { code: 'STALL', message: 'no new bytes for 5 s during tls' },
    },
  ],
  [
    'stall inside a proxy tunnel: still a stall, with its phase',
    { viaProxy: true, connected: false, phase: 'tls', stalled: { phase: 'tls', idleMs: 5000 }, end: thrown('STALL') },
    {
      outcome: 'stall',
      stall: { phase: 'tls', afterBytes: 0, idleMs: 5000 },
      error: { code: 'STALL', message: 'no new bytes for 5 s during tls' },
    },
  ],
  [
    'dns-failure: the name does not resolve',
    { phase: 'dns', connected: false, end: thrown('ENOTFOUND', 'getaddrinfo ENOTFOUND nope.invalid') },
    { outcome: 'dns-failure', error: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nope.invalid' } },
  ],
  [
    'dns-failure: a code found on the cause (undici wraps it)',
    { phase: 'dns', connected: false, end: thrown(undefined, 'fetch failed', 'EAI_AGAIN') },
    { outcome: 'dns-failure', error: { code: 'EAI_AGAIN', message: 'fetch failed' } },
  ],
  [
    'dns-timeout: the resolver never answered',
    { phase: 'dns', connected: false, stalled: { phase: 'dns', idleMs: 5000 }, end: thrown('STALL') },
    {
      outcome: 'dns-timeout',
      error: { code: 'DNS_TIMEOUT', message: 'DNS lookup of registry.npmjs.org gave no answer in 5 s' },
    },
  ],
  [
    'dns-timeout: the deadline came first, while resolving',
    { phase: 'dns', connected: false, deadline: { idleMs: 2500 }, end: thrown('DEADLINE') },
    {
      outcome: 'dns-timeout',
      error: { code: 'DNS_TIMEOUT', message: 'DNS lookup of registry.npmjs.org gave no answer in 2.5 s' },
    },
  ],
  [
    'connect-refused: RST to the SYN',
    { phase: 'connect', connected: false, end: thrown('ECONNREFUSED', 'connect ECONNREFUSED 104.16.1.34:443') },
    { outcome: 'connect-refused', error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 104.16.1.34:443' } },
  ],
  [
    'connect-timeout: no SYN/ACK by the stall timeout',
    { phase: 'connect', connected: false, stalled: { phase: 'connect', idleMs: 5000 }, end: thrown('STALL') },
    {
      outcome: 'connect-timeout',
      error: { code: 'CONNECT_TIMEOUT', message: 'TCP connect to 104.16.1.34 got no answer in 5 s' },
    },
  ],
  [
    "connect-timeout: undici's own connect timeout",
    { phase: 'connect', connected: false, end: thrown('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error') },
    { outcome: 'connect-timeout', error: { code: 'UND_ERR_CONNECT_TIMEOUT', message: 'Connect Timeout Error' } },
  ],
  [
    'tls-error: a self-signed certificate',
    { phase: 'tls', end: thrown('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate') },
    { outcome: 'tls-error', error: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' } },
  ],
  [
    'tls-error: the certificate names another host',
    { phase: 'tls', end: thrown('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames") },
    {
      outcome: 'tls-error',
      error: { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" },
    },
  ],
  [
    'tls-error: the server does not speak TLS',
    { phase: 'tls', end: thrown('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number') },
    { outcome: 'tls-error', error: { code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' } },
  ],
  [
    'http-error: a response undici cannot parse',
    { phase: 'headers', end: thrown('HPE_INVALID_CONSTANT', 'Expected HTTP/') },
    { outcome: 'http-error', error: { code: 'HPE_INVALID_CONSTANT', message: 'Expected HTTP/' } },
  ],
  [
    'proxy-error: the proxy took the connection but never answered CONNECT',
    {
      viaProxy: true,
      connected: false,
      phase: 'proxy',
      stalled: { phase: 'proxy', idleMs: 5000 },
      end: thrown('STALL'),
    },
    {
      outcome: 'proxy-error',
      error: {
        code: 'PROXY_TIMEOUT',
        message: 'the proxy accepted the TCP connection but did not answer the CONNECT request in 5 s',
      },
    },
  ],
  [
    'proxy-error: the proxy itself does not answer the SYN',
    {
      viaProxy: true,
      connected: false,
      phase: 'connect',
      stalled: { phase: 'connect', idleMs: 5000 },
      end: thrown('STALL'),
    },
    {
      outcome: 'proxy-error',
      error: { code: 'CONNECT_TIMEOUT', message: 'TCP connect to the proxy got no answer in 5 s' },
    },
  ],
  [
    'proxy-error: the proxy refuses the connection',
    {
      viaProxy: true,
      connected: false,
      phase: 'connect',
      end: thrown('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3128'),
    },
    { outcome: 'proxy-error', error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:3128' } },
  ],
  [
    'proxy-error: the proxy closes the tunnel it was asked for (its credentials masked)',
    {
      viaProxy: true,
      connected: false,
      phase: 'proxy',
      end: thrown('UND_ERR_SOCKET', 'other side closed: http://bot:s3cret@proxy:3128'),
    },
    {
      outcome: 'proxy-error',
      error: { code: 'UND_ERR_SOCKET', message: 'other side closed: http://***:***@proxy:3128' },
    },
  ],
  [
    'redirect-error: a redirect loop',
    { end: thrown('REDIRECT_LOOP', 'redirect loop back to https://registry.npmjs.org/a') },
    {
      outcome: 'redirect-error',
      error: { code: 'REDIRECT_LOOP', message: 'redirect loop back to https://registry.npmjs.org/a' },
    },
  ],
  [
    'redirect-error: https to http refused',
    { end: thrown('REDIRECT_DOWNGRADE', 'redirect from https to http://mirror: refused') },
    {
      outcome: 'redirect-error',
      error: { code: 'REDIRECT_DOWNGRADE', message: 'redirect from https to http://mirror: refused' },
    },
  ],
  [
    'deadline: the run ended while the body was still arriving',
    { bytes: 1_000_000, deadline: { idleMs: 20 }, end: thrown('DEADLINE', 'run deadline reached') },
    { outcome: 'deadline', error: { code: 'DEADLINE', message: 'run deadline reached during body' } },
  ],
  [
    'deadline after a stall: the stall is what is reported',
    { phase: 'headers', stalled: { phase: 'headers', idleMs: 5000 }, deadline: { idleMs: 6000 }, end: thrown('STALL') },
    {
      outcome: 'stall',
      stall: { phase: 'headers', afterBytes: 0, idleMs: 5000 },
      error: { code: 'STALL', message: 'no new bytes for 5 s during headers' },
    },
  ],
  [
    'error: a reset mid-body, named by the socket, not by undici',
    {
      bytes: 1000,
      socketError: 'ECONNRESET',
      end: thrown('UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'Response body length does not match content-length header'),
    },
    {
      outcome: 'error',
      error: {
        code: 'ECONNRESET',
        message:
          'connection reset after 1000 bytes of the body (Response body length does not match content-length header)',
      },
    },
  ],
  [
    'error: another socket failure mid-body',
    { bytes: 1000, socketError: 'EPIPE', end: thrown('UND_ERR_SOCKET', 'other side closed') },
    {
      outcome: 'error',
      error: { code: 'EPIPE', message: 'connection failed (EPIPE) after 1000 bytes of the body (other side closed)' },
    },
  ],
  [
    'error: a failure without any code',
    { end: thrown(undefined, 'something odd') },
    { outcome: 'error', error: { code: 'UNKNOWN', message: 'something odd' } },
  ],
];

describe('classifyProbeEnd', () => {
  it.each(ROWS)('%s', (_name, observed, verdict) => {
    expect(classifyProbeEnd({ ...BASE, ...observed })).toEqual(verdict);
  });

  it('has a row for every outcome a probe can end with', () => {
    const outcomes = new Set(ROWS.map(([, observed]) => classifyProbeEnd({ ...BASE, ...observed }).outcome));
    expect([...outcomes].sort()).toEqual([
      'connect-refused',
      'connect-timeout',
      'deadline',
      'dns-failure',
      'dns-timeout',
      'error',
      'http-error',
      'ok',
      'proxy-error',
      'redirect-error',
      'stall',
      'tls-error',
    ]);
  });

  it('names the host when the connect timed out before any address was known', () => {
    const v = classifyProbeEnd({
      ...BASE,
      address: undefined,
      phase: 'connect',
      connected: false,
      stalled: { phase: 'connect', idleMs: 5000 },
      end: thrown('STALL'),
    });
    expect(v.error?.message).toBe('TCP connect to registry.npmjs.org got no answer in 5 s');
  });
});

describe('describeThrown', () => {
  it('keeps the code, the code of the cause, and the message', () => {
    const err = Object.assign(new Error('fetch failed'), { code: 'UND_ERR_SOCKET', cause: { code: 'ECONNRESET' } });
    expect(describeThrown(err)).toEqual({ code: 'UND_ERR_SOCKET', causeCode: 'ECONNRESET', message: 'fetch failed' });
  });

  it('reads something thrown that is not an Error', () => {
    expect(describeThrown('gone')).toEqual({ message: 'gone' });
    expect(describeThrown(undefined)).toEqual({ message: 'undefined' });
  });
});
