#!/usr/bin/env node
// A package-registry stand-in for the network lab. Dependency-free on purpose: it runs inside the lab's registry
// network namespace (`ip netns exec <ns> node registry-server.mjs ...`) with nothing but the Node binary.
//
//   node registry-server.mjs --cert server-chain.pem --key server.key --log server.log [--groups X25519:P-256]
//   node registry-server.mjs --cert expired.pem --key k.pem --log x.log --https-only 10443   (a second instance:
//        only HTTPS, on that port, with another certificate: expired, self-signed, wrong name)
//
// --groups limits the TLS key-exchange groups (Node's ecdhCurve). By default Node 24 prefers X25519MLKEM768, whose
// ServerHello carries ~1.1 KB more than X25519's: that alone decides whether a server flight fits in one segment.
//
// Listens on:
//   443  HTTPS (HTTP/1.1), certificate signed by the lab CA
//   80   plain HTTP, same routes
//   8443 raw TCP that accepts and never speaks: a TLS peer that stays silent after the ClientHello
//   9443 deliberately closed, for connect-refused tests
//
// Routes (both 80 and 443):
//   /<anything>[?bytes=N]  200, N bytes of a deterministic body (default 8 MiB), content-length set, streamed
//   /silent                reads the request, never answers
//   /slow-drip[?bytes=N]   headers at once, then 1 byte per second (content-length N, default 8 MiB)
//   /headers-only          headers (content-length 8 MiB), then no body, connection held open
//   /endless               chunked body that never ends
//   /redirect-loop         302 to itself
//   /status/<code>         that status; 429 and 503 carry `retry-after` (default 2 s, `?retry-after=S`)
//   /reset-mid-body        headers + 64 KiB of body, then a TCP RST
//   /redirect?to=URL       302 to URL (http://... for a downgrade, another lab name for a cross-host redirect)
//   /huge-headers[?bytes=N] 200 with N bytes of response headers (default 64 KiB, beyond any client's limit)
//   any route &delay=MS     the same answer, MS ms after the request arrived (a slow server; at most 60 s)
//
// On stdout it prints exactly one line, `{"ready":true,...}`, once every listener is bound, so the harness knows
// when to proceed. Everything else goes to the log file.

import { createWriteStream, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export const DEFAULT_BODY_BYTES = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;
const RESET_AFTER = 64 * 1024;
export const PORTS = Object.freeze({ https: 443, http: 80, silentTcp: 8443, closed: 9443 });

// One 64 KiB block of pseudo-random bytes (xorshift32, fixed seed) repeated: deterministic, so a test can verify
// what it received, and not compressible by anything on the path.
const PATTERN = (() => {
  const b = Buffer.alloc(CHUNK);
  let x = 0x2545f491;
  for (let i = 0; i < CHUNK; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
})();

/** The body bytes [offset, offset + length): what `GET /?bytes=N` sends is `bodyBytes(0, N)`. */
export function bodyBytes(offset, length) {
  const out = Buffer.alloc(length);
  for (let done = 0; done < length;) {
    const at = (offset + done) % CHUNK;
    done += PATTERN.copy(out, done, at, Math.min(CHUNK, at + length - done));
  }
  return out;
}

function parseArgs(argv) {
  const opts = { cert: '', key: '', log: '', host: '::', 'https-only': '', groups: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in opts) || argv[i + 1] === undefined) throw new Error(`unknown or valueless option ${argv[i]}`);
    opts[k] = argv[i + 1];
  }
  if (!opts.cert || !opts.key || !opts.log) throw new Error('--cert, --key and --log are required');
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const logStream = createWriteStream(opts.log, { flags: 'a' });
  const log = (msg) => logStream.write(`${new Date().toISOString()} ${msg}\n`);
  // Sockets held open on purpose (silent routes, raw port): destroyed on exit so nothing lingers.
  const held = new Set();
  const hold = (socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => {});
  };

  function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://lab');
    const delay = Number(url.searchParams.get('delay') ?? 0);
    if (Number.isFinite(delay) && delay > 0 && !req.delayed) {
      req.delayed = true;
      log(`delaying ${req.url} by ${delay} ms`);
      setTimeout(() => handle(req, res), Math.min(delay, 60_000));
      return;
    }
    const scheme = req.socket.encrypted ? 'https' : 'http';
    const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const bytesParam = Number(url.searchParams.get('bytes') ?? DEFAULT_BODY_BYTES);
    const total = Number.isSafeInteger(bytesParam) && bytesParam >= 0 ? bytesParam : DEFAULT_BODY_BYTES;
    log(`${scheme} ${peer} ${req.method} ${req.url}`);
    res.on('close', () =>
      log(`${scheme} ${peer} ${req.url} closed after ${res.writableFinished ? 'finish' : 'abort'}`),
    );
    const octets = { 'content-type': 'application/octet-stream' };

    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      const code = Number(status[1]);
      const headers = { 'content-type': 'text/plain' };
      if (code === 429 || code === 503) headers['retry-after'] = url.searchParams.get('retry-after') ?? '2';
      res.writeHead(code, headers).end(`status ${code}\n`);
      return;
    }

    switch (url.pathname) {
      case '/silent':
        hold(req.socket);
        return;
      case '/headers-only':
        hold(req.socket);
        res.writeHead(200, { ...octets, 'content-length': DEFAULT_BODY_BYTES });
        res.flushHeaders();
        return;
      case '/redirect-loop':
        res.writeHead(302, { location: '/redirect-loop', 'content-length': 0 }).end();
        return;
      case '/redirect':
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/', 'content-length': 0 }).end();
        return;
      case '/huge-headers': {
        const size = url.searchParams.has('bytes') ? total : 64 * 1024;
        // Many 1 KiB headers: what a misbehaving CDN or proxy sends (cookies, debug headers), not one absurd value.
        const headers = { ...octets, 'content-length': 1024 };
        for (let i = 0; i * 1024 < size; i++) headers[`x-filler-${i}`] = 'f'.repeat(1000);
        res.writeHead(200, headers).end(bodyBytes(0, 1024));
        return;
      }
      case '/slow-drip': {
        res.writeHead(200, { ...octets, 'content-length': total });
        res.flushHeaders();
        let sent = 0;
        const timer = setInterval(() => {
          if (sent >= total) {
            clearInterval(timer);
            res.end();
            return;
          }
          res.write(bodyBytes(sent, 1));
          sent += 1;
        }, 1000);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case '/endless': {
        res.writeHead(200, octets); // no content-length: chunked, never finishes
        const pump = () => {
          while (!res.destroyed && res.write(PATTERN));
        };
        res.on('drain', pump);
        pump();
        return;
      }
      case '/reset-mid-body': {
        res.writeHead(200, { ...octets, 'content-length': total });
        res.write(bodyBytes(0, RESET_AFTER), () => {
          // The write callback fires when the bytes reach the kernel, not the wire: give them time to leave before
          // the RST, which discards anything still queued.
          setTimeout(() => {
            const s = req.socket;
            if (typeof s.resetAndDestroy === 'function' && !s.encrypted) s.resetAndDestroy();
            else if (s.encrypted && s._parent && typeof s._parent.resetAndDestroy === 'function')
              s._parent.resetAndDestroy();
            else s.destroy();
          }, 300);
        });
        return;
      }
      default:
        streamBody(res, total, octets);
    }
  }

  function streamBody(res, total, headers) {
    res.writeHead(200, { ...headers, 'content-length': total });
    let offset = 0;
    const pump = () => {
      while (offset < total && !res.destroyed) {
        const n = Math.min(CHUNK, total - offset);
        const ok = res.write(n === CHUNK && offset % CHUNK === 0 ? PATTERN : bodyBytes(offset, n));
        offset += n;
        if (!ok) return; // resume on 'drain': respect backpressure so memory stays flat on slow links
      }
      if (offset >= total) res.end();
    };
    res.on('drain', pump);
    pump();
  }

  const tlsServer = https.createServer(
    {
      cert: readFileSync(opts.cert),
      key: readFileSync(opts.key),
      // Only HTTP/1.1: clients under test offer h2 sometimes, we do not need it.
      ALPNProtocols: ['http/1.1'],
      ...(opts.groups ? { ecdhCurve: opts.groups } : {}),
    },
    handle,
  );
  tlsServer.on('tlsClientError', (err, socket) =>
    log(`tls-error ${socket.remoteAddress}:${socket.remotePort} ${err.code ?? err.message}`),
  );
  const plainServer = http.createServer(handle);
  for (const s of [tlsServer, plainServer]) {
    // Defaults would answer 408 or cut idle sockets; the lab's silent routes must stay silent.
    s.requestTimeout = 0;
    s.headersTimeout = 0;
    s.keepAliveTimeout = 5000;
    s.on('connection', (sock) => sock.on('error', () => {}));
  }
  const silent = net.createServer((sock) => {
    log(`tcp-silent ${sock.remoteAddress}:${sock.remotePort} accepted`);
    hold(sock);
  });

  const listen = (server, port) =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      // '::' is dual-stack (IPv4-mapped) when IPv6 is up in the namespace; fall back to IPv4 only otherwise.
      server.listen({ port, host: opts.host }, resolve);
    }).catch((err) => {
      if (opts.host !== '::' || (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL')) throw err;
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: '0.0.0.0' }, resolve);
      });
    });

  const httpsOnly = opts['https-only'] ? Number(opts['https-only']) : undefined;
  const ports = httpsOnly ? { https: httpsOnly } : PORTS;
  Promise.all(
    httpsOnly
      ? [listen(tlsServer, httpsOnly)]
      : [listen(tlsServer, PORTS.https), listen(plainServer, PORTS.http), listen(silent, PORTS.silentTcp)],
  ).then(
    () => {
      log(
        `listening ${Object.entries(ports)
          .map(([k, v]) => `${k}:${v}`)
          .join(' ')}`,
      );
      process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, ports })}\n`);
    },
    (err) => {
      log(`listen failed: ${err.stack ?? err}`);
      process.stderr.write(`listen failed: ${err.message}\n`);
      process.exit(1);
    },
  );

  const stop = () => {
    log('stopping');
    for (const s of held) s.destroy();
    logStream.end(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
