/**
 * Issue 5, bad input to the two entries other than flags (test/unit/options.test.ts has the flags): the config file
 * and the Action's inputs. Each case must be a usage error (exit 2) in one line that names the input, what it got
 * and what it expects; never a stack trace, never an internal error (exit 3).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAction, type ActionCore } from '../../src/main/action.js';
import { loadConfigFile } from '../../src/config/config-file.js';
import { parseOptions, UsageError } from '../../src/config/options.js';
import { defaultDeps, run } from '../../src/run.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write `text` as a config file, load and validate it as the CLI and the Action do. */
async function loadConfig(name: string, text: string): Promise<unknown> {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  const cfg = await loadConfigFile(file);
  return parseOptions([{ source: 'config', ...cfg }]);
}

const BAD_CONFIGS: Array<[string, string, RegExp]> = [
  [
    'tab indentation',
    'registries: npm\n\tdocker: auto\n',
    /is not valid YAML at line 2: Tabs are not allowed as indentation\.$/,
  ],
  ['duplicate key', 'timeout: 30\ntimeout: 40\n', /is not valid YAML at line 2: Map keys must be unique\.$/],
  [
    'two documents',
    'timeout: 3\n---\nstrict: true\n',
    /is not valid YAML at line 2: Source contains multiple documents/,
  ],
  ['unclosed flow list', 'registries: [npm, pypi\n', /is not valid YAML at line \d/],
  ['unclosed quote', 'url: "https://a.test/x\n', /is not valid YAML at line \d/],
  ['a NUL byte', 'timeout: 3\n\u0000\n', /is not valid YAML at line 2/],
  [
    'alias bomb',
    'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
    /cannot be read as a mapping: Excessive alias count/,
  ],
  [
    'a list at the top',
    '- timeout: 30\n',
    /must be a mapping of option names to values \(such as 'timeout: 30'\), got a list\.$/,
  ],
  ['a scalar at the top', 'npm\n', /must be a mapping of option names to values .*, got a single value\.$/],
  ['typo in a key', 'regsitries: npm\n', /^Unknown config key 'regsitries' in .* \(did you mean 'registries'\?\)/],
  ['wrong case in a key', 'Timeout: 5\n', /^Unknown config key 'Timeout' in .* \(did you mean 'timeout'\?\)/],
  ['a flag-only name', 'config: other.yml\n', /^Unknown config key 'config' in /],
  ['a numeric key', '42: 3\n', /^Unknown config key '42' in /],
  [
    'a mapping as a value',
    'registries: { npm: true }\n',
    /^Config key 'registries' in .* must be a single value or a list, got a mapping\.$/,
  ],
  [
    'a mapping in a list',
    'urls:\n  - https://a.test/x\n  - { href: https://a.test/y }\n',
    /^Config key 'urls' in .* must be a list of single values; item 2 is a mapping\.$/,
  ],
  [
    'infinite timeout',
    'timeout: .inf\n',
    /^Config key 'timeout' must be a positive number of seconds, got 'Infinity' in /,
  ],
  ['negative timeout', 'timeout: -1\n', /^Config key 'timeout' must be a positive number of seconds, got '-1' in /],
  ['a date as timeout', 'timeout: 2001-12-14\n', /must be a positive number of seconds, got '2001-12-14'/],
  ['a list as timeout', 'timeout: [1, 2]\n', /must be a positive number of seconds, got '1,2'/],
  [
    'stall longer than timeout',
    'timeout: 5\nstall-timeout: 10\n',
    /^stall-timeout \(10 s\) must be shorter than timeout \(5 s\)/,
  ],
  [
    'ftp url',
    'url: ftp://mirror.test/x\n',
    /^Config key 'url' must be an absolute http:\/\/ or https:\/\/ URL, got 'ftp:\/\/mirror\.test\/x' in /,
  ],
  ['a number as url', 'urls: [42]\n', /^Config key 'url' must be an absolute http/],
  ['unknown registry', 'registries: [npm, cargo]\n', /^Config key 'registries' has unknown registry 'cargo'/],
  ['nothing to probe', 'registries: none\n', /^Nothing to probe/],
  [
    'max-bytes words',
    'max-bytes: lots\n',
    /^Config key 'max-bytes' must be a size in bytes such as 2097152, 512K or 2M, got 'lots' in /,
  ],
  ['strict maybe', 'strict: maybe\n', /^Config key 'strict' must be true or false, got 'maybe' in /],
  ['docker yes', 'docker: yes\n', /^Config key 'docker' must be one of auto, off, required, got 'yes' in /],
  [
    'assume-mtu too small',
    'assume-mtu: 68\n',
    /^Config key 'assume-mtu' must be an MTU between 576 and 65535, got '68' in /,
  ],
];

describe('config file: bad input is one clear line', () => {
  it.each(BAD_CONFIGS)('%s', async (name, text, message) => {
    const err = await loadConfig(`${name.replace(/\W+/g, '-')}.yml`, text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it.each([
    [
      'a file that does not exist',
      path.join(dir, 'missing.yml'),
      /^Config file '.*missing\.yml' does not exist; expected a YAML file/,
    ],
    ['a directory', dir, /^Config file '.*' cannot be read \(EISDIR\); expected a readable YAML file\.$/],
  ])('%s', async (_name, file, message) => {
    const err = await loadConfigFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });
});

/** A core that records what the Action printed; getInput as the runner provides it (unset inputs are ''). */
function recorder(inputs: Record<string, string>) {
  const calls: Array<[string, ...unknown[]]> = [];
  const rec =
    (name: string) =>
    (...args: unknown[]) =>
      void calls.push([name, ...args]);
  const core: ActionCore = {
    getInput: (name) => inputs[name] ?? '',
    getMultilineInput: (name) =>
      (inputs[name] ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    setSecret: rec('setSecret'),
    setOutput: rec('setOutput'),
    setFailed: rec('setFailed'),
    error: rec('error'),
    warning: rec('warning'),
    notice: rec('notice'),
    info: rec('info'),
    debug: rec('debug'),
    startGroup: rec('startGroup'),
    endGroup: rec('endGroup'),
    summary: { addRaw: (text) => ({ write: async () => void calls.push(['summary', text]) }) },
  };
  return { core, calls };
}

const config = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const BAD_INPUTS: Array<[string, Record<string, string>, RegExp]> = [
  ['timeout abc', { timeout: 'abc' }, /^Input 'timeout' must be a positive number of seconds, got 'abc'\.$/],
  ['timeout 0', { timeout: '0' }, /^Input 'timeout' must be a positive number of seconds, got '0'\.$/],
  ['timeout huge', { timeout: '86400' }, /^Input 'timeout' must be at most 3600 seconds, got '86400'\.$/],
  [
    'stall-timeout negative',
    { 'stall-timeout': '-3' },
    /^Input 'stall-timeout' must be a positive number of seconds, got '-3'\.$/,
  ],
  [
    'stall-timeout above timeout',
    { timeout: '5', 'stall-timeout': '5' },
    /^stall-timeout \(5 s\) must be shorter than timeout \(5 s\)/,
  ],
  [
    'registries typo',
    { registries: 'npm,pipy' },
    /^Input 'registries' has unknown registry 'pipy' \(did you mean 'pypi'\?\)/,
  ],
  [
    'url not http',
    { registries: 'none', url: 'ftp://mirror.test/big.iso' },
    /^Input 'url' must be an absolute http:\/\/ or https:\/\/ URL, got 'ftp:\/\/mirror\.test\/big\.iso'\.$/,
  ],
  [
    'second url line bad',
    { url: 'https://ok.test/a\nnot a url' },
    /^Input 'url' must be an absolute http:\/\/ or https:\/\/ URL, got 'not a url'\.$/,
  ],
  [
    'url with credentials, not http',
    { url: 'ftp://deploy:t0ken@mirror.test/x' },
    /^Input 'url' must be an absolute http:\/\/ or https:\/\/ URL, got 'ftp:\/\/\*\*\*:\*\*\*@mirror\.test\/x'\.$/,
  ],
  [
    'max-bytes too small',
    { 'max-bytes': '10' },
    /^Input 'max-bytes' must be between 1024 and 1073741824 bytes, got '10'\.$/,
  ],
  ['min-throughput words', { 'min-throughput': 'fast' }, /^Input 'min-throughput' must be a size in bytes/],
  ['format xml', { format: 'xml' }, /^Input 'format' must be one of text, json, markdown, got 'xml'\.$/],
  ['strict maybe', { strict: 'maybe' }, /^Input 'strict' must be true or false, got 'maybe'\.$/],
  [
    'docker sometimes',
    { docker: 'sometimes' },
    /^Input 'docker' must be one of auto, off, required, got 'sometimes'\.$/,
  ],
  ['pull when', { pull: 'when-needed' }, /^Input 'pull' must be one of never, missing, always/],
  [
    'probe-image spaces',
    { 'probe-image': 'node 24' },
    /^Input 'probe-image' must be an image reference such as node:24-alpine, got 'node 24'\.$/,
  ],
  [
    'assume-mtu 9999999',
    { 'assume-mtu': '9999999' },
    /^Input 'assume-mtu' must be an MTU between 576 and 65535, got '9999999'\.$/,
  ],
  ['color purple', { color: 'purple' }, /^Input 'color' must be one of auto, always, never/],
  ['config missing', { config: path.join(dir, 'nope.yml') }, /^Config file '.*nope\.yml' does not exist/],
  [
    'config malformed',
    { config: config('action-malformed.yml', 'timeout: [30\n') },
    /^Config file '.*action-malformed\.yml' is not valid YAML at line \d/,
  ],
  [
    'config typo',
    { config: config('action-typo.yml', 'stall-timout: 5\n') },
    /^Unknown config key 'stall-timout' in .* \(did you mean 'stall-timeout'\?\)/,
  ],
  [
    'ca-file missing (read by run)',
    { registries: 'none', url: 'https://a.test/x', docker: 'off', 'ca-file': path.join(dir, 'nope.pem') },
    /^ca-file '.*nope\.pem' cannot be read \(ENOENT\); expected a readable PEM file\.$/,
  ],
  [
    'ca-file not PEM (read by run)',
    { registries: 'none', url: 'https://a.test/x', docker: 'off', 'ca-file': config('not-a-cert.pem', 'hello\n') },
    /^ca-file '.*not-a-cert\.pem' has no PEM certificate/,
  ],
];

describe('Action inputs: bad input fails the step in one line, exit 2, before anything else', () => {
  it.each(BAD_INPUTS)('%s', async (_name, inputs, message) => {
    const { core, calls } = recorder(inputs);
    const exit: number[] = [];
    // The real run(): an unreadable ca-file is found there, before anything is probed.
    await runAction({
      core,
      env: {},
      run: (o) =>
        run(o, {
          ...defaultDeps(),
          lookup: async () => {
            throw new Error('no lookups in a bad-input test');
          },
        }),
      exists: () => false,
      setExitCode: (c) => exit.push(c),
      cleanup: async () => undefined,
    });
    expect(exit).toEqual([2]);
    const failed = calls.filter((c) => c[0] === 'setFailed');
    expect(failed).toHaveLength(1);
    expect(String(failed[0]![1])).toMatch(message);
    expect(String(failed[0]![1])).not.toContain('\n');
    // Nothing else: no outputs, annotations, log lines or summary (setSecret for credentials is allowed, first).
    expect(calls.filter((c) => c[0] !== 'setFailed' && c[0] !== 'setSecret')).toEqual([]);
  });
});
