/**
 * Failures that are not the MTU: name them precisely so nobody chases the wrong layer.
 * One finding per (layer, code) pairing, listing every target it concerns.
 */
import { TLS_UNKNOWN_CA } from '../../model/errors.js';
import type { Finding, FindingCode, ProbeResult } from '../../model/report.js';
import { fmtMs, probeHost, type DiagnosisInput, type Rule } from '../rule.js';

/** What a certificate error code means, in the words a user searches for. */
const TLS_CAUSE: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet (or this machine’s clock is wrong)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server’s own certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a CA this machine does not trust',
  CERT_REVOKED: 'the certificate was revoked',
};

function describe(p: ProbeResult, host: string): { code: FindingCode; summary: string; fix: string } | undefined {
  const err = p.error;
  switch (p.outcome) {
    case 'dns-failure':
      return {
        code: 'dns-failure',
        summary: `${host}: DNS lookup failed (${err?.code ?? 'no answer'}): the name does not resolve from here. Not an MTU problem.`,
        fix: 'Check the resolver this job uses (/etc/resolv.conf, the pod dnsPolicy, the dind --dns flag), or that the host is meant to be reachable from this network.',
      };
    case 'dns-timeout':
      return {
        code: 'dns-timeout',
        summary: `${host}: DNS lookup timed out (${err?.message ?? 'no answer'}). Not an MTU problem.`,
        fix: 'The resolver in /etc/resolv.conf does not answer: check that it is reachable from this network (firewall on port 53, a dead nameserver).',
      };
    case 'connect-refused':
      return {
        code: 'connect-refused',
        summary: `${host}: TCP connection to ${p.address ?? p.host} refused (nothing listens on that port). Not an MTU problem.`,
        fix: 'Check the URL and port; a firewall that rejects, or a service that is down.',
      };
    case 'connect-timeout':
      return {
        code: 'connect-timeout',
        summary: `${host}: TCP connect to ${p.address ?? p.host} got no answer (${err?.message ?? err?.code ?? 'timeout'}). SYN packets are small, so this is a firewall or routing problem, not the MTU.`,
        fix: 'A firewall drops the connection, or there is no route: check egress rules and proxy settings (HTTPS_PROXY) for this network.',
      };
    case 'tls-error': {
      const unknownCa = err && TLS_UNKNOWN_CA.has(err.code);
      return {
        code: 'tls-error',
        summary: unknownCa
          ? `${host}: TLS certificate not trusted (${err.code}${TLS_CAUSE[err.code] ? `: ${TLS_CAUSE[err.code]}` : ''}): a TLS-intercepting proxy is likely in the path. Not an MTU problem.`
          : `${host}: TLS handshake failed (${err?.code ?? 'error'}: ${(err && TLS_CAUSE[err.code]) ?? err?.message ?? ''}).`,
        fix: unknownCa
          ? "Trust the proxy's CA: set NODE_EXTRA_CA_CERTS=/path/to/ca.pem (or pass --ca-file), and give the same CA to npm (cafile), pip (--cert), bundler (SSL_CERT_FILE). --insecure skips the check for this probe only."
          : 'Check the certificate (expiry, name) of the server or of the proxy presenting it.',
      };
    }
    case 'http-error':
      return {
        code: 'http-error',
        summary: p.status
          ? `${host}: HTTP ${p.status}${p.retryAfter ? ` (Retry-After: ${p.retryAfter})` : ''}: the server answered, so the network path works; the request was refused.`
          : `${host}: malformed HTTP response (${err?.code ?? 'error'}).`,
        fix:
          p.status === 429 || p.status === 503
            ? 'Rate-limited or unavailable: retry later, or use an authenticated/mirrored registry.'
            : 'Check the URL (a versioned file that exists) and any authentication it needs.',
      };
    case 'proxy-error':
      return {
        code: 'proxy-error',
        summary:
          `${host}: the proxy ${p.viaProxy ?? ''} failed (${err?.code ?? 'error'}: ${err?.message ?? ''}).`.replace(
            '  ',
            ' ',
          ),
        fix: 'Check HTTPS_PROXY/HTTP_PROXY (host, port, credentials) and NO_PROXY for this job; the proxy must allow CONNECT to port 443.',
      };
    case 'redirect-error':
      return {
        code: 'redirect-error',
        summary: `${host}: ${err?.message ?? 'bad redirect'}.`,
        fix: 'Point the probe at the final URL, or fix the server’s redirect.',
      };
    case 'deadline':
      // Progress until the deadline is a slow transfer (its own rule), not a failure to connect.
      if (p.bytes > 0) return undefined;
      return {
        code: 'deadline-exceeded',
        summary: `${host}: the run's deadline ended the probe during ${p.stall?.phase ?? (p.phases.tlsMs ? 'the transfer' : p.phases.connectMs ? 'the TLS handshake' : 'connection setup')} after ${fmtMs(p.phases.doneMs)}, with ${p.bytes} bytes received.`,
        fix: 'Raise --timeout, or probe fewer targets; if this repeats, the path is very slow or stalls intermittently.',
      };
    case 'error':
      return {
        code: 'probe-error',
        summary: `${host}: ${err?.code === 'ECONNRESET' ? `connection reset${p.bytes ? ` after ${p.bytes} bytes` : ''}` : `${err?.code ?? 'error'}: ${err?.message ?? ''}`}.`,
        fix: 'Re-run; if it repeats, a middlebox is cutting connections (reset) or the network is unreachable from here.',
      };
    default:
      return undefined;
  }
}

/**
 * One finding per layer, code and fix: "rubygems.org, pecl.php.net: DNS lookup failed (ENOTFOUND) ..." rather than one
 * per target, so the report, the headline and the annotations say each failure once.
 */
function merge(group: Finding[], hosts: string[]): Finding {
  const first = group[0]!;
  if (group.length === 1) return first;
  // The summaries differ only in the host they start with: say the rest once.
  const rests = group.map((f, i) => f.summary.slice(hosts[i]!.length + 2));
  const summary = rests.every((r) => r === rests[0])
    ? `${hosts.join(', ')}: ${rests[0]}`
    : group.map((f) => f.summary).join(' ');
  return {
    ...first,
    summary,
    evidence: group.flatMap((f) => f.evidence),
    targets: [...new Set(group.flatMap((f) => f.targets ?? []))],
  };
}

export const probeFailures: Rule = {
  id: 'probe-failures',
  evaluate(input: DiagnosisInput): Finding[] {
    const groups = new Map<string, { findings: Finding[]; hosts: string[] }>();
    for (const layer of input.layers) {
      for (const p of layer.probes) {
        const host = probeHost(p, layer.probes);
        const d = describe(p, host);
        if (!d) continue;
        const evidence = [
          `${p.url}: ${p.outcome}${p.error ? ` (${p.error.code})` : ''} after ${fmtMs(p.phases.doneMs)}`,
          ...(p.phases.dnsMs !== undefined ? [`DNS ${fmtMs(p.phases.dnsMs)}`] : []),
          ...(p.phases.connectMs !== undefined
            ? [`TCP connected at ${fmtMs(p.phases.connectMs)} to ${p.address}`]
            : []),
          ...(p.viaProxy ? [`via proxy ${p.viaProxy}`] : []),
        ];
        const key = JSON.stringify([layer.id, d.code, d.fix]);
        const g = groups.get(key) ?? { findings: [], hosts: [] };
        g.findings.push({
          code: d.code,
          severity: 'error',
          layer: layer.id,
          summary: d.summary,
          evidence,
          targets: [p.target],
          fix: { summary: d.fix, steps: [] },
        });
        g.hosts.push(host);
        groups.set(key, g);
      }
    }
    return [...groups.values()].map((g) => merge(g.findings, g.hosts));
  },
};
