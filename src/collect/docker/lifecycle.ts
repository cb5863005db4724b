/**
 * Everything this tool creates on a daemon (containers, networks, images) carries its labels and is removed at the
 * end of the run, on timeout and on SIGINT/SIGTERM. Leftovers of a run that was killed (SIGKILL, OOM) are swept at
 * the start of the next one: only those whose `expires` label has passed, so two jobs sharing one daemon never
 * remove each other's probes (a run cannot outlive its --timeout).
 */
import type { DockerClient } from './api.js';

export const LABEL = 'io.mtu-preflight';
export const LABEL_RUN = 'io.mtu-preflight.run';
export const LABEL_EXPIRES = 'io.mtu-preflight.expires';

export function runLabels(runId: string, expiresAtEpochMs: number): Record<string, string> {
  return { [LABEL]: '1', [LABEL_RUN]: runId, [LABEL_EXPIRES]: String(Math.ceil(expiresAtEpochMs)) };
}

/** What this run created, by id: removed even if a label query misses them. */
export interface Created {
  containers: Set<string>;
  networks: Set<string>;
  images: Set<string>;
  /**
   * Work that goes on after a probe's answer is in (a container's exit and removal, a build's last commit and its
   * image's removal): nobody waits for it but the session's finish, which lets it end before it removes the rest.
   */
  pending: Set<Promise<unknown>>;
}

export function newCreated(): Created {
  return { containers: new Set(), networks: new Set(), images: new Set(), pending: new Set() };
}

/** Let `work` go on in the background; the session's finish waits for it (it never throws). */
export function inBackground(created: Created, work: Promise<unknown>): void {
  const p: Promise<unknown> = work.catch(() => undefined).finally(() => created.pending.delete(p));
  created.pending.add(p);
}

/** Until the background work is done (work it starts included), or `deadline`. */
async function drain(created: Created, deadline: number, now: () => number): Promise<void> {
  while (created.pending.size && now() < deadline) await Promise.all([...created.pending]);
}

interface Labelled {
  Id: string;
  Labels?: Record<string, string> | null;
}

const filter = (label: string) => JSON.stringify({ label: [label] });

async function listLabelled(
  api: DockerClient,
  label: string,
  deadline: number,
): Promise<{ containers: Labelled[]; networks: Labelled[]; images: Labelled[] }> {
  const [containers, networks, images] = await Promise.all([
    api
      .call<Labelled[]>('GET', '/containers/json', {
        query: { all: 1, filters: filter(label) },
        deadline,
        cleanup: true,
      })
      .catch(() => []),
    api
      .call<Labelled[]>('GET', '/networks', { query: { filters: filter(label) }, deadline, cleanup: true })
      .catch(() => []),
    api
      .call<Labelled[]>('GET', '/images/json', { query: { all: 1, filters: filter(label) }, deadline, cleanup: true })
      .catch(() => []),
  ]);
  return { containers: containers ?? [], networks: networks ?? [], images: images ?? [] };
}

/**
 * Remove containers, then networks (they cannot go while a container is attached), then images (likewise).
 * Never throws; returns how many of each were removed.
 */
async function removeAll(
  api: DockerClient,
  ids: { containers: Iterable<string>; networks: Iterable<string>; images: Iterable<string> },
  deadline: number,
) {
  // A 404 (already gone) or a failure counts as not removed; the caller cannot do more than try.
  const ok = (p: Promise<unknown>) =>
    p.then(
      () => 1,
      () => 0,
    );
  const c = await Promise.all(
    [...new Set(ids.containers)].map((id) =>
      ok(api.call('DELETE', `/containers/${id}`, { query: { force: 1, v: 1 }, deadline, cleanup: true })),
    ),
  );
  const n = await Promise.all(
    [...new Set(ids.networks)].map((id) => ok(api.call('DELETE', `/networks/${id}`, { deadline, cleanup: true }))),
  );
  // Images one by one: removing a child can untag/remove its parent, and parallel deletes then race for it.
  let i = 0;
  for (const id of new Set(ids.images))
    i += await ok(api.call('DELETE', `/images/${id}`, { query: { force: 1 }, deadline, cleanup: true }));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { containers: sum(c), networks: sum(n), images: i };
}

/** Remove everything of run `runId`: what we know we created, plus whatever carries its label. */
export async function removeRun(api: DockerClient, runId: string, created: Created, deadline: number): Promise<void> {
  const listed = await listLabelled(api, `${LABEL_RUN}=${runId}`, deadline);
  await removeAll(
    api,
    {
      containers: [...created.containers, ...listed.containers.map((x) => x.Id)],
      networks: [...created.networks, ...listed.networks.map((x) => x.Id)],
      images: [...created.images, ...listed.images.map((x) => x.Id)],
    },
    deadline,
  );
}

/** Remove leftovers of earlier runs whose deadline has passed. Returns what was removed. */
export async function sweepLeftovers(
  api: DockerClient,
  wallNow: number,
  deadline: number,
): Promise<{ containers: number; networks: number; images: number }> {
  const listed = await listLabelled(api, `${LABEL}=1`, deadline);
  const expired = (x: Labelled) => {
    const exp = Number(x.Labels?.[LABEL_EXPIRES]);
    return !Number.isFinite(exp) || exp < wallNow;
  };
  return removeAll(
    api,
    {
      containers: listed.containers.filter(expired).map((x) => x.Id),
      networks: listed.networks.filter(expired).map((x) => x.Id),
      images: listed.images.filter(expired).map((x) => x.Id),
    },
    deadline,
  );
}

/**
 * One run on one daemon: its id and labels, what it created, and its teardown. `cancel` is what SIGINT/SIGTERM
 * calls (registered through src/util/cleanup.ts): it aborts every call in flight and removes what the run made;
 * `finish` removes it at the end of a run that was not cancelled, by the deadline, and says whether it got done
 * (what is not done by then is left to the registered cleanup, which runs at exit).
 */
export interface RunSession {
  runId: string;
  labels: Record<string, string>;
  created: Created;
  readonly cancelled: boolean;
  /** A container or network name of this run: mtu-preflight-<runId>-<what>. */
  name(what: string): string;
  cancel(): Promise<void>;
  finish(deadline: number, now: () => number): Promise<boolean>;
}

export function openSession(api: DockerClient, runId: string, expiresAtEpochMs: number, now: () => number): RunSession {
  const created = newCreated();
  let cancelled = false;
  return {
    runId,
    labels: runLabels(runId, expiresAtEpochMs),
    created,
    get cancelled() {
      return cancelled;
    },
    name: (what) => `mtu-preflight-${runId}-${what}`,
    async cancel() {
      cancelled = true;
      api.abortAll();
      await removeRun(api, runId, created, now() + 4000);
      // A create the daemon finished after we aborted it: one more pass catches it. (A ref'd timer: with the
      // probes aborted it may be all that keeps the process alive until the signal's exit code is set.)
      await new Promise((r) => setTimeout(r, 300));
      await removeRun(api, runId, created, now() + 2000);
    },
    async finish(deadline, clock) {
      if (cancelled) return false;
      return Promise.race([
        // The background removals first: a network goes only once its container is gone.
        drain(created, deadline, clock)
          .then(() => removeRun(api, runId, created, deadline))
          .then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - clock())).unref?.()),
      ]);
    },
  };
}
