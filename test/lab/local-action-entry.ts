/**
 * The entry @github/local-action imports: it expects a module exporting `run()` (the typescript-action layout),
 * and replaces @actions/core under it with its own stand-in. src/main/action-main.ts is the runner's entry instead.
 */
import { runAction } from '../../src/main/action.js';

export async function run(): Promise<void> {
  await runAction();
}
