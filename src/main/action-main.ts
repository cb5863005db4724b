/** Entry of dist/action.js (action.yml `main`). */
import { runAction } from './action.js';
import { exitAfterCleanup, exitOnSignals } from '../runtime.js';

// Cancelling a job sends SIGINT (then SIGTERM): remove probe containers and networks before going.
exitOnSignals();

await runAction();
await exitAfterCleanup(Number(process.exitCode ?? 0));
