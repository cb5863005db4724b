import { describe, expect, it } from 'vitest';
import { proxyFor, proxySettings } from '../../../src/model/proxy.js';

const LOWER = 'http://lower:3128';
const UPPER = 'http://upper:3128';
const PLAIN = 'http://plain:8080';

// The proxy a request goes through, for each protocol, as undici's EnvHttpProxyAgent picks it.
const ROWS: Array<[string, NodeJS.ProcessEnv, { https?: string; http?: string }]> = [
  ['nothing set: direct', {}, {}],
  ['https_proxy before HTTPS_PROXY', { https_proxy: LOWER, HTTPS_PROXY: UPPER }, { https: LOWER }],
  ['HTTPS_PROXY alone', { HTTPS_PROXY: UPPER }, { https: UPPER }],
  [
    'http_proxy before HTTP_PROXY, for both protocols',
    { http_proxy: LOWER, HTTP_PROXY: UPPER },
    { https: LOWER, http: LOWER },
  ],
  ['an https URL falls back to the http proxy', { HTTP_PROXY: PLAIN }, { https: PLAIN, http: PLAIN }],
  ['an http URL never takes the https proxy', { HTTPS_PROXY: UPPER }, { https: UPPER }],
  [
    'the https proxy wins over the http one for https',
    { https_proxy: LOWER, http_proxy: PLAIN },
    { https: LOWER, http: PLAIN },
  ],
  ['an empty lowercase value hides the uppercase one', { https_proxy: '', HTTPS_PROXY: UPPER }, {}],
  [
    'an empty https proxy falls back to the http one, as the dispatcher does',
    { https_proxy: '', HTTP_PROXY: PLAIN },
    { https: PLAIN, http: PLAIN },
  ],
  ['ALL_PROXY is not honoured (undici ignores it)', { ALL_PROXY: PLAIN, all_proxy: PLAIN }, {}],
];

describe('proxyFor', () => {
  it.each(ROWS)('%s', (_name, env, want) => {
    expect({ https: proxyFor('https:', env), http: proxyFor('http:', env) }).toEqual({
      https: want.https,
      http: want.http,
    });
  });
});

describe('proxySettings', () => {
  it('gives the dispatcher lowercase before uppercase, NO_PROXY included', () => {
    const env = { http_proxy: LOWER, HTTP_PROXY: UPPER, HTTPS_PROXY: UPPER, no_proxy: 'localhost', NO_PROXY: '*' };
    expect(proxySettings(env)).toEqual({ httpProxy: LOWER, httpsProxy: UPPER, noProxy: 'localhost' });
  });

  it('gives empty strings when nothing is set, so the dispatcher does not read process.env itself', () => {
    expect(proxySettings({})).toEqual({ httpProxy: '', httpsProxy: '', noProxy: '' });
  });
});
