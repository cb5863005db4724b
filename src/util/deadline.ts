/** Settle `p` by `deadline`, else return `fallback` (the work may go on; we stop waiting for it). */
export function byDeadline<T>(p: Promise<T>, deadline: number, now: () => number, fallback: T): Promise<T> {
  const ms = Math.max(0, deadline - now());
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
      timer.unref?.();
    }),
  ]);
}
