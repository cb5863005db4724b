/**
 * What must be undone however the run ends (containers, networks, temp files): registered as the
 * run creates it, run once at the end, on timeout, and on SIGINT/SIGTERM.
 */
type Cleanup = () => Promise<void>;

const pending = new Set<Cleanup>();

export function onCleanup(fn: Cleanup): () => void {
  pending.add(fn);
  return () => pending.delete(fn);
}

/** Run every registered cleanup, each bounded by `timeoutMs`, never throwing. */
export async function runCleanups(timeoutMs = 5000): Promise<void> {
  const fns = [...pending];
  pending.clear();
  await Promise.all(
    fns.map((fn) =>
      Promise.race([fn().catch(() => undefined), new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.())]),
    ),
  );
}
