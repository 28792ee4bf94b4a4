/**
 * Start-up plumbing shared by every entry point (subgraphs, router, CLIs).
 *
 * @remarks
 * A bad configuration or an unreachable dependency must stop the process with one readable
 * line naming the problem, not a stack trace: {@link runMain} prints {@link StartupError} and
 * {@link ConfigError} messages alone and exits 1. Anything else is a bug and keeps its stack.
 */
import { ConfigError } from './config/load.js';

/** A dependency or setting that makes start-up impossible; its message is shown as is. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof StartupError || error instanceof ConfigError) {
      process.stderr.write(`fleetgraph: ${error.message}\n`);
    } else {
      process.stderr.write(
        `fleetgraph: unexpected start-up failure\n${(error as Error)?.stack ?? String(error)}\n`,
      );
    }
    process.exit(1);
  });
}
