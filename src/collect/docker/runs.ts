/**
 * Running the standalone probe inside a daemon, through the Engine API only (the daemon may be remote: nothing is
 * bind-mounted). A container: create -> PUT archive (an in-memory tar with the probe and the CA) -> start -> wait
 * -> logs -> remove. A build step: POST /build with an in-memory context whose Dockerfile RUNs the probe, the
 * answer parsed out of the build stream. Each returns the probe's JSON answer or why there is none.
 */
import type { DockerClient } from './api.js';
import { DockerApiError } from '../../model/errors.js';
import type { Created } from './lifecycle.js';
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
  /** Extra CA bundle (PEM) to trust inside: copied to /probe/ca.pem, NODE_EXTRA_CA_CERTS points at it. */
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

function probeFiles(job: ProbeJob): TarEntry[] {
  return [{ name: 'probe/probe.mjs', data: job.script }, ...(job.ca ? [{ name: 'probe/ca.pem', data: job.ca }] : [])];
}

function containerEnv(job: ProbeJob): string[] {
  return [
    ...Object.entries(job.env).map(([k, v]) => `${k}=${v}`),
    ...(job.ca ? [`NODE_EXTRA_CA_CERTS=${PROBE_DIR}/ca.pem`] : []),
  ];
}

const errText = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e instanceof DockerApiError ? e.message : `${e.code ?? 'error'}: ${e.message ?? String(err)}`;
};

/** Run the probe in a short-lived container on `network` ('bridge', 'host', or a network name). */
export async function runProbeContainer(
  job: ProbeJob,
  network: string,
  name: string,
  deadline: number,
): Promise<InnerRun> {
  const { api, now } = job;
  const t0 = now();
  const budgetMs = Math.floor(deadline - now() - CONTAINER_OVERHEAD_MS);
  if (budgetMs < job.config.stallTimeoutMs + 500)
    return {
      error: `not enough time left to probe (${Math.max(0, budgetMs)} ms, the stall timeout needs ${job.config.stallTimeoutMs + 500}): raise --timeout`,
      ms: 0,
    };
  const word = encodeProbeConfig({ ...job.config, budgetMs });
  let id: string | undefined;
  try {
    const created = await api.call<{ Id: string }>('POST', '/containers/create', {
      query: { name },
      json: {
        Image: job.image,
        // Bypass the image's entrypoint (node images wrap `node` in a shell script; ours need no shell).
        Entrypoint: ['node'],
        Cmd: [`${PROBE_DIR}/probe.mjs`, word],
        Env: containerEnv(job),
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
    await api.call('POST', `/containers/${id}/start`, { deadline });
    const waited = await api.call<{ StatusCode?: number }>('POST', `/containers/${id}/wait`, {
      query: { condition: 'not-running' },
      deadline,
    });
    const logs = await api.raw('GET', `/containers/${id}/logs`, {
      query: { stdout: 1, stderr: 1 },
      deadline: deadline + 1000,
    });
    const { stdout, stderr } = demuxLogs(logs.body);
    const output = findProbeOutput(stdout);
    const exitCode = waited?.StatusCode;
    const ms = Math.round(now() - t0);
    if (output) return { output, ms, ...(exitCode !== undefined ? { exitCode } : {}) };
    const tail = (stderr || stdout).trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    return {
      error: `the probe printed no answer (exit ${exitCode ?? '?'})${tail ? `: ${tail}` : ''}`,
      ms,
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  } catch (err) {
    const hint =
      err instanceof DockerApiError && err.status !== undefined && id
        ? ` (the probe image ${job.image} must contain node)`
        : '';
    return { error: `${errText(err)}${hint}`, ms: Math.round(now() - t0) };
  } finally {
    if (id) {
      const cid = id;
      const removed = api
        .call('DELETE', `/containers/${cid}`, {
          query: { force: 1, v: 1 },
          deadline: Math.max(deadline, now()) + 3000,
          cleanup: true,
        })
        .then(() => job.created.containers.delete(cid))
        .catch(() => undefined);
      // Past the deadline the run's cleanup removes it; do not hold the report for it.
      if (now() < deadline) await removed;
    }
  }
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
  const word = encodeProbeConfig({ ...job.config, budgetMs });
  const labels = Object.entries(job.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  // LABEL right after FROM: every intermediate image and the RUN step's container carry the labels too,
  // so a build cut short leaves nothing a sweep cannot find.
  const dockerfile = [
    `FROM ${job.image}`,
    `LABEL ${labels}`,
    'COPY probe /probe',
    ...(job.ca ? [`ENV NODE_EXTRA_CA_CERTS=${PROBE_DIR}/ca.pem`] : []),
    `RUN ["node", "${PROBE_DIR}/probe.mjs", "${word}"]`,
    '',
  ].join('\n');
  const context = createTar([{ name: 'Dockerfile', data: dockerfile }, ...probeFiles(job)]);
  job.created.images.add(tag);
  try {
    const res = await api.raw('POST', '/build', {
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
        labels: JSON.stringify(job.labels),
      },
      body: context,
      contentType: 'application/x-tar',
      deadline,
    });
    const ms = Math.round(now() - t0);
    const text = res.body.toString('utf8');
    if (res.status >= 400) return { error: `POST /build: ${res.status} ${text.trim().slice(0, 300)}`, ms };
    const build = parseBuildStream(text);
    const output = findProbeOutput(build.output);
    if (output) return { output, ms };
    return { error: build.error ? `the build failed: ${build.error}` : 'the build step printed no probe answer', ms };
  } catch (err) {
    return { error: errText(err), ms: Math.round(now() - t0) };
  } finally {
    const removed = api
      .call('DELETE', `/images/${tag}`, {
        query: { force: 1 },
        deadline: Math.max(deadline, now()) + 3000,
        cleanup: true,
      })
      .then(() => job.created.images.delete(tag))
      .catch(() => undefined);
    if (now() < deadline) await removed;
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
