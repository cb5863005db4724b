import { describe, expect, it } from 'vitest';
import { describeUnreachable } from '../../../src/collect/docker/api.js';
import { isTlsCode, ProbeCode, TLS_UNKNOWN_CA } from '../../../src/model/errors.js';
import { classifyError } from '../../../src/probe/outcome.js';

describe('isTlsCode: one list for the probe and the Docker client', () => {
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'CERT_HAS_EXPIRED',
    'HOSTNAME_MISMATCH',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'EPROTO',
  ])('%s is a TLS failure for both', (code) => {
    expect(isTlsCode(code)).toBe(true);
    expect(classifyError(code, false)).toBe('tls-error');
    expect(describeUnreachable({ code, message: 'x' }, 'tcp://docker:2376')).toContain(
      'TLS to tcp://docker:2376 failed',
    );
  });

  it.each(['ECONNRESET', 'ENOTFOUND', 'UND_ERR_SOCKET', 'CERTIFICATE'])('%s is not', (code) => {
    expect(isTlsCode(code)).toBe(false);
  });

  it('the unknown-CA codes are TLS codes', () => {
    for (const code of TLS_UNKNOWN_CA) expect(isTlsCode(code)).toBe(true);
  });
});

describe('ProbeCode', () => {
  it('keeps the values the JSON report has always carried', () => {
    expect(Object.values(ProbeCode).sort()).toEqual([
      'ABORTED',
      'CONNECT_TIMEOUT',
      'DEADLINE',
      'DNS_TIMEOUT',
      'PROXY_TIMEOUT',
      'PROXY_TUNNEL',
      'REDIRECT_BAD',
      'REDIRECT_DOWNGRADE',
      'REDIRECT_LIMIT',
      'REDIRECT_LOOP',
      'STALL',
      'UNKNOWN',
    ]);
  });
});
