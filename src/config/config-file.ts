/**
 * `.mtu-preflight.yml`: the same keys as the flags and the Action inputs, as a YAML mapping.
 * This file only turns YAML into raw values; parseOptions validates them (unknown keys with a
 * "did you mean", bad values naming the file), so the three entry points share one set of messages.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import { UsageError, type RawOptions, type RawValue } from './options.js';

export { DEFAULT_CONFIG_FILE, resolveConfigPath } from './config-path.js';

export interface ConfigFile {
  values: RawOptions;
  file: string;
}

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') {
      throw new UsageError(
        `Config file '${path}' does not exist; expected a YAML file of option names and values, such as 'timeout: 30'.`,
      );
    }
    throw new UsageError(`Config file '${path}' cannot be read (${code}); expected a readable YAML file.`);
  }
  return parseConfigFile(text, path);
}

/** Pure: YAML text → raw option values. `file` only names the file in messages. */
export function parseConfigFile(text: string, file: string): ConfigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const { line } = lineCounter.linePos(first.pos[0]);
    throw new UsageError(
      `Config file '${file}' is not valid YAML at line ${line}: ${first.message.replace(/\.$/, '')}.`,
    );
  }
  // An empty file (or only comments) is a config that sets nothing.
  if (doc.contents === null) return { values: {}, file };
  if (!isMap(doc.contents)) {
    const got = isSeq(doc.contents) ? 'a list' : 'a single value';
    throw new UsageError(
      `Config file '${file}' must be a mapping of option names to values (such as 'timeout: 30'), got ${got}.`,
    );
  }
  let mapping: Record<string, unknown>;
  try {
    mapping = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (err) {
    // yaml refuses alias expansion past maxAliasCount (a "billion laughs" file); say so in one line.
    throw new UsageError(
      `Config file '${file}' cannot be read as a mapping: ${(err as Error).message.replace(/\.$/, '')}; expected plain keys and values.`,
    );
  }
  const values: RawOptions = {};
  for (const [key, value] of Object.entries(mapping)) values[key] = toRawValue(key, value, file);
  return { values, file };
}

function toRawValue(key: string, value: unknown, file: string): RawValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      if (item !== null && typeof item === 'object') {
        throw new UsageError(
          `Config key '${key}' in ${file} must be a list of single values; item ${i + 1} is a ${Array.isArray(item) ? 'list' : 'mapping'}.`,
        );
      }
      return String(item);
    });
  }
  // A nested mapping: parseOptions rejects it with the message every source shares (after checking the key exists).
  return value as RawValue;
}
