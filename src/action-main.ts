/** Entry of dist/action.js (action.yml `main`). */
import { runAction } from './action.js';

await runAction();
// Explicit exit: an uncancellable getaddrinfo may otherwise keep the event loop alive past the deadline.
process.exit(process.exitCode ?? 0);
