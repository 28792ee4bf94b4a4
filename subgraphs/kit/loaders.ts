/**
 * DataLoader construction shared by the subgraphs' context factories.
 *
 * @remarks
 * Loaders are created per request (in each subgraph's `context.ts`), never shared: a loader's
 * cache holds what one identity was allowed to see. Each batch is counted
 * (fleetgraph_dataloader_batches_total, fleetgraph_dataloader_batch_size) so tests can prove
 * that N parents or N entity representations cost one batch, not N; when tracing, each batch
 * is a span (platform/telemetry.ts).
 */
import DataLoader from 'dataloader';
import { traceBatch } from '../../platform/telemetry.js';
import type { SubgraphMetrics } from './metrics.js';

/** Largest batch one loader sends; bigger sets of keys are split by DataLoader. */
export const MAX_BATCH_SIZE = 1000;

/**
 * How a server's loaders batch and cache: DataLoader's own options. Chosen per server, not per
 * loader, so that a whole subgraph can be run another way (the benchmarks' baseline without
 * DataLoader, bench/baselines/naive-subgraph.ts, turns batching and caching off).
 */
export type LoaderOptions = Pick<
  DataLoader.Options<string, unknown>,
  'batch' | 'cache' | 'maxBatchSize'
>;

/**
 * What every subgraph serves with: batches of at most {@link MAX_BATCH_SIZE},
 * cached per request.
 */
export const DEFAULT_LOADER_OPTIONS: LoaderOptions = Object.freeze({
  maxBatchSize: MAX_BATCH_SIZE,
});

/** What a loader's batch function reads: one value, `null` (absent) or `Error` per key. */
export type BatchFetch<V> = (keys: readonly string[]) => Promise<readonly (V | null | Error)[]>;

/**
 * A loader for a by-key access pattern. `fetch` receives distinct keys and returns one
 * value, `null` (absent) or `Error` per key, in key order: the DataLoader contract.
 */
export function createLoader<V>(
  name: string,
  metrics: Pick<SubgraphMetrics, 'loaderBatches' | 'loaderBatchSize'>,
  fetch: BatchFetch<V>,
  options: LoaderOptions = DEFAULT_LOADER_OPTIONS,
): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(async (keys) => {
    metrics.loaderBatches.inc({ loader: name });
    metrics.loaderBatchSize.observe({ loader: name }, keys.length);
    // One span per batch when tracing (its Cassandra statements are its children).
    const values = await traceBatch(
      `dataloader ${name}`,
      { 'dataloader.batch_size': keys.length },
      () => fetch(keys),
    );
    if (values.length !== keys.length) {
      throw new Error(`${name}: batch returned ${values.length} values for ${keys.length} keys`);
    }
    return values;
  }, options);
}
