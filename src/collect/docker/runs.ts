/**
 * Running the standalone probe inside a daemon, through the Engine API only (the daemon may be remote: nothing is
 * bind-mounted). A container: create -> PUT archive (an in-memory tar with the probe and the CA) -> start -> follow
 * its log until the probe's answer is in; its exit (the exit code) and its removal go on in the background, which
 * the session's finish waits for (lifecycle.ts). A build step: POST /build with an in-memory context whose
 * Dockerfile RUNs the probe, the answer read from the build stream as soon as the RUN step prints it (the step's
 * commit, the tag and the image's removal go on in the background). Each returns the probe's JSON answer or why
 * there is none.
 */
import type { DockerClient } from './api.js';
import { DockerApiError } from '../../model/errors.js';
import { inBackground, type Created } from './lifecycle.js';
import { encodeProbeConfig, findProbeOutput, type InnerProbeConfig, type InnerProbeOutput } from './protocol.js';
import { demuxLogs, parseBuildStream, pullError } from './stream.js';
import { createTar, type TarEntry } from './tar.js';
import type { PullPolicy } from '../../config/options.js';

export interface ProbeJob {
  api: DockerClient;
  now: () => number;
  image: string;
  /** Text of dist/probe.mjs. */
  script: string;
  labels: Record<string, string>;
  /** The probe settings except budgetMs (computed per container from the deadline). */
  config: Omit<InnerProbeConfig, 'budgetMs'>;
  /** Proxy variables to pass in (HTTP(S)_PROXY, NO_PROXY, both cases). */
  env: Record<string, string>;
  /** Extra CA bundle (PEM) to trust inside: copied to /probe/ca.pem, named in the probe's config (caFile). */
  ca?: string;
  created: Created;
}

export interface InnerRun {
  output?: InnerProbeOutput;
  /** Why there is no output (create/start failed, no JSON line, deadline). */
  error?: string;
  /** Wall time of the whole container or build, ms. */
  ms: number;
  exitCode?: number;
}

export const PROBE_DIR = '/probe';
/** Time the daemon needs around the probe itself: create, copy, start, exit, logs (measured ~0.3-0.6 s locally). */
const CONTAINER_OVERHEAD_MS = 1200;
/** A build adds the context upload, the COPY layer and a commit around the RUN step. */
const BUILD_OVERHEAD_MS = 2500;
/** The build step's probe exits so after its answer: a failed step is not committed (forcerm removes its container). */
export const BUILD_ANSWERED_EXIT = 3;

function probeFiles(job: ProbeJob): TarEntry[] {
  return [{ name: 'probe/probe.mjs', data: job.script }, ...(job.ca ? [{ name: 'probe/ca.pem', data: job.ca }] : [])];
}

/** The probe's config word: the CA copied in is named in it (no NODE_EXTRA_CA_CERTS, so a build needs no ENV step). */
function probeWord(job: ProbeJob, extra: Pick<InnerProbeConfig, 'budgetMs' | 'exitCode'>): string {
  return encodeProbeConfig({ ...job.config, ...(job.ca ? { caFile: `${PROBE_DIR}/ca.pem` } : {}), ...extra });
}

const errText = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e instanceof DockerApiError ? e.message : `${e.code ?? 'error'}: ${e.message ?? String(err)}`;
};

/** What a probe container printed so far, and its answer once a whole JSON line of it is in. */
interface Followed {
  output?: InnerProbeOutput;
  stdout: string;
  stderr: string;
}

/**
 * Follow a container's log (GET /logs?follow=1: it ends when the container exits). `answer` settles as soon as the
 * probe's answer is in (the container may still be exiting), or when the log ends without one; `all` when it ends.
 */
function followLogs(
  api: DockerClient,
  id: string,
  deadline: number,
): { answer: Promise<Followed>; all: Promise<Followed> } {
  const chunks: Buffer[] = [];
  let found!: (f: Followed) => void;
  const answer = new Promise<Followed>((resolve) => (found = resolve));
  const all = api
    .raw('GET', `/containers/${id}/logs`, {
      query: { follow: 1, stdout: 1, stderr: 1 },
      deadline,
      onChunk: (c) => {
        chunks.push(c);
        const logs = demuxLogs(Buffer.concat(chunks));
        const output = findProbeOutput(logs.stdout);
        if (output) found({ output, ...logs });
      },
    })
    .then((res) => {
      const logs = demuxLogs(res.body);
      const output = findProbeOutput(logs.stdout);
      return { ...(output ? { output } : {}), ...logs };
    });
  all.then(found, () => undefined);
  return { answer: Promise.race([answer, all]), all };
}

export interface ContainerRunOptions {
  /** Runs once the container is gone (e.g. removing its network). */
  afterRemoval?: () => Promise<unknown>;
  /** Settles when nobody needs the answer any more: the container is then not started, or removed at once. */
  abandoned?: Promise<void>;
}

/**
 * Run the probe in a short-lived container on `network` ('bridge', 'host', or a network name). The answer is
 * returned as soon as the probe has printed it; the container's exit (its code goes into the run when it comes) and
 * its removal go on in the background (the session's finish waits for them), then `opts.afterRemoval`.
 */
export async function runProbeContainer(
  job: ProbeJob,
  network: string,
  name: string,
  deadline: number,
  opts: ContainerRunOptions = {},
): Promise<InnerRun> {
  const { api, now } = job;
  const t0 = now();
  const budgetMs = Math.floor(deadline - now() - CONTAINER_OVERHEAD_MS);
  let id: string | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let gaveUp = false;
  const abandoned = opts.abandoned?.then(() => {
    gaveUp = true;
    return { error: 'abandoned: its answer was no longer needed', ms: Math.round(now() - t0) } satisfies InnerRun;
  });
  try {
    if (budgetMs < job.config.stallTimeoutMs + 500)
      return {
        error: `not enough time left to probe (${Math.max(0, budgetMs)} ms, the stall timeout needs ${job.config.stallTimeoutMs + 500}): raise --timeout`,
        ms: 0,
      };
    const word = probeWord(job, { budgetMs });
    const created = await api.call<{ Id: string }>('POST', '/containers/create', {
      query: { name },
      json: {
        Image: job.image,
        // Bypass the image's entrypoint (node images wrap `node` in a shell script; ours need no shell).
        Entrypoint: ['node'],
        Cmd: [`${PROBE_DIR}/probe.mjs`, word],
        Env: Object.entries(job.env).map(([k, v]) => `${k}=${v}`),
        Labels: job.labels,
        WorkingDir: '/',
        HostConfig: { NetworkMode: network, LogConfig: { Type: 'json-file', Config: {} } },
      },
      deadline,
    });
    id = created.Id;
    job.created.containers.add(id);
    await api.call('PUT', `/containers/${id}/archive`, {
      query: { path: '/' },
      body: createTar(probeFiles(job)),
      contentType: 'application/x-tar',
      deadline,
    });
    if (gaveUp && abandoned) return await abandoned;
    await api.call('POST', `/containers/${id}/start`, { deadline });
    const waited = api.call<{ StatusCode?: number }>('POST', `/containers/${id}/wait`, {
      query: { condition: 'not-running' },
      deadline,
    });
    // Handled at once: the daemon may fail it (or die) while the log is being followed.
    exited = waited.catch(() => undefined);
    const logs = followLogs(api, id, deadline + 1000);
    const first = await (abandoned ? Promise.race([logs.answer, abandoned]) : logs.answer);
    // Abandoned: removed at once (force), not after its exit.
    if ('error' in first) return first;
    const ms = Math.round(now() - t0);
    if (first.output) {
      const run: InnerRun = { output: first.output, ms };
      exited = waited.then((w) => {
        if (w?.StatusCode !== undefined) run.exitCode = w.StatusCode;
      });
      return run;
    }
    // No answer: the exit code and the whole log say why.
    const exitCode = (await waited)?.StatusCode;
    const { stdout, stderr } = await logs.all;
    const tail = (stderr || stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return {
      error: `the probe printed no answer (exit ${exitCode ?? '?'})${tail ? `: ${tail}` : ''}`,
      ms: Math.round(now() - t0),
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  } catch (err) {
    const hint =
      err instanceof DockerApiError && err.status !== undefined && id
        ? ` (the probe image ${job.image} must contain node)`
        : '';
    return { error: `${errText(err)}${hint}`, ms: Math.round(now() - t0) };
  } finally {
    inBackground(
      job.created,
      removeAfter(job, id, gaveUp ? Promise.resolve() : exited, deadline).then(opts.afterRemoval),
    );
  }
}

/** Remove container `id` once `exited` settles (a run cut short: at once; force stops it). */
async function removeAfter(job: ProbeJob, id: string | undefined, exited: Promise<unknown>, deadline: number) {
  if (!id) return;
  const { api, now } = job;
  await exited.catch(() => undefined);
  await api
    .call('DELETE', `/containers/${id}`, {
      query: { force: 1, v: 1 },
      deadline: Math.max(deadline, now()) + 3000,
      cleanup: true,
    })
    .then(() => job.created.containers.delete(id))
    .catch(() => undefined);
}

/**
 * Run the probe as a `docker build` RUN step (classic builder: POST /build version 1, which RUNs on the default
 * bridge like the stories' builds). The image it produces is labelled and removed.
 */
export async function runProbeBuild(job: ProbeJob, tag: string, deadline: number): Promise<InnerRun> {
  const { api, now } = job;
  const t0 = now();
  const budgetMs = Math.floor(deadline - now() - BUILD_OVERHEAD_MS);
  if (budgetMs < job.config.stallTimeoutMs + 500)
    return {
      error: `not enough time left for a build step (${Math.max(0, budgetMs)} ms, the stall timeout needs ${job.config.stallTimeoutMs + 500}): raise --timeout`,
      ms: 0,
    };
  const word = probeWord(job, { budgetMs, exitCode: BUILD_ANSWERED_EXIT });
  const labels = Object.entries(job.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  // LABEL right after FROM: every intermediate image and the RUN step's container carry the labels too,
  // so a build cut short leaves nothing a sweep cannot find.
  const dockerfile = [
    `FROM ${job.image}`,
    `LABEL ${labels}`,
    'COPY probe /probe',
    `RUN ["node", "${PROBE_DIR}/probe.mjs", "${word}"]`,
    '',
  ].join('\n');
  const context = createTar([{ name: 'Dockerfile', data: dockerfile }, ...probeFiles(job)]);
  job.created.images.add(tag);
  let text = '';
  let answered!: (output: InnerProbeOutput) => void;
  const answer = new Promise<InnerProbeOutput>((resolve) => (answered = resolve));
  const built = api.raw('POST', '/build', {
    query: {
      t: tag,
      version: '1',
      nocache: 1,
      rm: 1,
      forcerm: 1,
      pull: 0,
      q: 0,
      // Proxy variables are predefined build args: RUN sees them without an ARG line.
      ...(Object.keys(job.env).length ? { buildargs: JSON.stringify(job.env) } : {}),
      // No `labels` query: the classic builder would add one LABEL step (a container and a commit) per label after
      // the RUN step; the LABEL line above labels every image of the build.
    },
    body: context,
    contentType: 'application/x-tar',
    deadline,
    // The RUN step's answer is in the stream before the builder commits the step: it is the run's result.
    onChunk: (c) => {
      text += c.toString('utf8');
      const output = findProbeOutput(parseBuildStream(text).output);
      if (output) answered(output);
    },
  });
  // Removed once the build is over, in the background: no tag (the RUN step fails on purpose), so the last step's
  // image (COPY's) and its untagged parent (LABEL's); the session's finish removes whatever else has the run's label.
  const removeBuilt = (streamed: string) => {
    const ids = [...parseBuildStream(streamed).output.matchAll(/-{2,3}> ([0-9a-f]{12,64})\s*$/gm)].map((m) => m[1]!);
    return api
      .call('DELETE', `/images/${ids.at(-1) ?? tag}`, {
        query: { force: 1 },
        deadline: Math.max(deadline, now()) + 3000,
        cleanup: true,
      })
      .then(() => job.created.images.delete(tag));
  };
  inBackground(
    job.created,
    built.then(
      (res) => removeBuilt(res.body.toString('utf8')),
      () => removeBuilt(text),
    ),
  );
  try {
    const res = await Promise.race([built, answer]);
    const ms = Math.round(now() - t0);
    if (!('body' in res)) return { output: res, ms };
    const body = res.body.toString('utf8');
    if (res.status >= 400) return { error: `POST /build: ${res.status} ${body.trim().slice(0, 300)}`, ms };
    const build = parseBuildStream(body);
    const output = findProbeOutput(build.output);
    if (output) return { output, ms };
    return { error: build.error ? `the build failed: ${build.error}` : 'the build step printed no probe answer', ms };
  } catch (err) {
    return { error: errText(err), ms: Math.round(now() - t0) };
  }
}

/** The reference with an explicit tag (a pull without one would fetch every tag). */
export function splitImageRef(ref: string): { fromImage: string; tag?: string } {
  if (ref.includes('@')) return { fromImage: ref };
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: 'latest' };
}

export type ImageState = { ok: true; pulled: boolean; id?: string } | { ok: false; reason: string };

/** Make sure the probe image is there, per --pull. */
export async function ensureImage(
  api: DockerClient,
  image: string,
  pull: PullPolicy,
  deadline: number,
): Promise<ImageState> {
  let present: { Id?: string } | undefined;
  try {
    present = await api.call<{ Id?: string }>('GET', `/images/${image}/json`, { deadline });
  } catch (err) {
    if (!(err instanceof DockerApiError && err.status === 404))
      return { ok: false, reason: `cannot inspect image ${image}: ${errText(err)}` };
  }
  if (present && pull !== 'always') return { ok: true, pulled: false, ...(present.Id ? { id: present.Id } : {}) };
  if (!present && pull === 'never')
    return { ok: false, reason: `probe image ${image} is not on the daemon and --pull is never` };
  const { fromImage, tag } = splitImageRef(image);
  try {
    const res = await api.raw('POST', '/images/create', { query: { fromImage, ...(tag ? { tag } : {}) }, deadline });
    const text = res.body.toString('utf8');
    const failed = res.status >= 400 ? text.trim().slice(0, 300) : pullError(text);
    if (failed) {
      return present ? { ok: true, pulled: false } : { ok: false, reason: `pulling ${image} failed: ${failed}` };
    }
    return { ok: true, pulled: true };
  } catch (err) {
    return present ? { ok: true, pulled: false } : { ok: false, reason: `pulling ${image} failed: ${errText(err)}` };
  }
}
