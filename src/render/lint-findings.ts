/**
 * What the code-review formats (GitLab Code Quality, SARIF) share: the lint's findings, which name a file and a
 * line of the repository, and a fingerprint for each that stays the same while the finding does (its line may
 * move: the numbers after a colon are left out of it).
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../model/report.js';

/** A finding with a place in the repository. */
export type FileFinding = Finding & { file: string };

export const fileFindings = (findings: readonly Finding[]): FileFinding[] =>
  findings.filter((f): f is FileFinding => f.file !== undefined);

/** sha256 (32 hex digits) of code, file and summary without line numbers; repeats get `-2`, `-3`... */
export function fingerprints(findings: readonly FileFinding[]): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const key = [f.code, f.file, f.summary.replace(/:\d+/g, '')].join('\n');
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
    const n = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, n);
    return n === 1 ? hash : `${hash}-${n}`;
  });
}

/** The line GitLab and GitHub mark: the finding's own, else the file's first (a file-level finding). */
export const lineOf = (f: Finding): number => (f.line !== undefined && f.line >= 1 ? f.line : 1);
