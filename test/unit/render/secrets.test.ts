/**
 * A proxy password must never reach any output, whichever field carries it: run() redacts what it
 * knows about, and every renderer masks credentials in URLs on the way out for what it does not.
 */
import { describe, expect, it } from 'vitest';
import { maskSecrets } from '../../../src/util/redact.js';
import { renderJson } from '../../../src/render/json.js';
import { renderMarkdown } from '../../../src/render/markdown.js';
import { renderProgressLine } from '../../../src/render/progress.js';
import { renderText } from '../../../src/render/text.js';
import type { Report } from '../../../src/model/report.js';
import { loadReport } from './fixtures.js';

const USER = 'ci-bot';
const PASSWORD = 'hunter2-s3cret';
const PROXY = `http://${USER}:${PASSWORD}@proxy.corp.example:3128`;

/** The nested fixture with the proxy URL, unredacted, in every free-text field a collector could fill. */
function reportLeakingProxy(): Report {
  const r = loadReport('nested-docker-blackhole');
  r.settings.proxy = PROXY;
  r.settings.urls = [`https://${USER}:${PASSWORD}@artifacts.corp.example/big.tgz`];
  const host = r.layers[0]!;
  host.notes.push(`HTTPS_PROXY=${PROXY} was set`);
  // A layer's typed fields are free text too: a DOCKER_HOST with credentials in it, say.
  const daemon = r.layers.find((l) => l.kind === 'docker-daemon')!;
  if (daemon.kind === 'docker-daemon')
    daemon.endpoint = { host: PROXY.replace('http:', 'tcp:'), source: 'DOCKER_HOST' };
  const probe = host.probes[0]!;
  probe.viaProxy = PROXY;
  probe.error = { code: 'UND_ERR_SOCKET', message: `other side closed (${PROXY})` };
  const container = r.layers[3]!.probes[0]!;
  container.url = `https://${USER}:${PASSWORD}@registry.npmjs.org/typescript/-/typescript-5.9.3.tgz`;
  const finding = r.findings[0]!;
  finding.evidence.push(`via proxy ${PROXY}`);
  finding.summary += ` (proxy ${PROXY})`;
  finding.fix!.steps.push({
    title: `export https_proxy=${PROXY}`,
    language: 'sh',
    snippet: `export https_proxy=${PROXY}`,
  });
  return r;
}

describe('no renderer prints a proxy password', () => {
  const outputs: Array<[string, (r: Report) => string]> = [
    ['text', (r) => renderText(r, { color: false })],
    ['text in colour', (r) => renderText(r, { color: true, width: 60 })],
    ['markdown', renderMarkdown],
    ['json', renderJson],
    [
      'progress line',
      (r) =>
        r.layers
          .flatMap((l) => l.probes)
          .map((p) => renderProgressLine(p))
          .join('\n'),
    ],
  ];
  it.each(outputs)('%s', (_, render) => {
    const out = render(reportLeakingProxy());
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(USER);
  });

  it('still says a proxy was used, with its host', () => {
    expect(renderText(reportLeakingProxy(), { color: false })).toContain(
      'via proxy http://***:***@proxy.corp.example:3128',
    );
    expect(JSON.parse(renderJson(reportLeakingProxy())).settings.proxy).toBe('http://***:***@proxy.corp.example:3128');
  });
});

describe('maskSecrets', () => {
  it.each([
    ['user and password', `proxy ${PROXY}/ down`, 'proxy http://***:***@proxy.corp.example:3128/ down'],
    ['user only', 'ssh://git@github.com/x/y', 'ssh://***@github.com/x/y'],
    ['an @ inside the password', 'http://u:p@ss@host:8080/x', 'http://***:***@host:8080/x'],
    ['an @ in the query, not user-info', 'https://a.example/c?mail=a@b', 'https://a.example/c?mail=a@b'],
    ['a URL in quotes', `"${PROXY}"`, '"http://***:***@proxy.corp.example:3128"'],
    [
      'an @ after the URL, not in it',
      'see http://host.example, or write to a@b',
      'see http://host.example, or write to a@b',
    ],
    ['already masked', 'http://***:***@p:1', 'http://***:***@p:1'],
    ['already masked and markdown-escaped', 'http://\\*\\*\\*:\\*\\*\\*@p', 'http://\\*\\*\\*:\\*\\*\\*@p'],
  ])('%s', (_, input, expected) => {
    expect(maskSecrets(input)).toBe(expected);
  });
});
