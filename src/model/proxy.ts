/**
 * Which proxy variable wins, decided once. The probe's transport (src/probe/transport.ts, proxy-tunnel.ts) reads
 * the lowercase name before the uppercase one, as curl does; an https URL falls back to the http proxy when no
 * https proxy is set. ALL_PROXY is honoured by none of the package clients this product stands in for (npm,
 * pip), so the probe does not use it; it is still masked, as it can carry credentials.
 */

/** What the probe's transport is given (an http proxy, an https proxy, NO_PROXY); '' is none. */
export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

/** Variables that hold a proxy URL, possibly with credentials: their values are masked in the Action's log. */
export const PROXY_URL_VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'ALL_PROXY',
  'all_proxy',
] as const;

/** Variables passed into the probe containers, so that a container probes the way the job's own clients connect. */
export const CONTAINER_PROXY_VARIABLES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
] as const;

/** The proxy settings in this environment: lowercase before uppercase; an empty value set in lowercase wins too. */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  return {
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
  };
}

/** The proxy a request with this protocol ('https:', 'http:') goes through, NO_PROXY aside; undefined for none. */
export function proxyFor(protocol: string, env: NodeJS.ProcessEnv): string | undefined {
  const s = proxySettings(env);
  return (protocol === 'https:' ? s.httpsProxy || s.httpProxy : s.httpProxy) || undefined;
}
