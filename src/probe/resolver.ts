/**
 * getaddrinfo in a helper process, so that a resolver that never answers cannot hold the run past its deadline.
 *
 * dns.lookup runs getaddrinfo on libuv's thread pool, where it cannot be cancelled, and Node joins that pool when the
 * process exits (process.exit included). With a resolver that drops queries the process would outlive --timeout by
 * the stub resolver's own timeout: 5 s x 2 attempts per nameserver and per search domain, 40 s in a Kubernetes pod.
 * The helper makes the same call (same options, same resolv.conf, nsswitch and environment, same error codes), and
 * can be abandoned: it is killed when the run ends. If it cannot be started, lookups run in this process as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lookup as dnsLookup } from 'node:dns/promises';
import { createInterface } from 'node:readline';
import type { LookupAddress } from './download.js';

export interface HelperResolver {
  lookup(host: string): Promise<LookupAddress[]>;
  /** Kill the helper (pending lookups are abandoned: they never settle). Idempotent. */
  close(): void;
}

/** One JSON request a line in, one JSON answer a line out. CommonJS: `node -e` evaluates it as a script. */
const HELPER_SCRIPT = `
const dns = require('node:dns');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, host } = JSON.parse(line);
  dns.lookup(host, { all: true, order: 'verbatim' }, (err, addrs) => {
    process.stdout.write(JSON.stringify(err ? { id, error: { code: err.code, message: err.message } } : { id, addrs }) + '\\n');
  });
}).on('close', () => process.exit(0));
`;

const inProcess = async (host: string): Promise<LookupAddress[]> =>
  (await dnsLookup(host, { all: true, order: 'verbatim' })) as LookupAddress[];

interface Pending {
  host: string;
  resolve: (a: LookupAddress[]) => void;
  reject: (e: Error) => void;
}

export function createHelperResolver(opts: { execPath?: string; env?: NodeJS.ProcessEnv } = {}): HelperResolver {
  let child: ChildProcess | undefined;
  let broken = false;
  let closed = false;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  // The helper holds the event loop only while a lookup is outstanding, as an in-process getaddrinfo would.
  const setRef = (on: boolean) => {
    if (!child) return;
    for (const h of [child, child.stdout, child.stdin] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  };

  const settle = (id: number) => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) setRef(false);
    return p;
  };

  /** The helper died or never started: what it had not answered is asked again here. */
  const fallBack = () => {
    if (broken) return;
    broken = true;
    for (const [id, p] of [...pending]) {
      settle(id);
      if (!closed) inProcess(p.host).then(p.resolve, p.reject);
    }
  };

  const start = (): ChildProcess | undefined => {
    if (child || broken) return child;
    try {
      const env = { ...(opts.env ?? process.env) };
      // The user's NODE_OPTIONS (--inspect, --require hooks) are meant for the tool, not for this helper.
      delete env.NODE_OPTIONS;
      child = spawn(opts.execPath ?? process.execPath, ['-e', HELPER_SCRIPT], {
        stdio: ['pipe', 'pipe', 'ignore'],
        env,
        windowsHide: true,
      });
    } catch {
      broken = true;
      return undefined;
    }
    child.once('error', fallBack);
    child.once('exit', fallBack);
    child.stdin!.on('error', () => undefined);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: { id: number; addrs?: LookupAddress[]; error?: { code?: string; message: string } };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      const p = settle(msg.id);
      if (!p) return;
      if (msg.addrs) p.resolve(msg.addrs);
      else p.reject(Object.assign(new Error(msg.error?.message ?? 'lookup failed'), { code: msg.error?.code }));
    });
    setRef(false);
    return child;
  };

  return {
    lookup(host) {
      if (closed) return new Promise<LookupAddress[]>(() => undefined);
      const c = start();
      if (!c || broken) return inProcess(host);
      return new Promise<LookupAddress[]>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { host, resolve, reject });
        setRef(true);
        c.stdin!.write(`${JSON.stringify({ id, host })}\n`);
      });
    },
    close() {
      closed = true;
      pending.clear();
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      setRef(false);
    },
  };
}
