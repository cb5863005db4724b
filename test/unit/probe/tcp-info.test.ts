import { describe, expect, it } from 'vitest';
import { parseSsTcpInfo } from '../../../src/probe/tcp-info.js';

// Shape of `ss -tinH sport = :PORT` (iproute2 6.1, Debian bookworm).
const STALLED = `ESTAB 0      0         10.213.1.2:41872 10.213.3.2:443
\t cubic wscale:7,7 rto:1000 rtt:0.4/0.2 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10 bytes_sent:377 bytes_acked:378 segs_out:3 segs_in:4 data_segs_out:1 send 290Mbps lastsnd:3020 lastrcv:3010 lastack:3010 pacing_rate 579Mbps delivery_rate 73Mbps delivered:2 app_limited busy:4ms rcv_ooopack:2 rcv_space:14480 rcv_ssthresh:64088 minrtt:0.2 snd_wnd:64256
`;

describe('parseSsTcpInfo', () => {
  it('reads the black-hole signature: request acked, nothing delivered, out-of-order tail segments held', () => {
    const info = parseSsTcpInfo(STALLED, { address: '10.213.3.2', port: 443 });
    expect(info).toMatchObject({ bytesAcked: 378, rcvOooPack: 2, rcvMss: 536, advMss: 1448, pmtu: 1500, segsIn: 4 });
    expect(info?.bytesReceived).toBeUndefined();
  });

  it('picks the socket talking to the remote, not another one on the same port filter', () => {
    const two = `ESTAB 0 0 10.0.0.2:5000 10.9.9.9:443\n\t bytes_received:99 rcvmss:1448\n${STALLED}`;
    expect(parseSsTcpInfo(two, { address: '10.213.3.2', port: 443 })?.rcvOooPack).toBe(2);
  });

  it('returns undefined when ss printed nothing (socket already gone)', () => {
    expect(parseSsTcpInfo('', { address: '10.213.3.2', port: 443 })).toBeUndefined();
  });
});
