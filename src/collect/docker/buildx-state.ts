/**
 * buildx's own record of its builders, where the job can read it: `$BUILDX_CONFIG`, else `$DOCKER_CONFIG/buildx`, else
 * `~/.docker/buildx` (docker/buildx util/confutil/config.go, NewConfig). `instances/<name>` is one JSON NodeGroup per
 * builder and `current` the selected one (store/store.go, store/nodegroup.go at docker/buildx 461836ba):
 *
 *   {"Name":"ci","Driver":"docker-container","Nodes":[{"Name":"ci0","Endpoint":"unix:///var/run/docker.sock",
 *    "Platforms":null,"DriverOpts":{"network":"buildnet"},"Flags":["--oci-worker-net","bridge"],"Files":null}],
 *    "Dynamic":false}
 *   {"Key":"unix:///var/run/docker.sock","Name":"ci","Global":false}
 *
 * Files travel base64 (Go's []byte in JSON): buildkitd.toml among them when `--buildkitd-config` was given.
 * readBuildxState() reads the folder; parseNodeGroup() and parseCurrent() are pure and tested over
 * test/fixtures/buildx-state/.
 */
import path from 'node:path';

export interface BuildxNode {
  /** The node's name; the docker-container driver's container is buildx_buildkit_<node>. */
  name: string;
  endpoint?: string;
  driverOpts: Record<string, string>;
  /** buildkitd flags (`--buildkitd-flags`, stored under "Flags"). */
  flags: string[];
  /** buildkitd.toml when one was given (`--buildkitd-config`, `buildkitd-config-inline`). */
  buildkitdToml?: string;
}

export interface BuildxBuilder {
  name: string;
  /** docker-container, docker, kubernetes, remote, cloud ... */
  driver: string;
  nodes: BuildxNode[];
}

export interface BuildxState {
  dir: string;
  builders: BuildxBuilder[];
  /** The builder `current` names (`docker buildx use`). */
  current?: string;
}

interface RawNode {
  Name?: string;
  Endpoint?: string;
  DriverOpts?: Record<string, string> | null;
  Flags?: string[] | null;
  Files?: Record<string, string> | null;
}

/** One `instances/<name>` file; undefined when it is not a NodeGroup. */
export function parseNodeGroup(text: string): BuildxBuilder | undefined {
  let raw: { Name?: unknown; Driver?: unknown; Nodes?: RawNode[] | null };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    return undefined;
  }
  if (!raw || typeof raw.Name !== 'string') return undefined;
  const nodes = (Array.isArray(raw.Nodes) ? raw.Nodes : []).map((n): BuildxNode => {
    const toml = n.Files?.['buildkitd.toml'];
    return {
      name: String(n.Name ?? ''),
      ...(n.Endpoint ? { endpoint: n.Endpoint } : {}),
      driverOpts: { ...(n.DriverOpts ?? {}) },
      flags: Array.isArray(n.Flags) ? n.Flags.map(String) : [],
      ...(typeof toml === 'string' ? { buildkitdToml: Buffer.from(toml, 'base64').toString('utf8') } : {}),
    };
  });
  return { name: raw.Name, driver: typeof raw.Driver === 'string' ? raw.Driver : '', nodes };
}

/** The `current` file: the selected builder's name, if any. */
export function parseCurrent(text: string): string | undefined {
  try {
    const c = JSON.parse(text) as { Name?: unknown };
    return typeof c.Name === 'string' && c.Name ? c.Name : undefined;
  } catch {
    return undefined;
  }
}

/** Where buildx keeps its state for this environment (confutil.NewConfig). */
export function buildxConfigDir(env: NodeJS.ProcessEnv, homedir: string): string {
  if (env.BUILDX_CONFIG) return env.BUILDX_CONFIG;
  return path.join(env.DOCKER_CONFIG || path.join(homedir, '.docker'), 'buildx');
}

/**
 * buildkitd's worker network mode as flags or config say (`--oci-worker-net bridge`, `--oci-worker-net=bridge`,
 * `[worker.oci] networkMode = "bridge"`: moby/buildkit cmd/buildkitd/main_oci_worker.go and config/config.go). The
 * flags win over the config (buildx create docs: "configuration can be overridden by --buildkitd-flags").
 */
export function workerNetOf(flags: readonly string[], toml?: string): string | undefined {
  for (let i = flags.length - 1; i >= 0; i--) {
    const f = flags[i]!;
    const eq = /^--oci-worker-net=(\S+)$/.exec(f);
    if (eq) return eq[1];
    if (f === '--oci-worker-net' && flags[i + 1]) return flags[i + 1];
  }
  if (!toml) return undefined;
  // Only the [worker.oci] table's key: the containerd worker has its own.
  let table = '';
  for (const line of toml.split(/\r?\n/)) {
    const header = /^\s*\[+\s*([^\]\s]+)\s*\]+/.exec(line);
    if (header) table = header[1]!;
    const mode = /^\s*networkMode\s*=\s*["']([^"']+)["']/.exec(line);
    if (mode && table === 'worker.oci') return mode[1];
  }
  return undefined;
}

export interface StateFs {
  readFile: (p: string) => Promise<string | undefined>;
  readdir: (p: string) => Promise<string[] | undefined>;
}

/** At most this many instance files are read (a runner that keeps every builder it ever made). */
const MAX_INSTANCES = 32;

/** The state folder's builders; undefined when there is none to read. */
export async function readBuildxState(fs: StateFs, dir: string): Promise<BuildxState | undefined> {
  const names = await fs.readdir(path.join(dir, 'instances'));
  if (!names) return undefined;
  const texts = await Promise.all(
    names.slice(0, MAX_INSTANCES).map((n) => fs.readFile(path.join(dir, 'instances', n))),
  );
  const builders = texts.map((t) => (t !== undefined ? parseNodeGroup(t) : undefined)).filter((b) => !!b);
  const cur = await fs.readFile(path.join(dir, 'current'));
  const current = cur !== undefined ? parseCurrent(cur) : undefined;
  return { dir, builders, ...(current ? { current } : {}) };
}
