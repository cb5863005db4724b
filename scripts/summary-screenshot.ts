/**
 * docs/job-summary.png: the job summary of a real run, as GitHub would show it, for the README.
 *
 * Runs the DinD-on-flannel lab scenario as a GitHub job would see it (runner eth0 1450, ICMP dropped, a nested dockerd with docker0 at 1500; the
 * same lab as test/lab/docker.itg.test.ts) with `--format markdown`, which is what the Action writes to the job
 * summary, renders that markdown (marked, and mermaid for the diagram) in Debian's headless Chromium and takes a
 * screenshot of its top: the verdict, the diagram and the first finding with its fix (the layer and probe tables follow
 * in the real summary). As root; needs `apt-get install chromium fonts-noto-color-emoji`. The renderers are not dependencies of the project: they are
 * installed into .lab-tmp/screenshot-deps on first use.
 *
 *   vite-node scripts/summary-screenshot.ts [out.png]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildProbeImageRootfs, importProbeImage, startNestedDockerd } from '../test/lab/harness/docker-lab.js';
import { createLab } from '../test/lab/harness/lab.js';
import { runCli } from '../test/lab/cli.js';

const root = path.resolve(import.meta.dirname, '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs/job-summary.png'));
const deps = path.join(root, '.lab-tmp/screenshot-deps');
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium`);
if (!existsSync(path.join(deps, 'node_modules/mermaid'))) {
  mkdirSync(deps, { recursive: true });
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      deps,
      '--no-audit',
      '--no-fund',
      '--no-save',
      'marked@16',
      'mermaid@11',
      'playwright-core@1',
    ],
    { stdio: 'inherit' },
  );
}
const req = createRequire(path.join(deps, 'node_modules/'));
const { marked } = (await import(pathToFileURL(req.resolve('marked')).href)) as typeof import('marked');
const { chromium } = req('playwright-core') as {
  chromium: { launch(o: object): Promise<{ newPage(o: object): Promise<Page>; close(): Promise<void> }> };
};
interface Page {
  setContent(html: string, o?: object): Promise<void>;
  waitForFunction(fn: string, arg?: unknown, o?: object): Promise<unknown>;
  evaluate<T>(fn: string): Promise<T>;
  screenshot(o: object): Promise<Buffer>;
}

execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs'), path.join(root, '.lab-tmp/dist')], {
  stdio: 'inherit',
});
const IMAGE = 'mtp-probe:shot';
const rootfs = (await buildProbeImageRootfs()).tarball;
const lab = await createLab({
  runnerMtu: 1450,
  bottleneckMtu: 1450,
  dropFragNeeded: true,
  names: ['registry.npmjs.org'],
});
let markdown: string;
const d = await startNestedDockerd({ netns: lab.runnerNs, dns: [lab.dnsIp] });
try {
  await importProbeImage(d.host, IMAGE, rootfs);
  const r = await runCli(
    lab,
    [
      '--registries',
      'npm',
      '--ca-file',
      lab.caFile,
      '--probe-image',
      IMAGE,
      '--pull',
      'never',
      '--no-lint',
      '--format',
      'markdown',
    ],
    {
      env: { DOCKER_HOST: d.host, GITHUB_ACTIONS: 'true' },
    },
  );
  if (r.code !== 1) throw new Error(`expected the black hole (exit 1), got exit ${r.code}: ${r.stderr}`);
  markdown = r.stdout;
} finally {
  await d.stop();
  await lab.close();
}

// GitHub renders ```mermaid blocks as diagrams: the same here, with mermaid in the page.
const body = (await marked.parse(markdown)).replace(
  /<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g,
  '<pre class="mermaid">$1</pre>',
);
const css = `
  body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0; padding: 24px 32px; width: 980px; }
  h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; } h3, h4 { margin: 1.2em 0 .5em; }
  table { border-collapse: collapse; margin: 8px 0 16px; display: block; overflow: auto; }
  th, td { border: 1px solid #d1d9e0; padding: 4px 10px; } th { background: #f6f8fa; } tr:nth-child(2n) td { background: #f6f8fa; }
  code { background: #eff1f3; border-radius: 6px; padding: .15em .35em; font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
  pre { background: #f6f8fa; border-radius: 6px; padding: 12px; overflow: auto; } pre code { background: none; padding: 0; }
  pre.mermaid { background: none; text-align: center; } details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
`;
const mermaidJs = readFileSync(req.resolve('mermaid/dist/mermaid.min.js'), 'utf8');
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style></head><body>${body}
<script>${mermaidJs}</script><script>mermaid.initialize({ startOnLoad: false, theme: 'default' }); mermaid.run().then(() => { document.body.dataset.ready = '1'; });</script></body></html>`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1044, height: 800 }, deviceScaleFactor: 1 });
  await page.setContent(html, { waitUntil: 'load' });
  await page.waitForFunction('document.body.dataset.ready === "1"', undefined, { timeout: 20_000 });
  mkdirSync(path.dirname(out), { recursive: true });
  // Down to the first heading after the findings ("Layers"), or the whole page.
  const height = await page.evaluate<number>(
    `(() => { const h = [...document.querySelectorAll('h3')].find((e) => e.textContent.trim() === 'Layers'); return h ? Math.ceil(h.getBoundingClientRect().top + window.scrollY) : document.body.scrollHeight; })()`,
  );
  writeFileSync(out, await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1044, height }, type: 'png' }));
  console.log(`wrote ${path.relative(root, out)}`);
} finally {
  await browser.close();
}
