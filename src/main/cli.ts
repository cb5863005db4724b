#!/usr/bin/env node
/**
 * `npx mtu-preflight`: read argv (and .mtu-preflight.yml), call run(), print, set the exit code.
 * 0 pass or warn (1 with --strict), 1 fail, 2 bad usage, 3 internal error. Nothing else happens here.
 *
 * `--help`, `--version` and bad usage need only the options code: the run (cli-run.ts and everything it imports)
 * is loaded after the options are good, as its own chunk of the bundle.
 */
import { existsSync } from 'node:fs';
import { parseArgv, renderHelp } from '../config/argv.js';
import { describeFailure, exitAfterCleanup, exitOnSignals, loadOptions } from '../runtime.js';
import { VERSION } from '../util/version.js';

async function main(argv: string[]): Promise<number> {
  const args = parseArgv(argv);
  if (args.help || args.version) {
    process.stdout.write((args.help ? renderHelp(VERSION) : VERSION) + '\n');
    return 0;
  }
  const options = await loadOptions({ source: 'flag', values: args.values, config: args.config }, existsSync);
  const { runCli } = await import('./cli-run.js');
  return runCli(options);
}

exitOnSignals((signal) => process.stderr.write(`\nmtu-preflight: ${signal}, cleaning up\n`));

main(process.argv.slice(2)).then(exitAfterCleanup, (err: unknown) => {
  const failure = describeFailure(err, { stack: true });
  process.stderr.write(`mtu-preflight: ${failure.message}\n`);
  return exitAfterCleanup(failure.code);
});
