/**
 * DataLoader construction shared by the subgraphs' context factories.
 *
 * @remarks
 * Loaders are created per request (in each subgraph's `context.ts`), never shared: a loader's
 * cache holds what one identity was allowed to see. Each batch is counted
 * (fleetgraph_dataloader_batches_total, fleetgraph_dataloader_batch_size) so tests can prove
 * that N parents or N entity representations cost one batch, not N.
 */
import DataLoader from 'dataloader';
import type { SubgraphMetrics } from './metrics.js';

/** Largest batch one loader sends; bigger sets of keys are split by DataLoader. */
export const MAX_BATCH_SIZE = 1000;

/**
 * `naive` turns batching and per-request caching off: every load is its own Cassandra read,
 * as a resolver without DataLoader would do. It exists only as the benchmarks' baseline
 * (DATALOADER_MODE=naive); it is process-wide because each benchmark subgraph is a process.
 */
let mode: 'batched' | 'naive' = 'batched';
export function setLoaderMode(next: 'batched' | 'naive'): void {
  mode = next;
}

/**
 * A loader for a by-key access pattern. `fetch` receives distinct keys and returns one
 * value, `null` (absent) or `Error` per key, in key order: the DataLoader contract.
 */
export function createLoader<V>(
  name: string,
  metrics: Pick<SubgraphMetrics, 'loaderBatches' | 'loaderBatchSize'>,
  fetch: (keys: readonly string[]) => Promise<readonly (V | null | Error)[]>,
): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(
    async (keys) => {
      metrics.loaderBatches.inc({ loader: name });
      metrics.loaderBatchSize.observe({ loader: name }, keys.length);
      const values = await fetch(keys);
      if (values.length !== keys.length) {
        throw new Error(`${name}: batch returned ${values.length} values for ${keys.length} keys`);
      }
      return values;
    },
    mode === 'naive' ? { batch: false, cache: false } : { maxBatchSize: MAX_BATCH_SIZE },
  );
}
