/**
 * Every error code this product gives, and its error classes, in one place.
 * A code is part of the JSON report (ProbeResult.error.code) and of the messages users search for:
 * never rename one. Codes that come from elsewhere (errno, OpenSSL, and the UND_ERR_* names reports have always
 * carried, kept by src/probe/transport.ts) are classified where they
 * are read (src/probe/outcome.ts), except the TLS ones, listed here once because three places ask.
 */

// Shared by the probe and the Docker API: both give up on the same run deadline, and both end calls in flight.
const DEADLINE = 'DEADLINE';
const ABORTED = 'ABORTED';

/** Codes the probe gives its own failures. */
export const ProbeCode = {
  /** The stall watchdog: no new bytes for stall-timeout in a phase past the TCP connect. */
  STALL: 'STALL',
  /** The run's deadline ended the probe. */
  DEADLINE,
  /** The resolver gave no answer within stall-timeout. */
  DNS_TIMEOUT: 'DNS_TIMEOUT',
  /** No SYN/ACK within stall-timeout (from the target, or from the proxy). */
  CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  /** The proxy took the TCP connection but did not answer the CONNECT request. */
  PROXY_TIMEOUT: 'PROXY_TIMEOUT',
  /** A tunnel through the proxy failed. */
  PROXY_TUNNEL: 'PROXY_TUNNEL',
  /** A connection was still being set up when the probe had already ended. */
  ABORTED,
  /** A failure that carried no code. */
  UNKNOWN: 'UNKNOWN',
  REDIRECT_BAD: 'REDIRECT_BAD',
  /** https to http: refused, as a package client would be downgraded. */
  REDIRECT_DOWNGRADE: 'REDIRECT_DOWNGRADE',
  REDIRECT_LOOP: 'REDIRECT_LOOP',
  REDIRECT_LIMIT: 'REDIRECT_LIMIT',
} as const;
export type ProbeCode = (typeof ProbeCode)[keyof typeof ProbeCode];

/** Codes of the Docker Engine API client's own failures (besides errno, UND_ERR_CONNECT_TIMEOUT and HTTP_<status>). */
export const DockerCode = {
  /** The call could not finish by the run's deadline. */
  DEADLINE,
  /** Refused or aborted: the run is being cleaned up. */
  CLOSED: 'CLOSED',
  ABORTED,
  /** A failure that carried no code. */
  ERROR: 'ERROR',
  /** A DOCKER_HOST this tool cannot use (ssh://, npipe://, malformed). */
  HOST_UNSUPPORTED: 'DOCKER_HOST_UNSUPPORTED',
} as const;
export type DockerCode = (typeof DockerCode)[keyof typeof DockerCode];

/** The code of a Docker API answer with this HTTP status (>= 400). */
export function dockerHttpCode(status: number): string {
  return `HTTP_${status}`;
}

/** An invalid option: the only failure that ends the step before probing (exit 2). */
export const USAGE_CODE = 'ERR_USAGE';

/** A failure of the probe itself; the watchdog aborts with one, redirects are refused with one. */
export class ProbeError extends Error {
  constructor(
    readonly code: ProbeCode,
    message: string,
  ) {
    super(message);
  }
}

/** A Docker Engine API call that failed: errno, UND_ERR_CONNECT_TIMEOUT, a DockerCode, or HTTP_<status> with `status`. */
export class DockerApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A DOCKER_HOST value the product cannot use, with the reason (ssh:// needs the CLI, npipe:// is Windows). */
export class EndpointError extends Error {
  readonly code = DockerCode.HOST_UNSUPPORTED;
}

/** An invalid option value, config file or argument; the message names it, quotes what it got and says what it expects. */
export class UsageError extends Error {
  readonly code = USAGE_CODE;
}

/**
 * OpenSSL's certificate verification codes as Node reports them (err.code, from X509_V_ERR_*; the list in
 * node/src/crypto/crypto_common.cc).
 */
const TLS_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** The verification codes that mean "signed by a CA this machine does not trust": typically a TLS-intercepting proxy. */
export const TLS_UNKNOWN_CA: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/**
 * A TLS failure: a certificate verification code, one of Node's TLS errors (ERR_TLS_CERT_ALTNAME_INVALID,
 * ERR_TLS_HANDSHAKE_TIMEOUT, ...), an OpenSSL error (ERR_SSL_WRONG_VERSION_NUMBER, ...), or EPROTO
 * (what Node gives when the peer's bytes are not TLS at all).
 */
export function isTlsCode(code: string): boolean {
  return TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL') || code === 'EPROTO';
}
