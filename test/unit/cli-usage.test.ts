/**
 * Issue 5: bad input to the CLI as a user meets it: the bundled CLI (bundled here from the current source, no lab,
 * no network: every case fails before anything is probed) exits 2 with exactly one line on stderr, naming the input,
 * and prints nothing on stdout and no stack trace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let tmp: string;
let cli: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-cli-usage-'));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), path.join(tmp, 'dist')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  cli = path.join(tmp, 'dist/cli.js');
  mkdirSync(path.join(tmp, 'work'));
  mkdirSync(path.join(tmp, 'with-config'));
  writeFileSync(path.join(tmp, 'typo.yml'), 'registries: npm\nstall-timout: 5\n');
  writeFileSync(path.join(tmp, 'tabs.yml'), 'registries: npm\n\tdocker: auto\n');
  writeFileSync(
    path.join(tmp, 'bomb.yml'),
    'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
  );
  writeFileSync(path.join(tmp, 'with-config/.mtu-preflight.yml'), 'timeout: soon\n');
}, 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const CASES: Array<[string, string[], RegExp]> = [
  [
    'non-numeric timeout',
    ['--timeout', 'abc'],
    /^mtu-preflight: --timeout must be a positive number of seconds, got 'abc'\.$/,
  ],
  [
    'negative stall-timeout',
    ['--stall-timeout', '-1'],
    /^mtu-preflight: --stall-timeout must be a positive number of seconds, got '-1'\.$/,
  ],
  ['huge timeout', ['--timeout', '1e9'], /^mtu-preflight: --timeout must be at most 3600 seconds, got '1e9'\.$/],
  [
    'unknown registry',
    ['--registries', 'npm,cargo'],
    /^mtu-preflight: --registries has unknown registry 'cargo'; expected some of npm, rubygems/,
  ],
  [
    'non-HTTP URL',
    ['--url', 'ftp://mirror.test/big.iso'],
    /^mtu-preflight: --url must be an absolute http:\/\/ or https:\/\/ URL, got 'ftp:\/\/mirror\.test\/big\.iso'\.$/,
  ],
  [
    'malformed URL with credentials',
    ['--url', 'https://bot:s3cret@'],
    /^mtu-preflight: --url must be an absolute http:\/\/ or https:\/\/ URL, got 'https:\/\/\*\*\*:\*\*\*@'\.$/,
  ],
  [
    'unknown flag with a typo',
    ['--timout', '5'],
    /^mtu-preflight: Unknown flag --timout \(did you mean '--timeout'\?\)/,
  ],
  ['a positional argument', ['npm'], /^mtu-preflight: Unexpected argument 'npm'/],
  ['missing config file', ['--config', 'nope.yml'], /^mtu-preflight: Config file 'nope\.yml' does not exist/],
  ['a directory as config', ['--config', '.'], /^mtu-preflight: Config file '\.' cannot be read \(EISDIR\)/],
  [
    'malformed YAML',
    ['--config', '../tabs.yml'],
    /^mtu-preflight: Config file '\.\.\/tabs\.yml' is not valid YAML at line 2: Tabs are not allowed as indentation\.$/,
  ],
  [
    'an alias bomb',
    ['--config', '../bomb.yml'],
    /^mtu-preflight: Config file '\.\.\/bomb\.yml' cannot be read as a mapping: Excessive alias count/,
  ],
  [
    'unknown config key',
    ['--config', '../typo.yml'],
    /^mtu-preflight: Unknown config key 'stall-timout' in \.\.\/typo\.yml \(did you mean 'stall-timeout'\?\)/,
  ],
  [
    'bad value in the default config file',
    ['--cwd-with-config'],
    /^mtu-preflight: Config key 'timeout' must be a positive number of seconds, got 'soon' in \.mtu-preflight\.yml\.$/,
  ],
  [
    'unreadable ca-file',
    ['--ca-file', 'nope.pem', '--registries', 'none', '--url', 'https://a.test/x', '--docker', 'off'],
    /^mtu-preflight: ca-file 'nope\.pem' cannot be read \(ENOENT\)/,
  ],
  [
    'report-file in a missing directory',
    ['--report-file', 'no/such/dir/r.json'],
    /^mtu-preflight: --report-file 'no\/such\/dir\/r\.json' cannot be written \(ENOENT\); expected a file path in a writable directory\.$/,
  ],
  [
    'report-file that is a directory',
    ['--report-file', '.'],
    /^mtu-preflight: --report-file '\.' cannot be written \(EISDIR\)/,
  ],
  [
    'junit in a missing directory (checked before probing, like report-file)',
    ['--junit', 'no/such/dir/junit.xml'],
    /^mtu-preflight: --junit 'no\/such\/dir\/junit\.xml' cannot be written \(ENOENT\); expected a file path in a writable directory\.$/,
  ],
  [
    'metrics-file that is a directory',
    ['--metrics-file', '.'],
    /^mtu-preflight: --metrics-file '\.' cannot be written \(EISDIR\)/,
  ],
  ['sarif given nothing', ['--sarif', ''], /^mtu-preflight: --sarif must be a file path, got ''\.$/],
  [
    'pushgateway that is no http(s) URL',
    ['--pushgateway', 'pushgateway:9091'],
    /^mtu-preflight: --pushgateway must be an absolute http:\/\/ or https:\/\/ URL, got 'pushgateway:9091'\.$/,
  ],
  [
    'a switch given a word that is no yes or no',
    ['--lint', 'maybe'],
    /^mtu-preflight: --lint must be true or false, got 'maybe'\.$/,
  ],
  [
    'stall-timeout not below timeout',
    ['--timeout', '3', '--stall-timeout', '3'],
    /^mtu-preflight: stall-timeout \(3 s\) must be shorter than timeout \(3 s\)/,
  ],
];

describe('the bundled CLI on bad input', () => {
  it.each(CASES)('%s: exit 2, one line, no stack', (_name, args, message) => {
    // '--cwd-with-config' (not a flag of the tool): run where .mtu-preflight.yml is.
    const inConfigDir = args[0] === '--cwd-with-config';
    const r = spawnSync(process.execPath, [cli, ...(inConfigDir ? args.slice(1) : args)], {
      cwd: path.join(tmp, inConfigDir ? 'with-config' : 'work'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain('internal error');
  });
});

describe('the bundled CLI takes a value after a switch', () => {
  const cliRun = (args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], {
      cwd: path.join(tmp, 'work'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('--lint false, --strict true: no usage error, and the report says what was taken', () => {
    // --lint-only with the lint off probes nothing and reads no file: no network, a pass.
    const r = cliRun(['--lint-only', 'true', '--lint', 'false', '--strict', 'true', '--insecure', 'false', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { verdict: string; settings: Record<string, unknown> };
    expect(report.settings).toMatchObject({ lint: false, lintOnly: true, strict: true, insecure: false });
  });

  it('--help lists the --no- form of each switch', () => {
    const r = cliRun(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^  --lint, --no-lint +Lint CI config files/m);
    expect(r.stdout).toMatch(/^  --strict, --no-strict +Exit 1 on warnings too\.$/m);
  });
});
