'use strict';
// A one-shot download probe for the nested-dockerd lab. It runs inside a container of the lab's probe image (busybox
// + node, nothing else), copied in with `docker cp` or a Dockerfile COPY, so it is dependency-free CommonJS.
//
//   node fetch-probe.cjs <url> [caFile] [deadlineMs=4000]
//
// It prints exactly one line, `MTU-LAB-PROBE {json}`, and exits 0 whatever happened: the line is easy to find in a
// `docker build` log (BuildKit prefixes each line with `#N 0.123 `), and the caller decides what counts as failure.
// The JSON carries the container's own view of its interfaces (`/sys/class/net/*/mtu`) and the phase times of the
// download, so a stall shows where it stopped: TCP connected (connectMs set) but TLS never finished (tlsMs null).

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');

const [url, caFile, deadlineArg] = process.argv.slice(2);
const deadlineMs = Number(deadlineArg || 4000);
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);

const interfaces = {};
for (const name of fs.readdirSync('/sys/class/net')) {
  try {
    interfaces[name] = Number(fs.readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'));
  } catch {
    // an interface that vanished between readdir and read: nothing to report
  }
}

const out = {
  url,
  interfaces,
  status: 0,
  bytes: 0,
  connectMs: null,
  tlsMs: null,
  headersMs: null,
  totalMs: null,
  complete: false,
  error: null,
  code: null,
};

let finished = false;
function finish(err) {
  if (finished) return;
  finished = true;
  out.totalMs = ms();
  if (err) {
    out.error = err.message;
    out.code = err.code || null;
  }
  process.stdout.write(`MTU-LAB-PROBE ${JSON.stringify(out)}\n`, () => process.exit(0));
}

const client = url.startsWith('https:') ? https : http;
const req = client.get(url, { ca: caFile ? fs.readFileSync(caFile) : undefined, agent: false }, (res) => {
  out.status = res.statusCode;
  out.headersMs = ms();
  res.on('data', (chunk) => {
    out.bytes += chunk.length;
  });
  res.on('end', () => {
    out.complete = true;
    finish();
  });
  res.on('error', finish);
});
req.on('socket', (socket) => {
  socket.on('connect', () => {
    out.connectMs = ms();
  });
  socket.on('secureConnect', () => {
    out.tlsMs = ms();
  });
});
req.on('error', finish);
setTimeout(() => {
  const err = new Error(`no complete response within ${deadlineMs} ms`);
  err.code = 'PROBE_DEADLINE';
  finish(err);
  req.destroy();
}, deadlineMs).unref();
