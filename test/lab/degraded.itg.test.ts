/**
 * Issue 5: degraded environments, as CI jobs meet them: not root, a read-only file system apart from the temp dir,
 * no /sys/class/net. The bundled CLI runs in the lab's runner namespace, each time degraded in one way; the verdict
 * must still be right, and the report must say what it could not see. (Not Linux at all: test/unit/run-degraded.test.ts.)
 */
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailable, type Lab, type LabOptions } from './harness/lab.js';
import { LAB_DIST, labEnv } from './cli.js';
import type { ReportJson as Report } from '../../src/model/report.js';

/** World-readable: the CA copy, the working directory and configs for the `nobody` runs (the lab's temp dir is 0700). */
let shared: string;
let lab: Lab | undefined;

beforeAll(() => {
  const avail = labAvailable();
  if (!avail.ok) throw new Error(`lab unavailable: ${avail.why}`); // fail, never skip
  shared = mkdtempSync(path.join(os.tmpdir(), 'mtu-preflight-degraded-'));
  chmodSync(shared, 0o755);
  // node and the bundled CLI, copied where `nobody` can run them: the checkout may sit in a directory only root can
  // enter (a clone under /root), and that is not what these tests are about.
  cpSync(LAB_DIST, path.join(shared, 'dist'), { recursive: true });
  copyFileSync(process.execPath, path.join(shared, 'node'));
  chmodSync(path.join(shared, 'node'), 0o755);
});
afterAll(() => {
  if (shared) rmSync(shared, { recursive: true, force: true });
});
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function withLab(opts: LabOptions): Promise<Lab> {
  lab = await createLab(opts);
  copyFileSync(lab.caFile, path.join(shared, 'ca.pem'));
  chmodSync(path.join(shared, 'ca.pem'), 0o644);
  return lab;
}

const probeArgs = (l: Lab) => [
  '--url',
  `https://${l.registryName}/big.tgz`,
  '--registries',
  'none',
  '--ca-file',
  path.join(shared, 'ca.pem'),
  '--docker',
  'off',
  '--timeout',
  '8',
  '--stall-timeout',
  '2',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  report?: Report;
}

/** `sh -c script` in the runner namespace, with $CLI and $NODE set; --json output parsed when present. */
async function inRunner(l: Lab, prefix: string[], script: string): Promise<Run> {
  const r = await l.exec(prefix[0] ?? 'sh', [...prefix.slice(1), 'sh', '-c', script], {
    env: labEnv({ CLI: path.join(shared, 'dist', 'cli.js'), NODE: path.join(shared, 'node'), SHARED: shared }),
    timeoutMs: 30_000,
  });
  let report: Report | undefined;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    /* text output, or an error: the assertions say */
  }
  return { ...r, ...(report ? { report } : {}) };
}

const q = (args: string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

describe('not root', () => {
  it('as nobody: a black hole is still pmtu-blackhole (ss shows its own sockets), the uplink still read', async () => {
    const l = await withLab({ bottleneckMtu: 1450, dropFragNeeded: true });
    const r = await inRunner(
      l,
      AS_NOBODY,
      `cd "$SHARED" && id -u && exec "$NODE" "$CLI" ${q([...probeArgs(l), '--json'])}`,
    );
    expect(r.stdout.split('\n')[0]).toBe('65534');
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('\n') + 1)) as Report;
    expect(r.code, r.stderr).toBe(1);
    expect(report.findings.map((f) => f.code)).toEqual(['pmtu-blackhole']);
    const p = report.layers[0]!.probes[0]!;
    expect(p.tcpInfo?.rcvOooPack ?? 0).toBeGreaterThan(0);
    expect(report.layers[0]!.uplinks[0]).toMatchObject({ iface: 'eth0', effectiveMtu: 1500 });
  });

  it('as nobody: an unreadable config file and an unwritable report file are one-line usage errors (exit 2)', async () => {
    const l = await withLab({});
    const secretConfig = path.join(shared, 'root-only.yml');
    writeFileSync(secretConfig, 'timeout: 5\n');
    chmodSync(secretConfig, 0o600);
    const cfg = await inRunner(l, AS_NOBODY, `cd "$SHARED" && exec "$NODE" "$CLI" --config root-only.yml`);
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toBe(
      "mtu-preflight: Config file 'root-only.yml' cannot be read (EACCES); expected a readable YAML file.\n",
    );
    const rep = await inRunner(
      l,
      AS_NOBODY,
      `cd "$SHARED" && exec "$NODE" "$CLI" ${q([...probeArgs(l), '--report-file', '/root/report.json'])}`,
    );
    expect(rep.code).toBe(2);
    expect(rep.stderr).toBe(
      "mtu-preflight: --report-file '/root/report.json' cannot be written (EACCES); expected a file path in a writable directory.\n",
    );
    expect(rep.stdout).toBe('');
  });
});

describe('read-only file system apart from the temp dir', () => {
  // A private mount namespace (unshare) inside the runner namespace: every mount remounted read-only, then a tmpfs on
  // a fresh directory that becomes the only writable place and TMPDIR. Not a tmpfs over /tmp itself: node and the CLI
  // (copied into $SHARED, under the temp dir) and the checkout itself may live under /tmp, and must stay visible. The
  // remounts are per mount namespace: nothing outside this one command sees them.
  const READ_ONLY = `
set -e
for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do
  case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
if touch "$SHARED/probe-write" 2>/dev/null || touch /var/tmp/probe-write 2>/dev/null || touch /tmp/probe-write 2>/dev/null; then echo "still writable" >&2; exit 99; fi
mount -t tmpfs -o size=16m tmpfs "$RW"
export TMPDIR="$RW"
set +e
`;

  it('probes as usual, writes --report-file to the temp dir, and refuses one elsewhere before probing (exit 2, EROFS)', async () => {
    const l = await withLab({});
    const rw = path.join(shared, 'rw');
    mkdirSync(rw, { recursive: true });
    const r = await inRunner(
      l,
      ['unshare', '--mount', '--propagation', 'private'],
      `RW=${q([rw])}
${READ_ONLY}
cd "$RW"
"$NODE" "$CLI" ${q([...probeArgs(l), '--report-file', path.join(rw, 'report.json')])} > "$RW/out.txt"; echo "exit $?"
test -s "$RW/report.json" && echo "report written"
"$NODE" "$CLI" ${q([...probeArgs(l), '--report-file', '/var/tmp/mtu-preflight-report.json'])} 2>&1; echo "exit $?"
`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'exit 0',
      'report written',
      `mtu-preflight: --report-file '/var/tmp/mtu-preflight-report.json' cannot be written (EROFS); expected a file path in a writable directory.`,
      'exit 2',
    ]);
  });
});

describe('no /sys/class/net', () => {
  // An empty tmpfs over /sys/class (no net/ at all) or over /sys/class/net (empty), in a private mount namespace:
  // what a sandbox without sysfs shows.
  it.each([
    ['missing', '/sys/class', /could not read \/sys\/class\/net \(ENOENT\): interfaces and uplink MTUs unknown/],
    ['empty', '/sys/class/net', /\/sys\/class\/net lists no interfaces .*: interfaces and uplink MTUs unknown/],
  ])('%s: the probes still run and pass; the report says what could not be seen', async (_kind, over, note) => {
    const l = await withLab({});
    const hide = `mount -t tmpfs -o size=1m,mode=0755 tmpfs ${over}`;
    const r = await inRunner(
      l,
      ['unshare', '--mount', '--propagation', 'private'],
      `set -e; ${hide}; exec "$NODE" "$CLI" ${q([...probeArgs(l), '--json'])}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const report = r.report!;
    expect(report.verdict).toBe('pass');
    const host = report.layers[0]!;
    expect(host.probes[0]).toMatchObject({ outcome: 'ok', capped: true, address: l.registryIp });
    expect(host.interfaces).toEqual([]);
    expect(report.uplinkMtu).toBeUndefined();
    expect(host.notes.join('\n')).toMatch(note);
    // The lint's notes are its own (report.lint), no longer the host layer's.
    expect(report.lint?.notes.join('\n')).toMatch(/CI config lint skipped: the uplink MTU is unknown/);
    const text = await inRunner(
      l,
      ['unshare', '--mount', '--propagation', 'private'],
      `set -e; ${hide}; exec "$NODE" "$CLI" ${q(probeArgs(l))}`,
    );
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(note);
  });
});
