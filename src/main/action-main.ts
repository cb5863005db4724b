/** Entry of dist/action.js (action.yml `main`). */
import { runAction } from './action.js';
import { runCleanups } from '../util/cleanup.js';

// Cancelling a job sends SIGINT (then SIGTERM): remove probe containers and networks before going.
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(sig, () => {
    void runCleanups().finally(() => process.exit(code));
  });
}

await runAction();
// Explicit exit: an uncancellable getaddrinfo may otherwise keep the event loop alive past the deadline.
process.exit(process.exitCode ?? 0);
