/**
 * Which config file a run reads, apart from the YAML parser (config-file.ts) so that `--help` and bad flags do not
 * load it.
 */

/** Read when no config file is named and it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = '.mtu-preflight.yml';

/** The config file to read: the one named, else the default when present, else none. */
export function resolveConfigPath(named: string | undefined, exists: (path: string) => boolean): string | undefined {
  if (named) return named;
  return exists(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}
