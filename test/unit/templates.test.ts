/**
 * The CI templates users paste or include: parsed with `yaml` and checked for the structure their CI system
 * requires, and for the command line they run: every flag must be one mtu-preflight accepts, with the values
 * the template gives it (a typo there fails every pipeline that includes it).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseArgv } from '../../src/config/argv.js';
import { parseOptions } from '../../src/config/options.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/** https://docs.gitlab.com/ci/yaml/ job keywords. */
const GITLAB_JOB_KEYS = new Set([
  'after_script',
  'allow_failure',
  'artifacts',
  'before_script',
  'cache',
  'coverage',
  'dependencies',
  'environment',
  'extends',
  'hooks',
  'id_tokens',
  'identity',
  'image',
  'inherit',
  'interruptible',
  'manual_confirmation',
  'needs',
  'pages',
  'parallel',
  'release',
  'resource_group',
  'retry',
  'rules',
  'run',
  'script',
  'secrets',
  'services',
  'stage',
  'tags',
  'timeout',
  'trigger',
  'variables',
  'when',
]);
const GITLAB_SERVICE_KEYS = new Set([
  'name',
  'alias',
  'entrypoint',
  'command',
  'variables',
  'pull_policy',
  'docker',
  'kubernetes',
]);
const GITLAB_ARTIFACT_KEYS = new Set([
  'paths',
  'exclude',
  'expire_in',
  'expose_as',
  'name',
  'public',
  'access',
  'reports',
  'untracked',
  'when',
]);

/** The mtu-preflight command line of a script line, with variables (and templating) replaced by their values. */
function preflightArgs(line: string, values: Record<string, string>): string[] {
  const expanded = line
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? '')
    .replace(/\{\{ \.input\.(\w+) \}\}/g, (_m, k: string) => values[k] ?? '');
  // A shell's word splitting, enough for these lines: double quotes group, unquoted empty words vanish.
  const words = [...expanded.matchAll(/(?:[^\s"]+|"[^"]*")+/g)].map((m) => m[0].replace(/"/g, ''));
  const at = words.findIndex((w) => /^mtu-preflight@/.test(w));
  expect(at, `no mtu-preflight@<version> in: ${line}`).toBeGreaterThan(0);
  expect(words.slice(0, at)).toEqual(['npx', '--yes']);
  return words.slice(at + 1);
}

/** The flags parse, and the options they give are valid (what the CLI checks before probing). */
function expectValidCommand(args: string[]) {
  const argv = parseArgv(args);
  return parseOptions([{ source: 'flag', values: argv.values }]);
}

describe('templates/gitlab-ci.yml', () => {
  const doc = parse(read('templates/gitlab-ci.yml')) as Record<string, any>;

  it('defines only the hidden job and the ready job: nothing global leaks into the including pipeline', () => {
    expect(Object.keys(doc).sort()).toEqual(['.mtu-preflight', 'mtu-preflight']);
    for (const job of Object.values(doc))
      for (const k of Object.keys(job)) expect(GITLAB_JOB_KEYS.has(k), k).toBe(true);
    expect(doc['mtu-preflight']).toEqual({ extends: '.mtu-preflight', stage: '.pre' });
  });

  it('runs node with a docker:dind service and the TLS variables GitLab documents', () => {
    const job = doc['.mtu-preflight'];
    expect(job.image).toMatch(/^node:(2[4-9]|[3-9]\d)(-alpine|-slim|-bookworm-slim)?$/);
    expect(job.services).toHaveLength(1);
    const [svc] = job.services;
    for (const k of Object.keys(svc)) expect(GITLAB_SERVICE_KEYS.has(k), k).toBe(true);
    expect(svc).toMatchObject({ name: 'docker:dind', alias: 'docker' });
    // The service is the stand-in for the build jobs' dind: its command, if any, must not fix or break anything.
    for (const arg of svc.command ?? []) expect(arg).not.toMatch(/--mtu|--tls=false|--host/);
    expect(job.variables).toMatchObject({
      DOCKER_HOST: 'tcp://docker:2376',
      DOCKER_TLS_CERTDIR: '/certs',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: '$DOCKER_TLS_CERTDIR/client',
    });
    for (const v of Object.values(job.variables)) expect(typeof v).toBe('string');
    for (const k of Object.keys(job.artifacts)) expect(GITLAB_ARTIFACT_KEYS.has(k), k).toBe(true);
    expect(job.artifacts.paths).toEqual([
      'mtu-preflight-report.json',
      'mtu-preflight-junit.xml',
      'mtu-preflight-codequality.json',
    ]);
    // GitLab's test widget and Code Quality read these (docs/ci/yaml/artifacts_reports.md); the command writes them.
    expect(job.artifacts.reports).toEqual({
      junit: 'mtu-preflight-junit.xml',
      codequality: 'mtu-preflight-codequality.json',
    });
  });

  it('its script is a valid mtu-preflight command line with the default variables, and with strict and a URL', () => {
    const job = doc['.mtu-preflight'];
    expect(job.script).toHaveLength(1);
    const line: string = job.script[0];
    for (const name of line.match(/\$\{?(MTU_PREFLIGHT_\w+)/g) ?? [])
      expect(job.variables).toHaveProperty(name.replace(/^\$\{?/, ''));
    const args = preflightArgs(line, job.variables);
    expect(args).toContain('--report-file');
    const o = expectValidCommand(args);
    expect(o).toMatchObject({
      registries: ['npm', 'rubygems', 'pecl'],
      strict: false,
      timeoutMs: 30_000,
      reportFile: 'mtu-preflight-report.json',
      junitFile: 'mtu-preflight-junit.xml',
      codeQualityFile: 'mtu-preflight-codequality.json',
    });
    const custom = expectValidCommand(
      preflightArgs(line, {
        ...job.variables,
        MTU_PREFLIGHT_STRICT: 'true',
        MTU_PREFLIGHT_REGISTRIES: 'npm,pypi',
        MTU_PREFLIGHT_ARGS: '--url https://mirror.example/big.tgz',
      }),
    );
    expect(custom).toMatchObject({
      registries: ['npm', 'pypi'],
      strict: true,
      urls: ['https://mirror.example/big.tgz'],
    });
  });

  it("the README's integrity hash is this file's (sha256-<base64>): include: remote: stays verifiable", () => {
    const hash = `sha256-${createHash('sha256')
      .update(readFileSync(new URL('../../templates/gitlab-ci.yml', import.meta.url)))
      .digest('base64')}`;
    expect(read('README.md')).toContain(`integrity: ${hash}`);
  });
});

describe('templates/mtu-preflight/template.yml (CI/CD component)', () => {
  const docs = parseAllDocuments(read('templates/mtu-preflight/template.yml'));
  const [header, body] = docs.map((d) => d.toJS()) as [any, any];
  const text = String(docs[1]);

  it('has a spec header with the inputs, then one job', () => {
    expect(docs).toHaveLength(2);
    expect(Object.keys(header)).toEqual(['spec']);
    const inputs = header.spec.inputs as Record<string, { type?: string; default?: unknown; description?: string }>;
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['registries', 'strict', 'timeout', 'stage']));
    for (const [name, input] of Object.entries(inputs)) {
      expect(input.description, name).toBeTruthy();
      expect(['string', 'boolean', 'number', 'array', undefined], name).toContain(input.type);
      const expected = input.type === undefined ? 'string' : input.type;
      expect(typeof input.default, `${name} default`).toBe(expected);
    }
    expect(Object.keys(body)).toEqual(['mtu-preflight']);
    for (const k of Object.keys(body['mtu-preflight'])) expect(GITLAB_JOB_KEYS.has(k), k).toBe(true);
  });

  it('every $[[ inputs.x ]] is declared, and every input is used', () => {
    const used = new Set([...text.matchAll(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g)].map((m) => m[1]!));
    const declared = new Set(Object.keys(header.spec.inputs));
    expect([...used].sort()).toEqual([...declared].sort());
    expect(body['mtu-preflight'].stage).toBe('$[[ inputs.stage ]]');
  });

  it('with the inputs interpolated, the job matches the include template and its command line is valid', () => {
    const inputs = header.spec.inputs as Record<string, { default: unknown }>;
    const interpolated = parse(
      text.replace(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g, (_m, k: string) => String(inputs[k]!.default)),
    );
    const job = interpolated['mtu-preflight'];
    const include = parse(read('templates/gitlab-ci.yml'))['.mtu-preflight'];
    expect(job.stage).toBe('.pre');
    expect(job.services).toEqual(include.services);
    expect(job.script).toEqual(include.script);
    expect(job.variables).toEqual(include.variables);
    expect(expectValidCommand(preflightArgs(job.script[0], job.variables))).toMatchObject({
      strict: false,
      timeoutMs: 30_000,
    });
  });
});

describe('templates/drone.yml, drone-template.yml, woodpecker.yml', () => {
  it('drone.yml: a docker pipeline whose step runs node and a valid command line, with a dind service sharing the socket', () => {
    const p = parse(read('templates/drone.yml'));
    expect(p).toMatchObject({ kind: 'pipeline', type: 'docker', name: 'mtu-preflight' });
    expect(p.steps).toHaveLength(1);
    const [step] = p.steps;
    expect(step).toMatchObject({
      name: 'mtu-preflight',
      image: expect.stringMatching(/^node:/),
      environment: { DOCKER_HOST: 'unix:///var/run/docker.sock' },
    });
    expect(step.commands.length).toBeGreaterThan(0);
    expectValidCommand(preflightArgs(step.commands.at(-1), {}));
    expect(p.services).toEqual([
      { name: 'docker', image: 'docker:dind', privileged: true, volumes: [{ name: 'dockersock', path: '/var/run' }] },
    ]);
    expect(step.volumes).toEqual([{ name: 'dockersock', path: '/var/run' }]);
    expect(p.volumes).toEqual([{ name: 'dockersock', temp: {} }]);
  });

  it('drone-template.yml: the same pipeline with {{ .input.x }}, each named in the documented `data:`', () => {
    const text = read('templates/drone-template.yml');
    const p = parse(text);
    expect(p).toMatchObject({ kind: 'pipeline', type: 'docker' });
    const cmd: string = p.steps[0].commands.at(-1);
    const inputs = [...cmd.matchAll(/\{\{ \.input\.(\w+) \}\}/g)].map((m) => m[1]!);
    expect(inputs.sort()).toEqual(['registries', 'strict', 'timeout']);
    // The .drone.yml a repository writes to use it, as documented in the file's header.
    const lines = text.split('\n');
    const from = lines.indexOf('#   kind: template');
    expect(from).toBeGreaterThan(0);
    const end = lines.findIndex((l, i) => i > from && !l.startsWith('#   '));
    const block = lines.slice(from, end);
    const usage = parse(block.map((l) => l.slice(4)).join('\n'));
    expect(usage).toMatchObject({ kind: 'template', load: 'mtu-preflight.yml' });
    expect(Object.keys(usage.data).sort()).toEqual(['registries', 'strict', 'timeout']);
    expectValidCommand(preflightArgs(cmd, usage.data));
    expect(parse(read('templates/drone.yml')).services).toEqual(p.services);
  });

  it('woodpecker.yml: a step with node and a valid command line; the dind service takes its arguments as an entrypoint', () => {
    const p = parse(read('templates/woodpecker.yml'));
    expect(p.kind).toBeUndefined();
    const [step] = p.steps;
    expect(step).toMatchObject({
      name: 'mtu-preflight',
      image: expect.stringMatching(/^node:/),
      environment: { DOCKER_HOST: 'tcp://docker:2375' },
    });
    expectValidCommand(preflightArgs(step.commands.at(-1), {}));
    const [svc] = p.services;
    expect(svc).toMatchObject({
      name: 'docker',
      image: 'docker:dind',
      privileged: true,
      environment: { DOCKER_TLS_CERTDIR: '' },
    });
    // Woodpecker services accept neither command nor commands.
    expect(svc.command).toBeUndefined();
    expect(svc.commands).toBeUndefined();
    expect(svc.entrypoint).toEqual(['dockerd-entrypoint.sh', '--tls=false']);
  });
});

describe('README snippets', () => {
  const readme = read('README.md');
  const useIt = readme.slice(readme.indexOf('## Use it'), readme.indexOf('## Flags and inputs'));
  const yamlBlocks = [...useIt.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

  it('every YAML snippet of "Use it" parses', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(7);
    for (const b of yamlBlocks)
      expect(
        parseAllDocuments(b).flatMap((d) => d.errors),
        b,
      ).toEqual([]);
  });

  it('the Drone pipeline to paste is templates/drone.yml; the GitLab include names the template with its integrity', () => {
    const drone = yamlBlocks.find((b) => b.startsWith('kind: pipeline'))!;
    expect(parse(drone)).toEqual(parse(read('templates/drone.yml')));
    const include = parse(yamlBlocks.find((b) => b.includes('remote:'))!).include[0];
    expect(include.remote).toMatch(/\/templates\/gitlab-ci\.yml$/);
    expect(include.integrity).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    const step = parse(yamlBlocks.find((b) => b.includes('mtu-preflight/mtu-preflight@v0'))!).steps[1];
    const actionInputs = Object.keys(parse(read('action.yml')).inputs);
    for (const k of Object.keys(step.with)) expect(actionInputs).toContain(k);
  });
});
