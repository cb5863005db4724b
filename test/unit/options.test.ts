import { describe, expect, it } from 'vitest';
import { parseArgv, renderHelp } from '../../src/config/argv.js';
import { DEFAULTS, parseOptions, UsageError } from '../../src/config/options.js';
import { BOOLEAN_OPTIONS, OPTION_NAMES } from '../../src/config/specs.js';

const fromFlags = (...argv: string[]) => parseOptions([{ source: 'flag', values: parseArgv(argv).values }]);
const fromInputs = (values: Record<string, string>) => parseOptions([{ source: 'input', values }]);

describe('options: defaults and valid values', () => {
  it('defaults probe npm, rubygems and pecl within 20 s, stalls after 3 s, caps at 2 MB', () => {
    const o = fromFlags();
    expect(o.registries).toEqual(['npm', 'rubygems', 'pecl']);
    expect(o.timeoutMs).toBe(20_000);
    expect(o.stallTimeoutMs).toBe(3_000);
    expect(o.maxBytes).toBe(2 * 1024 * 1024);
    expect(o).toMatchObject({ insecure: false, strict: false, format: 'text', docker: 'auto' });
  });

  it('takes every form a user types', () => {
    const o = fromFlags(
      '--registries',
      'npm,pypi',
      '--url=https://example.test/big.tgz',
      '--url',
      'http://mirror.test/x',
      '--timeout',
      '7.5',
      '--stall-timeout=2',
      '--max-bytes',
      '512K',
      '--strict',
      '--json',
      '--no-lint',
    );
    expect(o.registries).toEqual(['npm', 'pypi']);
    expect(o.urls).toEqual(['https://example.test/big.tgz', 'http://mirror.test/x']);
    expect(o).toMatchObject({
      timeoutMs: 7500,
      stallTimeoutMs: 2000,
      maxBytes: 524288,
      strict: true,
      format: 'json',
      lintDir: null,
    });
  });

  it('lets flags override the config file', () => {
    const o = parseOptions([
      {
        source: 'config',
        values: { timeout: 30, registries: ['npm'], urls: ['https://a.test/f'] },
        file: '.mtu-preflight.yml',
      },
      { source: 'flag', values: { timeout: '10' } },
    ]);
    expect(o).toMatchObject({
      timeoutMs: 10_000,
      registries: ['npm'],
      urls: ['https://a.test/f'],
      configFile: '.mtu-preflight.yml',
    });
  });

  it('treats blank Action inputs as not given', () => {
    expect(fromInputs({ timeout: '', registries: '', strict: '' })).toMatchObject({
      timeoutMs: DEFAULTS.timeoutMs,
      strict: false,
    });
    expect(fromInputs({ registries: 'none', url: 'https://a.test/f' }).registries).toEqual([]);
  });
});

describe('options: a switch takes a value as the next argument too', () => {
  // The CLI takes no positional arguments, so the word after a switch can only be its value.
  it.each([...BOOLEAN_OPTIONS])(
    '--%s false, --%s=false and --no-%s mean the same, and so do true and the bare flag',
    (name) => {
      const off = fromFlags('--no-' + name);
      const on = fromFlags('--' + name);
      expect(off).not.toEqual(on);
      for (const word of ['false', 'no', '0', 'off', 'FALSE']) {
        expect(fromFlags('--' + name, word)).toEqual(off);
        expect(fromFlags(`--${name}=${word}`)).toEqual(off);
      }
      for (const word of ['true', 'yes', '1', 'on']) expect(fromFlags('--' + name, word)).toEqual(on);
    },
  );

  it('--lint false turns the lint off, --strict true and --insecure false are taken', () => {
    expect(fromFlags('--lint', 'false').lintDir).toBeNull();
    expect(fromFlags('--strict', 'true', '--insecure', 'false')).toMatchObject({ strict: true, insecure: false });
  });

  it('a switch followed by another flag, or last, is on', () => {
    expect(fromFlags('--strict', '--timeout', '5', '--insecure')).toMatchObject({
      strict: true,
      insecure: true,
      timeoutMs: 5000,
    });
    expect(fromFlags('--json', '--no-lint')).toMatchObject({ format: 'json', lintDir: null });
  });

  it('--help shows --no-<flag> for each switch, and only for switches', () => {
    const help = renderHelp('9.9.9');
    for (const name of OPTION_NAMES) {
      const row = help.split('\n').find((l) => l.startsWith(`  --${name} `) || l.startsWith(`  --${name},`));
      expect(row, name).toBeDefined();
      expect(row!.includes(`--no-${name} `), name).toBe(BOOLEAN_OPTIONS.has(name));
    }
    expect(help).toMatch(/^  --lint, --no-lint +Lint CI config files .* Default: true\.$/m);
    expect(help).toContain('--lint false');
  });
});

// Each bad value: exit 2 with one line naming the input, what it got and what it expects.
const BAD_FLAGS: Array<[string[], RegExp]> = [
  [['--timeout', 'abc'], /^--timeout must be a positive number of seconds, got 'abc'\.$/],
  [['--timeout', '-5'], /--timeout must be a positive number of seconds, got '-5'/],
  [['--timeout', '0'], /--timeout must be a positive number of seconds, got '0'/],
  [['--timeout', '99999'], /--timeout must be at most 3600 seconds, got '99999'/],
  [['--timeout', 'NaN'], /--timeout must be a positive number/],
  [['--timeout', 'Infinity'], /--timeout must be a positive number/],
  [['--timeout=1e9'], /--timeout must be at most 3600 seconds/],
  [['--timeout'], /^Flag --timeout needs a value/],
  [['--stall-timeout', '0'], /--stall-timeout must be a positive number of seconds/],
  [['--stall-timeout', '30'], /stall-timeout \(30 s\) must be shorter than timeout \(20 s\)/],
  [['--max-bytes', 'lots'], /--max-bytes must be a size in bytes such as 2097152, 512K or 2M, got 'lots'/],
  [['--max-bytes', '10'], /--max-bytes must be between 1024 and 1073741824 bytes, got '10'/],
  [['--max-bytes', '5T'], /--max-bytes must be a size in bytes/],
  [['--max-bytes', '-1M'], /--max-bytes must be a size in bytes/],
  [['--min-throughput', 'fast'], /--min-throughput must be a size in bytes/],
  [['--registries', 'npmm'], /--registries has unknown registry 'npmm' \(did you mean 'npm'\?\)/],
  [['--registries', 'rubygem'], /did you mean 'rubygems'/],
  [['--registries', 'cargo'], /--registries has unknown registry 'cargo'; expected some of npm, rubygems, pecl/],
  [['--registries', ','], /--registries must be a list of registries/],
  [['--registries', 'none'], /^Nothing to probe/],
  [['--url', 'not a url'], /--url must be an absolute http:\/\/ or https:\/\/ URL, got 'not a url'/],
  [
    ['--url', 'ftp://mirror.test/file'],
    /--url must be an absolute http:\/\/ or https:\/\/ URL, got 'ftp:\/\/mirror.test\/file'/,
  ],
  [['--url', 'file:///etc/passwd'], /--url must be an absolute http/],
  [['--url', '/relative/path'], /--url must be an absolute http/],
  [['--url', 'https://'], /--url must be an absolute http/],
  [['--format', 'xml'], /--format must be one of text, json, markdown, got 'xml'/],
  [['--docker', 'maybe'], /--docker must be one of auto, off, required, got 'maybe'/],
  [['--pull', 'sometimes'], /--pull must be one of never, missing, always/],
  [['--probe-image', 'bad image!'], /--probe-image must be an image reference/],
  [['--assume-mtu', '100'], /--assume-mtu must be an MTU between 576 and 65535, got '100'/],
  [['--assume-mtu', '1450.5'], /--assume-mtu must be an MTU/],
  [['--color', 'purple'], /--color must be one of auto, always, never/],
  [['--strict=maybe'], /--strict must be true or false, got 'maybe'/],
  [['--timout', '5'], /^Unknown flag --timout \(did you mean '--timeout'\?\)/],
  [['--registry', 'npm'], /Unknown flag --registry \(did you mean '--registries'\?\)/],
  [['--stall', '5'], /Unknown flag --stall/],
  [['npm'], /^Unexpected argument 'npm'; mtu-preflight takes only --flags/],
  [['--config'], /Flag --config needs a value/],
  [['--ca-file='], /--ca-file must be a path to a PEM file/],
  // Issue 5: values that slipped through or gave a confusing message before.
  [['--timeout', '0x10'], /^--timeout must be a positive number of seconds, got '0x10'\.$/],
  [['--timeout', ' '], /--timeout must be a positive number of seconds, got ' '/],
  [['--timeout', '0.0001'], /^--timeout must be at least 0\.1 seconds, got '0\.0001'\.$/],
  [['--stall-timeout', '0.01'], /--stall-timeout must be at least 0\.1 seconds/],
  [['--timeout', '5m'], /--timeout must be a positive number of seconds, got '5m'/],
  [
    ['--registries', 'none,npm'],
    /--registries must be either none or a list of registries .*, not both, got 'none,npm'/,
  ],
  [['--url', 'javascript:alert(1)'], /--url must be an absolute http/],
  [['--url', 'https://example.com:99999/x'], /--url must be an absolute http/],
  [['--url', 'https://exa mple.com/x'], /--url must be an absolute http/],
  [
    ['--url', `not a url ${'x'.repeat(5000)}`],
    /^--url must be an absolute http:\/\/ or https:\/\/ URL, got 'not a url x{190}…'\.$/,
  ],
  [['--timeout', '5\nrm -rf /'], /^--timeout must be a positive number of seconds, got '5\\x0arm -rf \/'\.$/],
  [['--max-bytes', '99999999999999999999999'], /--max-bytes must be between 1024 and 1073741824 bytes/],
  [['--min-throughput', '0'], /--min-throughput must be between 1 and/],
  [['--assume-mtu', '0'], /--assume-mtu must be an MTU between 576 and 65535, got '0'/],
  [['--assume-mtu', '70000'], /--assume-mtu must be an MTU between 576 and 65535/],
  [['--lint-only=maybe'], /--lint-only must be true or false, got 'maybe'/],
  [['--docker='], /--docker must be one of auto, off, required, got ''/],
  [['--format'], /^Flag --format needs a value/],
  [['--url', '--json'], /^Flag --url needs a value/],
  [['-x'], /^Unexpected argument '-x'/],
  [['--no-timeout'], /^Unknown flag --no-timeout/],
  // A switch given a word that is no yes or no.
  [['--lint', 'maybe'], /^--lint must be true or false, got 'maybe'\.$/],
  [['--strict', 'npm'], /^--strict must be true or false, got 'npm'\.$/],
  [['--no-lint', 'false'], /^Unexpected argument 'false'; mtu-preflight takes only --flags/],
];

describe('options: bad input is one clear line', () => {
  it.each(BAD_FLAGS)('%j', (argv, message) => {
    let err: unknown;
    try {
      fromFlags(...argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('names Action inputs the way the workflow file does', () => {
    expect(() => fromInputs({ timeout: 'abc' })).toThrow(
      "Input 'timeout' must be a positive number of seconds, got 'abc'.",
    );
    expect(() => fromInputs({ 'stall-timout': '3' })).toThrow(
      "Unknown input 'stall-timout' (did you mean 'stall-timeout'?)",
    );
  });

  it('names config keys and the file', () => {
    expect(() => parseOptions([{ source: 'config', values: { timeout: 'soon' }, file: 'ci/mtu.yml' }])).toThrow(
      "Config key 'timeout' must be a positive number of seconds, got 'soon' in ci/mtu.yml.",
    );
    expect(() => parseOptions([{ source: 'config', values: { regsitries: 'npm' }, file: 'ci/mtu.yml' }])).toThrow(
      "Unknown config key 'regsitries' in ci/mtu.yml (did you mean 'registries'?)",
    );
  });
});
