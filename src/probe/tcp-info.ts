/**
 * The kernel's view of a stalled probe socket, from `ss -tin`.
 * In a black hole the server's full-size segments are dropped but a short tail segment of the
 * same flight often gets through: the client kernel then holds out-of-order data it can never
 * deliver (rcv_ooopack > 0, nothing in bytes_received). A server that is merely silent sends nothing.
 */
import type { Exec } from '../util/exec.js';
import type { TcpInfo } from '../model/report.js';

export async function readTcpInfo(
  exec: Exec,
  local: { port: number },
  remote: { address: string; port: number },
  timeoutMs = 800,
): Promise<TcpInfo | undefined> {
  const r = await exec('ss', ['-tinH', 'sport', '=', `:${local.port}`], { timeoutMs });
  if (r.code !== 0 || r.error) return undefined;
  return parseSsTcpInfo(r.stdout, remote);
}

/** Parse `ss -tinH` output; picks the socket whose peer is `remote` (first socket otherwise). */
export function parseSsTcpInfo(text: string, remote?: { address: string; port: number }): TcpInfo | undefined {
  const lines = text.split('\n');
  let chosen: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    if (!/^\S/.test(head) || !/\d+\s+\d+\s+\S+\s+\S+/.test(head)) continue;
    const detail = lines[i + 1] && /^\s/.test(lines[i + 1]!) ? lines[i + 1]!.trim() : '';
    const peerMatches =
      !remote ||
      head.includes(`${remote.address}:${remote.port}`) ||
      head.includes(`[${remote.address}]:${remote.port}`);
    if (peerMatches) {
      chosen = detail;
      break;
    }
    chosen ??= detail;
  }
  if (chosen === undefined) return undefined;
  const kv = new Map<string, string>();
  for (const tok of chosen.split(/\s+/)) {
    const m = /^([a-z_]+):(\S+)$/.exec(tok);
    if (m) kv.set(m[1]!, m[2]!);
  }
  const num = (k: string) => (kv.has(k) ? Number.parseInt(kv.get(k)!, 10) : undefined);
  const info: TcpInfo = { raw: chosen };
  const fields: Array<[keyof TcpInfo, string]> = [
    ['bytesAcked', 'bytes_acked'],
    ['bytesReceived', 'bytes_received'],
    ['segsIn', 'segs_in'],
    ['rcvOooPack', 'rcv_ooopack'],
    ['rcvMss', 'rcvmss'],
    ['advMss', 'advmss'],
    ['sndMss', 'mss'],
    ['pmtu', 'pmtu'],
    ['bytesSent', 'bytes_sent'],
    ['bytesRetrans', 'bytes_retrans'],
    ['sacked', 'sacked'],
    ['lost', 'lost'],
  ];
  for (const [field, key] of fields) {
    const v = num(key);
    if (v !== undefined && Number.isFinite(v)) (info as unknown as Record<string, number>)[field] = v;
  }
  const retrans = /retrans:\d+\/(\d+)/.exec(chosen);
  if (retrans) info.retrans = Number(retrans[1]);
  return info;
}

/**
 * The socket's timers from an `ss -tin` detail line: `rto:204` (ms, before `backoff:N`), `rtt:0.175/0.091` (smoothed/variance, ms: from
 * ACKs of what we sent, so only our request) and `rcv_rtt:250` (the receiver's estimate from the data it gets: what
 * a deep queue on the way down adds, which our own rtt never sees).
 */
export function parseSsTimers(raw: string): { rtoMs?: number; rttMs?: number; rcvRttMs?: number } {
  const num = (re: RegExp) => {
    const m = re.exec(raw);
    return m ? Number(m[1]) : undefined;
  };
  // ss prints the RTO after exponential backoff (`backoff:N`): a socket retransmitting its own request doubles it
  // each time. The window the early verdict waits is counted in the path's RTOs, so the one before the backoff.
  const backoff = num(/(?:^|\s)backoff:(\d+)/) ?? 0;
  const rtoBackedOff = num(/(?:^|\s)rto:(\d+(?:\.\d+)?)/);
  const rto = rtoBackedOff !== undefined ? rtoBackedOff / 2 ** Math.min(backoff, 15) : undefined;
  const rtt = num(/(?:^|\s)rtt:(\d+(?:\.\d+)?)\//);
  const rcvRtt = num(/(?:^|\s)rcv_rtt:(\d+(?:\.\d+)?)/);
  return {
    ...(rto !== undefined ? { rtoMs: rto } : {}),
    ...(rtt !== undefined ? { rttMs: rtt } : {}),
    ...(rcvRtt !== undefined ? { rcvRttMs: rcvRtt } : {}),
  };
}
