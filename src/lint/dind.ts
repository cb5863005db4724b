/**
 * A Docker-in-Docker daemon written into a CI file (a GitLab or Drone service, a Woodpecker service or detached step):
 * its dockerd's arguments, whether their --mtu fits, and what the finding says. One place for the three systems.
 */
import type { Document } from 'yaml';
import { dockerdMtuArgs } from '../diagnose/knobs/dockerd.js';
import { asStrings, DOCKER_DEFAULT_MTU, settingFits, valueOf } from './yaml.js';
import { dindEngine, dockerdMtu } from './docker-args.js';
import type { YAMLMap } from 'yaml';

export interface DindArgs {
  entrypoint: string[];
  command: string[];
  /** The --mtu they set (a number, 'variable'), or undefined when none. */
  set: number | 'variable' | undefined;
}

/** The entrypoint and command of a dind service or step: the image's entrypoint runs dockerd with them. */
export function dindArgs(doc: Document.Parsed, map: YAMLMap | undefined): DindArgs {
  const entrypoint = asStrings(doc, valueOf(doc, map, 'entrypoint'));
  const command = asStrings(doc, valueOf(doc, map, 'command'));
  return { entrypoint, command, set: dockerdMtu([...entrypoint, ...command]) };
}

/** Whether the dind's --mtu is fine for this uplink (set low enough, or from a variable we cannot judge). */
export const dindFits = (args: DindArgs, mtu: number): boolean => settingFits(args.set, mtu);

/** The finding's sentence: `subject` names the service or step (`docker:dind service of job 'build'`). */
export function dindSummary(subject: string, where: string, set: number | 'variable' | undefined, mtu: number): string {
  const effect = 'downloads in containers it runs (docker build, docker run) can stall.';
  return set === undefined
    ? `${subject} in ${where} has no --mtu; the uplink MTU is ${mtu}, dind's bridge defaults to ${DOCKER_DEFAULT_MTU}: ${effect}`
    : `${subject} in ${where} has --mtu=${set}, above the uplink MTU ${mtu}: ${effect}`;
}

/** The MTU arguments for this dind image's dockerd (default-network-opt only when its tag says 24+ or nothing). */
export const dindMtuArgs = (image: string, mtu: number): string[] => dockerdMtuArgs(mtu, dindEngine(image));
