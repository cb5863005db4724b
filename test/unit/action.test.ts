import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runAction, type ActionCore, type ActionDeps } from '../../src/main/action.js';
import { readInputs } from '../../src/config/action-inputs.js';
import {
  DEFAULT_CONFIG_FILE,
  loadConfigFile,
  parseConfigFile,
  resolveConfigPath,
} from '../../src/config/config-file.js';
import { OPTION_HELP, OPTION_NAMES, UsageError, parseOptions } from '../../src/config/options.js';
import type { Report } from '../../src/model/report.js';
import { loadReport } from './render/fixtures.js';

const configFixture = (name: string) => new URL(`../fixtures/config/${name}`, import.meta.url).pathname;

/** getInput as the runner provides it: every declared input exists, unset ones are ''. */
function inputsFrom(given: Record<string, string>): (name: string) => string {
  return (name) => given[name] ?? '';
}

describe('readInputs', () => {
  it('reads every option by its kebab-case name and leaves empty inputs out', () => {
    const asked: string[] = [];
    const { values, config } = readInputs((name) => {
      asked.push(name);
      return { timeout: '30', 'stall-timeout': '  ', strict: 'true', registries: 'npm,pypi' }[name] ?? '';
    });
    expect(values).toEqual({ timeout: '30', strict: 'true', registries: 'npm,pypi' });
    expect(config).toBeUndefined();
    expect([...new Set(asked)].sort()).toEqual([...OPTION_NAMES, 'config'].sort());
  });

  it('takes one URL a line from the url input', () => {
    const { values } = readInputs(inputsFrom({ url: 'https://a.example/x.tgz\n\n  https://b.example/y.tgz  \r\n' }));
    expect(values.url).toEqual(['https://a.example/x.tgz', 'https://b.example/y.tgz']);
  });

  it("uses the runner's getMultilineInput when given", () => {
    const { values } = readInputs(inputsFrom({}), (name) => (name === 'url' ? ['https://c.example/z.tgz'] : []));
    expect(values.url).toEqual(['https://c.example/z.tgz']);
  });

  it('returns the config input apart from the options', () => {
    expect(readInputs(inputsFrom({ config: 'ci/preflight.yml' }))).toEqual({ values: {}, config: 'ci/preflight.yml' });
  });

  it('feeds parseOptions: inputs override the config file, empty inputs leave it alone', async () => {
    const file = await loadConfigFile(configFixture('valid.yml'));
    const { values } = readInputs(inputsFrom({ timeout: '45', docker: '' }));
    const o = parseOptions([
      { source: 'config', ...file },
      { source: 'input', values },
    ]);
    expect(o.timeoutMs).toBe(45_000);
    expect(o.docker).toBe('required');
    expect(o.stallTimeoutMs).toBe(5_000);
  });

  it('names the input in errors', () => {
    const { values } = readInputs(inputsFrom({ timeout: 'abc' }));
    expect(() => parseOptions([{ source: 'input', values }])).toThrow(
      "Input 'timeout' must be a positive number of seconds, got 'abc'.",
    );
  });
});

describe('config file', () => {
  it('reads a valid file into raw values', async () => {
    const { values, file } = await loadConfigFile(configFixture('valid.yml'));
    expect(file).toBe(configFixture('valid.yml'));
    expect(values).toEqual({
      registries: ['npm', 'pypi'],
      urls: ['https://artifacts.example.com/releases/tool-1.2.3.tar.gz', 'https://mirror.example.com/big.iso'],
      timeout: 30,
      'stall-timeout': '5s',
      'max-bytes': '4M',
      strict: 'yes',
      docker: 'required',
      lint: false,
    });
    const o = parseOptions([{ source: 'config', values, file }]);
    expect(o).toMatchObject({
      registries: ['npm', 'pypi'],
      timeoutMs: 30_000,
      maxBytes: 4 * 1024 * 1024,
      strict: true,
      docker: 'required',
      lintDir: null,
    });
    expect(o.urls).toHaveLength(2);
  });

  it('treats an empty file as setting nothing', async () => {
    expect((await loadConfigFile(configFixture('empty.yml'))).values).toEqual({});
  });

  it.each([
    [
      'malformed.yml',
      /^Config file '.*malformed\.yml' is not valid YAML at line 3: Tabs are not allowed as indentation\.$/,
    ],
    [
      'not-a-mapping.yml',
      /^Config file '.*not-a-mapping\.yml' must be a mapping of option names to values \(such as 'timeout: 30'\), got a list\.$/,
    ],
    [
      'nested-list.yml',
      /^Config key 'url' in .*nested-list\.yml must be a list of single values; item 2 is a mapping\.$/,
    ],
    ['does-not-exist.yml', /^Config file '.*does-not-exist\.yml' does not exist; expected a YAML file/],
  ])('%s is a usage error with one clear line', async (name, message) => {
    const err = await loadConfigFile(configFixture(name)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a directory is a usage error naming the errno code', async () => {
    await expect(loadConfigFile(configFixture(''))).rejects.toThrow(/cannot be read \(EISDIR\)/);
  });

  it('an unknown key with a typo gets a suggestion naming the file', async () => {
    const file = await loadConfigFile(configFixture('typo.yml'));
    expect(() => parseOptions([{ source: 'config', ...file }])).toThrow(
      /^Unknown config key 'stall-timout' in .*typo\.yml \(did you mean 'stall-timeout'\?\)/,
    );
  });

  it('a duplicate key is malformed YAML, with its line', () => {
    expect(() => parseConfigFile('timeout: 30\nregistries: npm\ntimeout: 40\n', 'x.yml')).toThrow(
      "Config file 'x.yml' is not valid YAML at line 3: Map keys must be unique.",
    );
  });

  it('a scalar at the top level is not a mapping', () => {
    expect(() => parseConfigFile('npm\n', 'x.yml')).toThrow(/got a single value\.$/);
  });

  it('resolves which file to read', () => {
    expect(resolveConfigPath('ci/p.yml', () => false)).toBe('ci/p.yml');
    expect(resolveConfigPath(undefined, (p) => p === DEFAULT_CONFIG_FILE)).toBe(DEFAULT_CONFIG_FILE);
    expect(resolveConfigPath(undefined, () => false)).toBeUndefined();
  });
});

describe('action.yml', () => {
  const action = parseYaml(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
    runs: { using: string; main: string };
    inputs: Record<string, { description: string; default?: string }>;
    outputs: Record<string, { description: string }>;
  };

  it('declares one input per option, described by its help text, plus config', () => {
    expect(Object.keys(action.inputs)).toEqual([...OPTION_NAMES, 'config']);
    for (const [name, help] of OPTION_HELP) expect(action.inputs[name]!.description).toBe(help);
  });

  it('gives no input a default, so an input left out never overrides .mtu-preflight.yml', () => {
    for (const input of Object.values(action.inputs)) expect(input).not.toHaveProperty('default');
  });

  it('declares the outputs the Action sets and runs dist/action.js on node24', () => {
    expect(Object.keys(action.outputs)).toEqual(['verdict', 'recommended-mtu', 'uplink-mtu', 'report-json']);
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/action.js' });
  });
});

/** A stand-in for @actions/core that records what the Action did. */
function recordingDeps(
  inputs: Record<string, string>,
  report: Report | (() => Promise<Report>),
  env: NodeJS.ProcessEnv = {},
) {
  const calls: Array<[string, ...unknown[]]> = [];
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, ...args]);
    };
  const core: ActionCore = {
    getInput: (name) => inputs[name] ?? '',
    getMultilineInput: (name) => (inputs[name] ?? '').split('\n').filter(Boolean),
    setSecret: record('setSecret'),
    setOutput: record('setOutput'),
    setFailed: record('setFailed'),
    error: record('error'),
    warning: record('warning'),
    notice: record('notice'),
    info: record('info'),
    debug: record('debug'),
    startGroup: record('startGroup'),
    endGroup: record('endGroup'),
    summary: {
      addRaw: (text) => ({
        write: async () => {
          calls.push(['summary', text]);
        },
      }),
    },
  };
  const exit: number[] = [];
  const deps: Partial<ActionDeps> = {
    core,
    env,
    run: typeof report === 'function' ? report : async () => report,
    exists: () => false,
    writeFile: async (path, data) => {
      calls.push(['writeFile', path, data.length]);
    },
    cleanup: async () => {
      calls.push(['cleanup']);
    },
    setExitCode: (code) => exit.push(code),
  };
  const named = (name: string) => calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  return { deps, calls, exit, named };
}

describe('runAction (with a recording core)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a bad input with its one-line message and exit code 2, and does nothing else', async () => {
    const { deps, calls, exit } = recordingDeps({ timeout: 'abc' }, loadReport('healthy-pass'));
    await runAction(deps);
    expect(calls.filter((c) => c[0] !== 'cleanup')).toEqual([
      ['setFailed', "Input 'timeout' must be a positive number of seconds, got 'abc'."],
    ]);
    expect(exit).toEqual([2]);
  });

  it('masks proxy credentials before anything else', async () => {
    const { deps, calls } = recordingDeps({}, loadReport('healthy-pass'), {
      HTTPS_PROXY: 'http://bot:s3cret@proxy:3128',
    });
    await runAction(deps);
    expect(calls.slice(0, 2)).toEqual([
      ['setSecret', 'bot'],
      ['setSecret', 's3cret'],
    ]);
  });

  it('on a failing run: outputs, summary, one annotation per finding, the log, and a one-line failure', async () => {
    const { deps, named, exit } = recordingDeps({}, loadReport('nested-docker-blackhole'), {
      RUNNER_TEMP: '/runner/_temp',
      GITHUB_STEP_SUMMARY: '/runner/summary.md',
    });
    await runAction(deps);
    expect(named('setOutput')).toEqual([
      ['verdict', 'fail'],
      ['recommended-mtu', '1450'],
      ['uplink-mtu', '1450'],
      ['report-json', '/runner/_temp/mtu-preflight-report.json'],
    ]);
    expect(named('writeFile')[0]![0]).toBe('/runner/_temp/mtu-preflight-report.json');
    expect(String(named('summary')[0]![0])).toMatch(/^## ❌ mtu-preflight: FAIL/);
    const [message, properties] = named('error')[0]!;
    expect(properties).toEqual({ title: 'mtu-preflight: pmtu-blackhole' });
    expect(message).toMatch(/stalled.*Fix: Set the Docker MTU to 1450/);
    expect(named('startGroup')).toEqual([['mtu-preflight report: FAIL']]);
    expect(named('info').at(-1)).toEqual(['FAIL: exit code 1 (1 error, 0 warnings).']);
    const [failure] = named('setFailed')[0]!;
    expect(failure).toMatch(
      /^mtu-preflight FAIL: pmtu-blackhole: docker network bridge \(docker0\) MTU 1500 exceeds the daemon's uplink eth0 MTU 1450: /,
    );
    expect(failure).not.toContain('\n');
    expect(exit).toEqual([1]);
    expect(named('cleanup')).toHaveLength(1);
  });

  it('passes a warning unless strict, and skips the summary outside Actions', async () => {
    const lenient = recordingDeps({}, loadReport('mismatch-warning'));
    await runAction(lenient.deps);
    expect(lenient.named('warning')[0]![1]).toEqual({ title: 'mtu-preflight: mtu-mismatch' });
    expect(lenient.named('setFailed')).toEqual([]);
    expect(lenient.named('summary')).toEqual([]);
    expect(lenient.exit).toEqual([0]);

    const strict = recordingDeps({ strict: 'true' }, loadReport('mismatch-warning'));
    await runAction(strict.deps);
    expect(strict.named('setFailed')[0]![0]).toMatch(/^mtu-preflight WARN: mtu-mismatch: docker0 MTU 1500/);
    expect(strict.exit).toEqual([1]);
  });

  it('puts an annotation on the config file line when the finding has one', async () => {
    const report = loadReport('mismatch-warning');
    Object.assign(report.findings[0]!, { code: 'ci-config-mtu', file: '.gitlab-ci.yml', line: 12 });
    const { deps, named } = recordingDeps({}, report);
    await runAction(deps);
    expect(named('warning')[0]![1]).toEqual({
      title: 'mtu-preflight: ci-config-mtu',
      file: '.gitlab-ci.yml',
      startLine: 12,
    });
  });

  it('gives up on a run that outlives its timeout', async () => {
    vi.useFakeTimers();
    const { deps, named, exit } = recordingDeps(
      { timeout: '5', 'stall-timeout': '1' },
      () => new Promise<Report>(() => {}),
    );
    const done = runAction(deps);
    await vi.advanceTimersByTimeAsync(5_000 + 2_000);
    await done;
    expect(named('setFailed')[0]![0]).toMatch(/^mtu-preflight did not finish within its timeout \(5 s\)/);
    expect(exit).toEqual([1]);
  });

  it('reports an internal error in one line, exit code 3', async () => {
    const { deps, named, exit } = recordingDeps({}, async () => {
      throw new TypeError('boom');
    });
    await runAction(deps);
    expect(named('setFailed')).toEqual([['mtu-preflight: internal error: boom']]);
    expect(exit).toEqual([3]);
  });
});

describe('the report file inputs (issue 14)', () => {
  it('junit, sarif, codequality and metrics-file are written through the Action, beside report-json', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-action-files-'));
    try {
      const inputs = {
        junit: path.join(dir, 'out/junit.xml'),
        sarif: path.join(dir, 'out/mtu.sarif'),
        codequality: path.join(dir, 'cq.json'),
        'metrics-file': path.join(dir, 'mtu.prom'),
      };
      const { deps, named, exit } = recordingDeps(inputs, loadReport('nested-docker-blackhole'));
      await runAction(deps);
      const written = named('writeFile').map((c) => c[0]);
      expect(written).toEqual(expect.arrayContaining(Object.values(inputs)));
      expect(exit).toEqual([1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a path that cannot be written fails before the run: one line, exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-action-files-'));
    try {
      writeFileSync(path.join(dir, 'a-file'), '');
      let ran = false;
      const { deps, named, exit } = recordingDeps({ sarif: path.join(dir, 'a-file/mtu.sarif') }, async () => {
        ran = true;
        return loadReport('healthy-pass');
      });
      await runAction(deps);
      expect(ran).toBe(false);
      expect(named('setFailed')).toEqual([
        [
          `Input 'sarif' '${path.join(dir, 'a-file/mtu.sarif')}' cannot be written (ENOTDIR); expected a file path in a writable directory.`,
        ],
      ]);
      expect(exit).toEqual([2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
