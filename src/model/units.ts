/** Numbers as people read them in reports: durations, sizes, rates. */
export const fmtMs = (ms: number | undefined): string =>
  ms === undefined ? '?' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

export const fmtRate = (bps: number | undefined): string => (bps === undefined ? '?' : `${fmtBytes(bps)}/s`);
