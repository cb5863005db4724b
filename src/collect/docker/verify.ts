/**
 * The verification of a lower MTU: probe again from a container on a temporary bridge network created with that MTU;
 * if it still stalls, on the step-down MTUs below it, in parallel (one more round, not four). Which MTU to try is
 * the diagnosis' call (src/diagnose/rules/docker-blackhole.ts, verificationMtu): this only runs it.
 */
import { MTU_OPTION, STEP_DOWN_MTUS } from '../../model/net.js';
import type { RunSession } from './lifecycle.js';
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
): Promise<Attempted> {
  const t0 = job.now();
  let netId: string | undefined;
  try {
    const net = await job.api.call<{ Id: string }>('POST', '/networks/create', {
      json: {
        Name: session.name(tag),
        Driver: 'bridge',
        CheckDuplicate: true,
        Options: { [MTU_OPTION]: String(mtu) },
        Labels: session.labels,
      },
      deadline,
    });
    netId = net.Id;
    job.created.networks.add(netId);
    return {
      mtu,
      bridge: `br-${netId.slice(0, 12)}`,
      run: await runProbeContainer(
        job,
        session.name(tag),
        session.name(tag === `mtu${mtu}` ? `verify${mtu}` : `${tag}-probe`),
        deadline,
      ),
    };
  } catch (err) {
    return {
      mtu,
      run: {
        error: `could not create a network with MTU ${mtu}: ${(err as Error).message}`,
        ms: Math.round(job.now() - t0),
      },
    };
  } finally {
    if (netId) {
      const id = netId;
      await job.api
        .call('DELETE', `/networks/${id}`, { deadline: Math.max(deadline, job.now()) + 2000, cleanup: true })
        .then(() => job.created.networks.delete(id))
        .catch(() => undefined);
    }
  }
}

/** Every attempt, largest MTU first. */
export async function verifyMtus(
  job: ProbeJob,
  session: RunSession,
  recommended: number,
  deadline: number,
): Promise<Attempted[]> {
  const attempt = (mtu: number) => attemptMtu(job, session, mtu, deadline);
  const first = await attempt(recommended);
  if (allOk(first.run) || !first.run.output) return [first];
  const lower = STEP_DOWN_MTUS.filter((m) => m < recommended);
  const rest = await Promise.all(lower.map(attempt));
  return [first, ...rest];
}
