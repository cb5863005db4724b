/**
 * What a TCP socket's kernel state proves about the path, used by the probe's early verdict (src/probe/evidence.ts)
 * and by the diagnosis (src/diagnose/rules/stall.ts) alike, so both read the same signature the same way.
 */
import type { TcpInfo } from './report.js';

/**
 * Our own full-size segment is dropped on the way to the server, a black hole outbound: the server's kernel SACKed a
 * later, shorter segment of our request (`sacked`), yet never ACKed its first, full-size one (bytes_acked stays at
 * 1, the SYN), and what we sent, retransmissions aside, was more than one segment (bytes_sent - bytes_retrans above the
 * MSS). Node 24's ~1.6 KB
 * ClientHello is such a request: 1448 bytes and a tail. A lossy path shows this for one RTO at most; the callers
 * require it to persist.
 */
export function requestHeadLost(
  t: Pick<TcpInfo, 'bytesAcked' | 'sacked' | 'bytesSent' | 'bytesRetrans' | 'sndMss'>,
): boolean {
  if ((t.bytesAcked ?? 0) > 1 || (t.sacked ?? 0) === 0 || t.bytesSent === undefined) return false;
  return t.bytesSent - (t.bytesRetrans ?? 0) > (t.sndMss ?? 1448);
}
