// Types for the dependency-free registry-server.mjs (it runs as plain JavaScript inside the lab's namespace).

/** Default body size of `GET /` (8 MiB). */
export declare const DEFAULT_BODY_BYTES: number;
/** Listening ports; `closed` is never bound (connect-refused tests). */
export declare const PORTS: Readonly<{ https: 443; http: 80; silentTcp: 8443; closed: 9443 }>;
/** The body bytes [offset, offset + length): `GET /?bytes=N` sends `bodyBytes(0, N)`. */
export declare function bodyBytes(offset: number, length: number): Buffer;
