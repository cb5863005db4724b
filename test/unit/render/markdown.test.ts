import { describe, expect, it } from 'vitest';
import { escapeMermaid, escapeTableCell, renderMarkdown } from '../../../src/render/markdown.js';
import type { Report } from '../../../src/model/report.js';
import { REPORT_NAMES, loadReport } from './fixtures.js';

/** The mermaid block's lines, and its node labels and edges by id. */
function readMermaid(md: string) {
  const block = /```mermaid\n([\s\S]*?)\n```/.exec(md);
  expect(block).not.toBeNull();
  const lines = block![1]!.split('\n').map((l) => l.trim());
  const labels = new Map<string, string>();
  for (const l of lines) {
    const m = /^(\w+)[[({]+"(.*)"[\])}]+$/.exec(l);
    if (m) labels.set(m[1]!, m[2]!);
  }
  const edges = lines.flatMap((l) => {
    const m = /^(\w+) -->(?:\|([^|]*)\|)? (\w+)$/.exec(l);
    return m ? [{ from: m[1]!, label: m[2], to: m[3]! }] : [];
  });
  const nodeByLabel = (text: string) => [...labels].find(([, label]) => label.includes(text))?.[0];
  return { lines, labels, edges, nodeByLabel };
}

describe('renderMarkdown', () => {
  it.each(REPORT_NAMES)('%s matches its snapshot', async (name) => {
    await expect(renderMarkdown(loadReport(name))).toMatchFileSnapshot(`__snapshots__/${name}.md`);
  });

  it('titles the summary with the verdict', () => {
    expect(renderMarkdown(loadReport('healthy-pass'))).toMatch(/^## ✅ mtu-preflight: PASS\n/);
    expect(renderMarkdown(loadReport('mismatch-warning'))).toMatch(/^## ⚠️ mtu-preflight: WARN\n/);
    expect(renderMarkdown(loadReport('nested-docker-blackhole'))).toMatch(
      /^## ❌ mtu-preflight: FAIL\n\npmtu-blackhole for registry\.npmjs\.org .*set the MTU to 1450 \(verified\)\./,
    );
  });

  it('draws the nested path with the bridge at 1500 over the uplink at 1450 and marks that hop', () => {
    const { lines, labels, edges, nodeByLabel } = readMermaid(renderMarkdown(loadReport('nested-docker-blackhole')));
    const uplink = nodeByLabel('uplink')!;
    const daemon = nodeByLabel('docker daemon')!;
    const bridge = nodeByLabel('bridge (docker0)')!;
    expect(labels.get(uplink)).toBe('eth0<br/>uplink · veth · MTU 1450');
    expect(labels.get(daemon)).toContain('MTU 1450');
    expect(labels.get(bridge)).toContain('MTU 1500');
    // internet → uplink → host → daemon → default bridge → container and build step; daemon → verification network → container.
    expect(edges.map((e) => `${e.from}>${e.to}`)).toEqual([
      'internet>L1U1',
      'L1U1>L1',
      'L1>L2',
      'L2>L3',
      'L3>L4',
      'L3>L5',
      'L2>L6',
      'L6>L7',
    ]);
    expect(labels.get('L6')).toBe('temporary network, MTU 1450 (verification)<br/>docker-network · MTU 1450');
    const bad = edges.findIndex((e) => e.label !== undefined);
    expect(edges[bad]).toEqual({ from: daemon, label: 'pmtu-blackhole', to: bridge });
    expect(lines).toContain(`class ${bridge} bad`);
    expect(lines).toContain(`linkStyle ${bad} stroke:#d1242f,stroke-width:3px`);
    expect(lines.some((l) => l.startsWith('classDef bad '))).toBe(true);
    // docker0 is the network's bridge: drawn once, as the network layer, not again under the daemon.
    expect([...labels.values()].filter((l) => l.startsWith('docker0'))).toEqual([]);
  });

  it('marks an oversized bridge of the host as a warning hop', () => {
    const { lines, edges, nodeByLabel } = readMermaid(renderMarkdown(loadReport('mismatch-warning')));
    const docker0 = nodeByLabel('docker0')!;
    expect(edges.find((e) => e.to === docker0)).toEqual({ from: 'L1', label: 'mtu-mismatch', to: docker0 });
    expect(lines).toContain(`class ${docker0} warn`);
  });

  it('marks the way in from the internet when the small hop is beyond this machine', () => {
    const { edges } = readMermaid(renderMarkdown(loadReport('host-pmtu-blackhole')));
    expect(edges[0]).toEqual({ from: 'internet', label: 'pmtu-blackhole', to: 'L1U1' });
  });

  it('marks nothing on a healthy run or for failures that are not about the path', () => {
    for (const name of ['healthy-pass', 'dns-failure'] as const) {
      const { lines, edges } = readMermaid(renderMarkdown(loadReport(name)));
      expect(edges.every((e) => e.label === undefined)).toBe(true);
      expect(lines.some((l) => l.startsWith('class') || l.startsWith('linkStyle'))).toBe(false);
    }
  });

  it('renders fixes as fenced code in the step language', () => {
    const md = renderMarkdown(loadReport('nested-docker-blackhole'));
    expect(md).toContain(
      '2. GitLab Runner, Docker executor (16.5.0+): config.toml, the network it creates per job (only with FF_NETWORK_PER_BUILD)\n\n   ```toml\n   [runners.docker]\n     network_mtu = 1450\n   [runners.feature_flags]\n     FF_NETWORK_PER_BUILD = true\n   ```\n',
    );
    expect(md).toContain('   ```json\n   {\n     "mtu": 1450,');
  });

  it('lists each probe with its timings in one table', () => {
    const md = renderMarkdown(loadReport('dns-failure'));
    expect(md).toContain('| layer | target | outcome | DNS | connect | TLS | TTFB | bytes | throughput | stall |');
    expect(md).toContain(
      '| runner (this network namespace) | registry.npmjs.org | ok | 6 ms | 14 ms | 48 ms | 95 ms | 2.0 MB (cap) | 6.3 MB/s | - |',
    );
    expect(md).toContain(
      '| runner (this network namespace) | rubygems.org | dns-failure (ENOTFOUND) | - | - | - | - | 0 B | - | - |',
    );
  });

  it('escapes names that would break tables, mermaid labels and fences', () => {
    const r: Report = loadReport('mismatch-warning');
    const host = r.layers[0]!;
    host.name = 'runner "a|b" [x] `y` <z>';
    host.interfaces[0]!.name = 'br|weird`';
    host.uplinks[0]!.iface = 'eth"0]';
    r.findings[0]!.fix!.steps[0]!.snippet = 'echo ```not a fence```';
    const md = renderMarkdown(r);

    const { labels } = readMermaid(md);
    // Only the line breaks the renderer puts in remain as markup.
    for (const label of labels.values()) expect(label.replaceAll('<br/>', '')).not.toMatch(/["[\]|`<>]/);
    expect(labels.get('L1')).toBe('runner #34;a#124;b#34; #91;x#93; #96;y#96; #60;z#62;<br/>host · MTU 1400');

    const row = md.split('\n').find((l) => l.startsWith('| br'))!;
    expect(row).toBe('| br\\|weird\\` | bridge | 1500 | up | - | ports: veth3f2a1b0 |');
    // Six columns: seven unescaped pipes.
    expect(row.match(/(?<!\\)\|/g)).toHaveLength(7);

    expect(md).toContain('   ````json\n   echo ```not a fence```\n   ````');
    expect(md).toContain('#### runner "a|b" [x] \\`y\\` &lt;z&gt;');
  });

  it('escape helpers', () => {
    expect(escapeTableCell('a|b\nc')).toBe('a\\|b<br>c');
    expect(escapeMermaid('MTU "1500" [x] #1')).toBe('MTU #34;1500#34; #91;x#93; #35;1');
  });

  it('is deterministic', () => {
    for (const name of REPORT_NAMES) {
      const r = loadReport(name);
      expect(renderMarkdown(r)).toBe(renderMarkdown(structuredClone(r)));
    }
  });
});
