/**
 * The per-key read strategy the DataLoaders no longer use: one prepared single-partition
 * statement per key, at most `concurrency` in flight, for bench/loader-strategies.ts to compare
 * with the `IN` reads the repositories issue (Db.readIn, and why there).
 *
 * @remarks
 * Each statement goes through `Db.execute`, so it is counted, prepared, and token-aware (the
 * driver routes a prepared statement by its bound partition key) like every other read; a
 * SELECT is idempotent, so a statement whose coordinator dies is retried on another node. Not
 * the driver's executeConcurrent, which cannot mark statements idempotent.
 */
import type cassandra from 'cassandra-driver';
import type { Db } from '../../subgraphs/kit/cassandra/db.js';

/**
 * Runs `cql` (one `?`, the key) once per key and maps each first row: one value, `null` (no
 * row) or `Error` per key, in key order — a failed key does not fail its neighbours.
 */
export async function readEach<M>(
  db: Db,
  cql: string,
  keys: readonly string[],
  map: (row: cassandra.types.Row) => M,
  concurrency: number,
): Promise<(M | null | Error)[]> {
  const results: (M | null | Error)[] = new Array(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const index = next++;
      try {
        const row = (await db.execute(cql, [keys[index]])).first();
        results[index] = row ? map(row) : null;
      } catch (error) {
        results[index] = error instanceof Error ? error : new Error(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return results;
}
