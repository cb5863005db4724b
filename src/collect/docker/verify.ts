/**
 * The verification of a lower MTU: probe again from a container on a temporary bridge network created with that MTU;
 * if it still stalls, on the step-down MTUs below it, in parallel (one more round, not four). Which MTU to try is
 * the diagnosis' call (src/diagnose/rules/docker-blackhole.ts, verificationMtu): this only runs it.
 */
import { MTU_OPTION, STEP_DOWN_MTUS } from '../../model/net.js';
import { inBackground, type RunSession } from './lifecycle.js';
import { runProbeContainer, type InnerRun, type ProbeJob } from './runs.js';

export interface Attempted {
  mtu: number;
  run: InnerRun;
  /** The temporary network's Linux bridge (br-<id12>): a probe of the daemon's namespace meanwhile may list it. */
  bridge?: string;
}

const allOk = (run: InnerRun) =>
  !!run.output && run.output.probes.length > 0 && run.output.probes.every((p) => p.outcome === 'ok');

/**
 * One probe from a container on a temporary bridge network created with `mtu`, the network removed after. `tag`
 * names the network and container (session-scoped, labelled: a later run sweeps them if this one is killed).
 */
export async function attemptMtu(
  job: ProbeJob,
  session: RunSession,
  mtu: number,
  deadline: number,
  tag = `mtu${mtu}`,
  abandoned?: Promise<void>,
): Promise<Attempted> {
  const t0 = job.now();
  let net: { Id: string };
  try {
    net = await job.api.call<{ Id: string }>('POST', '/networks/create', {
      json: {
        Name: session.name(tag),
        Driver: 'bridge',
        CheckDuplicate: true,
        Options: { [MTU_OPTION]: String(mtu) },
        Labels: session.labels,
      },
      deadline,
    });
  } catch (err) {
    return {
      mtu,
      run: {
        error: `could not create a network with MTU ${mtu}: ${(err as Error).message}`,
        ms: Math.round(job.now() - t0),
      },
    };
  }
  const netId = net.Id;
  job.created.networks.add(netId);
  // The network goes once its container is gone, in the background (the session's finish waits for it).
  const removeNetwork = () =>
    job.api
      .call('DELETE', `/networks/${netId}`, { deadline: Math.max(deadline, job.now()) + 2000, cleanup: true })
      .then(() => job.created.networks.delete(netId))
      .catch(() => undefined);
  return {
    mtu,
    bridge: `br-${netId.slice(0, 12)}`,
    run: await runProbeContainer(
      job,
      session.name(tag),
      session.name(tag === `mtu${mtu}` ? `verify${mtu}` : `${tag}-probe`),
      deadline,
      { afterRemoval: removeNetwork, ...(abandoned ? { abandoned } : {}) },
    ),
  };
}

/** Every attempt, largest MTU first. `first`: the attempt at `recommended` when it already runs (verifyEarly). */
export async function verifyMtus(
  job: ProbeJob,
  session: RunSession,
  recommended: number,
  deadline: number,
  first?: Promise<Attempted>,
): Promise<Attempted[]> {
  const attempt = (mtu: number) => attemptMtu(job, session, mtu, deadline);
  const one = await (first ?? attempt(recommended));
  if (allOk(one.run) || !one.run.output) return [one];
  const lower = STEP_DOWN_MTUS.filter((m) => m < recommended);
  const rest = await Promise.all(lower.map(attempt));
  return [one, ...rest];
}

export interface EarlyVerification {
  /** The daemon namespace's answer is in: the MTU worth trying ahead, if any (its uplink's, below the bridge's). */
  ahead: (host: InnerRun) => number | undefined;
  /** Both answers are in: the MTU the diagnosis asks to verify, if any (LayerContext.planVerification). */
  plan: (bridge: InnerRun | undefined, host: InnerRun) => number | undefined;
}

/**
 * The verification as soon as it can run: when the daemon namespace's answer shows its uplink below the default
 * bridge's MTU, a container on a network at the uplink's MTU starts at once, while the bridge's probe is still
 * waiting for its stall; when the bridge's answer is in and the diagnosis asks for that MTU, that attempt is the
 * first one. Otherwise it is abandoned (not started, or removed at once) and not reported. `early` is undefined when
 * the diagnosis asks for nothing on those two answers; `later` verifies what it asks for once every probe is in.
 */
export function verifyEarly(
  job: ProbeJob,
  session: RunSession,
  bridgeWork: Promise<InnerRun | undefined>,
  hostWork: Promise<InnerRun>,
  how: EarlyVerification,
  deadline: number,
): { early: Promise<Attempted[] | undefined>; later: (mtu: number) => Promise<Attempted[]> } {
  let abandon!: () => void;
  const abandoned = new Promise<void>((resolve) => (abandon = resolve));
  const ahead = hostWork
    .then((host) => {
      const mtu = how.ahead(host);
      if (mtu === undefined) return undefined;
      const attempt = attemptMtu(job, session, mtu, deadline, `ahead${mtu}`, abandoned);
      // Awaited when it is the one asked for; the session's finish waits for it either way.
      inBackground(job.created, attempt);
      return { mtu, attempt };
    })
    .catch(() => undefined);
  const early = Promise.all([bridgeWork, hostWork]).then(async ([bridge, host]) => {
    const mtu = how.plan(bridge, host);
    const started = await ahead;
    const use = mtu !== undefined && started?.mtu === mtu;
    if (!use) abandon();
    return mtu === undefined ? undefined : verifyMtus(job, session, mtu, deadline, use ? started.attempt : undefined);
  });
  return { early, later: (mtu) => verifyMtus(job, session, mtu, deadline) };
}
