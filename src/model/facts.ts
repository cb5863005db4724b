/** The flat `facts` of a layer in the JSON report (schema v1), and the helpers that write and read them. */

/** The flat `facts` object of schema v1, written from the typed fields. */
export type LayerFacts = Record<string, string | number | boolean>;

/** Only the defined values, in order. */
export function defined(entries: Array<[string, string | number | boolean | undefined]>): LayerFacts {
  const out: LayerFacts = {};
  for (const [k, v] of entries) if (v !== undefined) out[k] = v;
  return out;
}

export const str = (f: LayerFacts, k: string) => (typeof f[k] === 'string' ? f[k] : undefined);
export const num = (f: LayerFacts, k: string) => (typeof f[k] === 'number' ? f[k] : undefined);
export const bool = (f: LayerFacts, k: string) => f[k] === true;
/** The object of the defined values only (a layer read back has no `undefined` fields the written one lacked). */
export type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};
export const only = <T extends object>(o: T): Defined<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
