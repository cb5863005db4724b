import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  gapWindowMs,
  initialGap,
  judgeContrast,
  judgeGap,
  judgeHeadLoss,
  observeSample,
  type GapState,
  type SocketSample,
} from '../../../src/probe/evidence.js';
import { requestHeadLost } from '../../../src/model/tcp.js';
import { fromSs } from '../../../src/probe/early.js';
import { parseNetstatCounter, parseProcNetTcp } from '../../../src/probe/proc-net.js';
import { parseSsTcpInfo, parseSsTimers } from '../../../src/probe/tcp-info.js';

const dir = path.resolve(import.meta.dirname, '../../fixtures/lab-blackhole-1450-ss-series');
const fixture = (f: string) => readFileSync(path.join(dir, f), 'utf8');
const REMOTE = { address: '10.213.2.2', port: 443 };

/** A sample as the watchdog builds it from one `ss -tin` read (src/probe/early.ts fromSs). */
function ssSample(text: string, at: number): SocketSample {
  const info = parseSsTcpInfo(text, REMOTE)!;
  const t = parseSsTimers(info.raw);
  return {
    at,
    requestAcked: (info.bytesAcked ?? 0) > 0,
    received: info.bytesReceived ?? 0,
    outOfOrder: info.rcvOooPack ?? 0,
    ...(t.rtoMs !== undefined ? { rtoMs: t.rtoMs } : {}),
    ...(t.rttMs !== undefined ? { rttMs: t.rttMs } : {}),
    source: 'ss',
  };
}

const fold = (samples: SocketSample[]): GapState => samples.reduce(observeSample, initialGap());
const judge = (state: GapState, now: number, idleMs = now, stallTimeoutMs = 3000) =>
  judgeGap({ state, now, idleMs, connectRttMs: 4, stallTimeoutMs });

describe('judgeGap over the lab black hole (captured ss -tin)', () => {
  const first = ssSample(fixture('ss-150ms.txt'), 150);
  const later = (at: number) => ssSample(fixture('ss-1047ms.txt'), at);

  it('reads the timers: rto 204 ms, rtt 0.036 ms', () => {
    expect(first).toMatchObject({ rtoMs: 204, rttMs: 0.036, requestAcked: true, received: 0, outOfOrder: 1 });
  });

  it('is not conclusive before the gap has been open for the floor of 1 s (4 RTOs of 204 ms is less)', () => {
    expect(gapWindowMs(first, 4)).toBe(1000);
    expect(judge(fold([first, later(650)]), 650)).toBeUndefined();
    expect(judge(fold([first, later(1100)]), 1100)).toBeUndefined();
  });

  it('is conclusive once the gap stayed open 1 s with nothing in order, and says so', () => {
    const v = judge(fold([first, later(1150)]), 1150, 1146);
    expect(v).toMatchObject({ by: 'kernel', afterMs: 1146 });
    expect(v!.detail).toMatch(/ended on kernel evidence after 1\.1 s, before the 3\.0 s stall timeout/);
    expect(v!.detail).toMatch(/rcv_ooopack 1/);
  });

  it('leaves it to the stall timeout where the window reaches it (a long RTT: 10 RTTs of 300 ms)', () => {
    const slow = { ...later(2900), rttMs: 300 };
    expect(judge(fold([first, slow]), 2900, 2900)).toBeUndefined();
  });

  it('needs the server to have ACKed our request', () => {
    const unacked = [first, later(1500)].map((s) => ({ ...s, requestAcked: false }));
    expect(judge(fold(unacked), 1500)).toBeUndefined();
  });

  it('needs the probe idle for the window too (a body byte since resets it)', () => {
    expect(judge(fold([first, later(1500)]), 1500, 400)).toBeUndefined();
  });
});

describe('judgeGap on paths that work', () => {
  const s = (at: number, received: number, outOfOrder: number): SocketSample => ({
    at,
    requestAcked: true,
    received,
    outOfOrder,
    rtoMs: 204,
    rttMs: 0.5,
    source: 'ss',
  });

  it('a lossy path: the gap is repaired by a retransmission after one RTO, so it never stays open', () => {
    // rcv_ooopack keeps rising with each loss; bytes_received moves on after each repair.
    const state = fold([
      s(100, 50_000, 3),
      s(200, 50_000, 5),
      s(400, 90_000, 5),
      s(500, 90_000, 9),
      s(800, 140_000, 9),
    ]);
    expect(state.gapSince).toBeUndefined();
    expect(judge(state, 2000, 1200)).toBeUndefined();
  });

  it('a slow or silent server: ACKed, nothing out of order, nothing in order: no gap', () => {
    expect(judge(fold([s(100, 0, 0), s(1500, 0, 0), s(2900, 0, 0)]), 2900)).toBeUndefined();
  });

  it('a gap reopened after the data moved on counts from the new out-of-order segment', () => {
    const state = fold([s(100, 50_000, 3), s(200, 90_000, 3), s(300, 90_000, 4)]);
    expect(state.gapSince).toBe(300);
    expect(judge(state, 1200, 1200)).toBeUndefined();
    expect(judge(state, 1400, 1300)).toMatchObject({ by: 'kernel' });
  });
});

describe('judgeContrast', () => {
  const base = { outerHandshakeMs: 40, connectedForMs: 900, received: 0, idleMs: 900, stallTimeoutMs: 3000 };
  it('0 bytes after 20 outer handshakes, with a 1 s floor', () => {
    expect(judgeContrast(base)).toBeUndefined();
    expect(judgeContrast({ ...base, connectedForMs: 1000, idleMs: 1000 })).toMatchObject({ by: 'layer-contrast' });
    expect(judgeContrast({ ...base, outerHandshakeMs: 80, connectedForMs: 1500, idleMs: 1500 })).toBeUndefined();
    expect(judgeContrast({ ...base, outerHandshakeMs: 80, connectedForMs: 1600, idleMs: 1600 })?.detail).toMatch(
      /finished its handshake with this target in 80 ms; here 0 bytes arrived in 1\.6 s/,
    );
  });
  it('never once a byte came, nor where the budget reaches the stall timeout (a slow outer handshake)', () => {
    expect(judgeContrast({ ...base, received: 1, connectedForMs: 2000, idleMs: 2000 })).toBeUndefined();
    expect(judgeContrast({ ...base, outerHandshakeMs: 2000, connectedForMs: 2900, idleMs: 2900 })).toBeUndefined();
  });
});

describe('/proc/net where ss is missing (same socket)', () => {
  it('reads state, queues and rto (clock ticks) from /proc/net/tcp', () => {
    expect(parseProcNetTcp(fixture('proc-net-tcp.txt'))).toEqual([
      { state: 1, localPort: 53522, remotePort: 443, txQueue: 0, rxQueue: 0, rtoMs: 200 },
    ]);
  });
  it('reads TcpExt TCPOFOQueue by name from /proc/net/netstat', () => {
    expect(parseNetstatCounter(fixture('proc-net-netstat.txt'), 'TcpExt', 'TCPOFOQueue')).toBe(1);
    expect(parseNetstatCounter(fixture('proc-net-netstat.txt'), 'TcpExt', 'Nope')).toBeUndefined();
  });
});

describe('judgeHeadLoss: our own full-size segment lost on the way out (captured ss -tin, upstream 1400 hop)', () => {
  const up = path.resolve(import.meta.dirname, '../../fixtures/lab-upstream-1400-outbound-ss-series');
  const read = (f: string, at: number) => fromSs(parseSsTcpInfo(readFileSync(path.join(up, f), 'utf8'), REMOTE)!, at);
  const judgeOut = (state: GapState, now: number, idleMs = now - 200) =>
    judgeHeadLoss({ state, now, idleMs, connectRttMs: 1, stallTimeoutMs: 3000 });

  it('reads the signature: bytes_acked 1, the tail SACKed, more than one segment sent; the RTO before backoff', () => {
    const info = parseSsTcpInfo(readFileSync(path.join(up, 'ss-640ms.txt'), 'utf8'), REMOTE)!;
    expect(info).toMatchObject({ bytesAcked: 1, sacked: 1, bytesSent: 3188, bytesRetrans: 1594, sndMss: 1448 });
    expect(requestHeadLost(info)).toBe(true);
    // rto:408 backoff:1 is the path's 204 ms doubled by our own retransmission.
    expect(read('ss-640ms.txt', 640)).toMatchObject({ rtoMs: 204, headLost: { sacked: 1, retransmitted: 1594 } });
  });

  it('is not conclusive before the window (1 s) and is once the head stayed lost that long, saying why', () => {
    const state = fold([read('ss-348ms.txt', 348), read('ss-640ms.txt', 640), read('ss-1308ms.txt', 1308)]);
    expect(judgeOut(fold([read('ss-348ms.txt', 348), read('ss-640ms.txt', 640)]), 900)).toBeUndefined();
    const v = judgeOut(state, 1400);
    expect(v).toMatchObject({ by: 'kernel', afterMs: 1200 });
    expect(v!.detail).toMatch(/SACKed 1 later segment\(s\) of our request but never ACKed its first, full-size one/);
    expect(v!.detail).toMatch(/dropped on the way out/);
    // The inbound rule has nothing to say: the server never got a whole request, so it sent nothing.
    expect(judgeGap({ state, now: 1400, idleMs: 1200, connectRttMs: 1, stallTimeoutMs: 3000 })).toBeUndefined();
  });

  it('a lossy path that repairs the head (an ACK past the SYN) never ends early', () => {
    const lossy = read('ss-348ms.txt', 348);
    const repaired: SocketSample = { ...lossy, at: 600, requestAcked: true, headLost: undefined };
    const state = fold([lossy, repaired, { ...repaired, at: 1500 }]);
    expect(state.headLostSince).toBeUndefined();
    expect(judgeOut(state, 1500)).toBeUndefined();
  });

  it('a request of one segment retransmitted many times is not the signature (nothing after it to SACK)', () => {
    expect(requestHeadLost({ bytesAcked: 1, sacked: 0, bytesSent: 2068, bytesRetrans: 1551, sndMss: 1448 })).toBe(
      false,
    );
    expect(requestHeadLost({ bytesAcked: 1, sacked: 1, bytesSent: 2068, bytesRetrans: 1551, sndMss: 1448 })).toBe(
      false,
    );
  });
});
