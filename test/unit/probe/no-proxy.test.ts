/**
 * NO_PROXY as the probe applies it (src/probe/proxy-tunnel.ts), row for row the rules of undici's
 * EnvHttpProxyAgent, which the probe used until it spoke HTTP through Node's own modules.
 */
import { describe, expect, it } from 'vitest';
import { shouldProxy } from '../../../src/probe/proxy-tunnel.js';
import { proxyForUrl } from '../../../src/probe/transport.js';

const ROWS: Array<[string, string, string, boolean]> = [
  ['nothing set: proxied', 'https://registry.npmjs.org/x', '', true],
  ['the name itself', 'https://registry.npmjs.org/x', 'registry.npmjs.org', false],
  ['a parent domain', 'https://registry.npmjs.org/x', 'npmjs.org', false],
  ['a parent domain with a leading dot', 'https://registry.npmjs.org/x', '.npmjs.org', false],
  ['a parent domain with a leading *.', 'https://registry.npmjs.org/x', '*.npmjs.org', false],
  ['not a suffix at a label boundary', 'https://registry.npmjs.org/x', 'js.org', true],
  ['case does not matter', 'https://Registry.NPMJS.org/x', 'registry.npmjs.ORG', false],
  ['* for every host', 'https://registry.npmjs.org/x', '*', false],
  ['commas and spaces between entries', 'https://pypi.org/x', 'localhost, .lab.test pypi.org', false],
  ['a port that matches (the default 443)', 'https://pypi.org/x', 'pypi.org:443', false],
  ['a port that does not match', 'https://pypi.org/x', 'pypi.org:8443', true],
  ['an explicit port', 'https://pypi.org:8443/x', 'pypi.org:8443', false],
  ['an IPv4 literal', 'https://10.0.0.5/x', '10.0.0.5', false],
  ['an IPv6 literal, written with brackets', 'https://[fd00::5]/x', '[fd00::5]', false],
  ['another host', 'https://rubygems.org/x', 'localhost,127.0.0.1', true],
];

describe('shouldProxy', () => {
  it.each(ROWS)('%s', (_name, url, noProxy, want) => {
    expect(shouldProxy(new URL(url), noProxy)).toBe(want);
  });
});

describe('proxyForUrl', () => {
  it('the proxy of the URL’s protocol, unless NO_PROXY (lowercase first) matches', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', no_proxy: '.internal', NO_PROXY: '*' };
    expect(proxyForUrl(new URL('https://registry.npmjs.org/x'), env)?.href).toBe('http://proxy:3128/');
    expect(proxyForUrl(new URL('https://mirror.internal/x'), env)).toBeUndefined();
    expect(proxyForUrl(new URL('http://registry.npmjs.org/x'), env)).toBeUndefined();
  });
});
