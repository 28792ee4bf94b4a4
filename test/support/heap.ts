/**
 * The test process's heap after a full garbage collection, for "no memory growth" checks of
 * the in-process router (test/support/federation.ts runs router and subgraphs in this process).
 *
 * @remarks
 * `global.gc` exists only with --expose-gc, which the test runner's command line does not pass;
 * setting the flag at run time and taking `gc` from a fresh V8 context is the documented way
 * around that (v8.setFlagsFromString), and only affects this test process.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapUsed in bytes after collecting garbage until it stops shrinking (at most 5 rounds). */
export async function heapAfterGc(): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  let used = 0;
  for (let round = 0; round < 5; round++) {
    gc();
    // Let finalizers and pending I/O callbacks run before measuring.
    await new Promise((r) => setTimeout(r, 50));
    used = process.memoryUsage().heapUsed;
    if (used >= previous * 0.99) break;
    previous = used;
  }
  return used;
}

export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
