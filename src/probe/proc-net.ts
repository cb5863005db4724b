/**
 * The kernel's view of a probe socket where `ss` is missing (the probe image is busybox + node): /proc/net/tcp and
 * tcp6 give one line per socket (state, tx_queue: bytes sent and not yet ACKed, rto in clock ticks); /proc/net/netstat
 * gives the namespace's TcpExt counters, among them TCPOFOQueue: segments queued behind a gap, by any socket of the
 * namespace. That counter is this socket's only when every connection of the namespace is one of our quiet probes,
 * which the caller checks (src/probe/early.ts). Parsers here are pure; readProcNet reads the three files.
 */
import { readFile } from 'node:fs/promises';

export interface ProcSocket {
  /** TCP state number (1: ESTABLISHED). */
  state: number;
  localPort: number;
  remotePort: number;
  /** Bytes sent and not yet ACKed. */
  txQueue: number;
  /** Bytes received in order and not yet read by the application. */
  rxQueue: number;
  /** The retransmission timeout, ms (the file gives clock ticks: USER_HZ is 100 on Linux). */
  rtoMs?: number;
}

export interface ProcNet {
  sockets: ProcSocket[];
  /** TcpExt TCPOFOQueue of the namespace. */
  ofoQueue?: number;
}

const TCP_ESTABLISHED = 1;
const USER_HZ_MS = 10;

/** Parse /proc/net/tcp or /proc/net/tcp6 (same columns; addresses are hex, ports hex after the colon). */
export function parseProcNetTcp(text: string): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 12) continue;
    const [, local, remote, st, queues] = f;
    const lp = /:([0-9A-F]{4})$/i.exec(local!);
    const rp = /:([0-9A-F]{4})$/i.exec(remote!);
    const q = /^([0-9A-F]+):([0-9A-F]+)$/i.exec(queues!);
    if (!lp || !rp || !q) continue;
    // Columns after inode: refcount, pointer, rto, ato, quick/pingpong, cwnd, ssthresh (only for full sockets).
    const rto = f.length >= 17 ? Number.parseInt(f[12]!, 10) : Number.NaN;
    out.push({
      state: Number.parseInt(st!, 16),
      localPort: Number.parseInt(lp[1]!, 16),
      remotePort: Number.parseInt(rp[1]!, 16),
      txQueue: Number.parseInt(q[1]!, 16),
      rxQueue: Number.parseInt(q[2]!, 16),
      ...(Number.isFinite(rto) && rto > 0 ? { rtoMs: rto * USER_HZ_MS } : {}),
    });
  }
  return out;
}

/** One counter of /proc/net/netstat (pairs of lines: `TcpExt: names...` then `TcpExt: values...`). */
export function parseNetstatCounter(text: string, group: string, name: string): number | undefined {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    if (names[0] !== `${group}:` || values[0] !== `${group}:`) continue;
    const at = names.indexOf(name);
    if (at < 1) return undefined;
    const v = Number(values[at]);
    return Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

/** Established connections, except those over loopback ports we do not own (none are ours: probes go out). */
export function established(sockets: readonly ProcSocket[]): ProcSocket[] {
  return sockets.filter((s) => s.state === TCP_ESTABLISHED);
}

/** Read the namespace's /proc/net files; undefined where they cannot be read (not Linux, no /proc). */
export async function readProcNet(root = '/proc/net'): Promise<ProcNet | undefined> {
  const read = (f: string) => readFile(`${root}/${f}`, 'utf8').catch(() => undefined);
  const [tcp, tcp6, netstat] = await Promise.all([read('tcp'), read('tcp6'), read('netstat')]);
  if (tcp === undefined && tcp6 === undefined) return undefined;
  const ofo = netstat === undefined ? undefined : parseNetstatCounter(netstat, 'TcpExt', 'TCPOFOQueue');
  return {
    sockets: [...parseProcNetTcp(tcp ?? ''), ...parseProcNetTcp(tcp6 ?? '')],
    ...(ofo !== undefined ? { ofoQueue: ofo } : {}),
  };
}
