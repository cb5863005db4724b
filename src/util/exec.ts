/**
 * Every external command (ss, ip, docker) runs through here, with a hard time limit:
 * a hung command must never hold the run past its deadline.
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not start (ENOENT: not installed) or was killed at its time limit. */
  error?: { code: string; message: string };
}

export type Exec = (
  cmd: string,
  args: readonly string[],
  opts?: { timeoutMs?: number; input?: string | Buffer; env?: NodeJS.ProcessEnv },
) => Promise<ExecResult>;

const MAX_OUTPUT = 16 * 1024 * 1024;

export const runCommand: Exec = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return resolve({ code: null, stdout: '', stderr: '', error: { code: e.code ?? 'ESPAWN', message: e.message } });
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let size = 0;
    let done = false;
    let killed = false;
    const finish = (r: ExecResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 10_000);
    timer.unref?.();
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_OUTPUT) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => errOut.push(d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({ code: null, stdout: '', stderr: '', error: { code: err.code ?? 'ESPAWN', message: err.message } }),
    );
    child.on('close', (code) =>
      finish({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(errOut).toString('utf8'),
        ...(killed
          ? { error: { code: 'ETIMEDOUT', message: `${cmd} did not finish in ${opts.timeoutMs ?? 10_000} ms` } }
          : {}),
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
