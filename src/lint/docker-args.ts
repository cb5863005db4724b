/**
 * What the lint reads from a Docker daemon's command line and image, as written in a CI file: the --mtu it sets,
 * the arguments without it (for the fix), and which dockerd a dind image holds (its version gates the fix).
 */
import { hasDefaultNetworkOpts, MTU_OPTION } from '../model/net.js';

/**
 * The `--mtu` a dockerd command line sets: a number, 'variable' when it is set from a variable we cannot read
 * (`--mtu=$MTU`), or undefined when there is none.
 */
export function dockerdMtu(args: readonly string[]): number | 'variable' | undefined {
  const words = args.flatMap((a) => a.split(/\s+/)).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let v: string | undefined;
    if (w.startsWith('--mtu=')) v = w.slice('--mtu='.length);
    else if (w === '--mtu') v = words[i + 1];
    if (v === undefined) continue;
    return /^\d+$/.test(v) ? Number(v) : 'variable';
  }
  return undefined;
}

/** A `--default-network-opt` for the bridge driver's MTU option, in either spelling. */
const DEFAULT_NETWORK_OPT_MTU = new RegExp(`^--default-network-opt[= ]bridge=${MTU_OPTION.replace(/\./g, '\\.')}=`);

/** dockerd arguments without the MTU ones (`--mtu=1500`, `--mtu 1500`, a default-network-opt for the MTU): the fix replaces them. */
export function withoutMtu(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--mtu') {
      i++;
      continue;
    }
    if (a.startsWith('--mtu=') || DEFAULT_NETWORK_OPT_MTU.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** The image name without registry path, tag or digest: `registry.example.com/library/docker:24-dind` → `docker`. */
export function imageRepo(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const tail = noDigest.slice(lastSlash + 1);
  return tail.split(':')[0]!.toLowerCase();
}

export function imageTag(image: string): string {
  const noDigest = image.split('@')[0]!;
  const tail = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const i = tail.indexOf(':');
  return i >= 0 ? tail.slice(i + 1) : 'latest';
}

/** Path of an image without tag or digest, lower-cased: `docker.io/plugins/docker:20` → `docker.io/plugins/docker`. */
export function imagePath(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const tail = noDigest.slice(lastSlash + 1).split(':')[0]!;
  return (noDigest.slice(0, lastSlash + 1) + tail).toLowerCase();
}

/** A Docker-in-Docker daemon image: docker:dind, docker:27-dind, docker:dind-rootless, a mirror's .../docker:24-dind. */
export function isDindImage(image: string): boolean {
  const repo = imageRepo(image);
  const tag = imageTag(image).toLowerCase();
  return (repo === 'docker' && tag.includes('dind')) || repo === 'dind' || repo.endsWith('-dind');
}

/** The dockerd major version a dind image's tag names (`docker:24.0.7-dind` → 24); none for dind, latest or a variable. */
export function dindEngine(image: string): number | undefined {
  const m = /^(\d+)(?:\.|-|$)/.exec(imageTag(image));
  return m ? Number(m[1]) : undefined;
}

/** Whether the dind image's dockerd takes `--default-network-opt` (Docker 24+): offering it to an older one stops it starting. */
export function supportsDefaultNetworkOpt(image: string): boolean {
  return hasDefaultNetworkOpts(dindEngine(image));
}
