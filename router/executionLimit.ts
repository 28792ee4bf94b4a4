/**
 * Admission control: at most ROUTER_MAX_CONCURRENT_EXECUTIONS operations execute at once in a
 * router process; the next ROUTER_MAX_QUEUED_EXECUTIONS wait in arrival order; beyond that a
 * request is shed with 503 SERVICE_OVERLOADED and Retry-After (as Apollo Router's
 * traffic_shaping concurrency_limit sheds load).
 *
 * @remarks
 * Why: a router process has one core. Past a few executions in flight it is no faster — they
 * take turns on the core — but every one holds its plan state, subgraph responses and result
 * tree in memory, long enough for the garbage collector to promote them to the old generation.
 * Unlimited, the router-bound benchmark (16 fetches, ~80 KB responses) peaked at 463 MB RSS at
 * 64 connections; queued, a request holds only its body. Cache hits and refusals (401, 429)
 * never queue: they cost microseconds.
 *
 * A request whose client hangs up while it waits is dropped when its turn comes, unexecuted.
 * Counting in process (p-limit) rather than across instances: the resource guarded is this
 * process's heap and core.
 */
import pLimit from 'p-limit';
import type { RouterMetrics } from './metrics.js';

export type Admission<T> = { admitted: true; value: T } | { admitted: false };

export class ExecutionLimit {
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    concurrency: number,
    private readonly maxQueued: number,
    private readonly metrics: RouterMetrics,
  ) {
    this.limit = pLimit(concurrency);
  }

  /**
   * Runs `execute` when a slot is free. Resolves `{ admitted: false }` at once when the queue
   * is full; `stillWanted` is asked when the turn comes (false: the client has gone).
   */
  async run<T>(execute: () => Promise<T>, stillWanted: () => boolean): Promise<Admission<T>> {
    if (
      this.limit.activeCount >= this.limit.concurrency &&
      this.limit.pendingCount >= this.maxQueued
    ) {
      this.metrics.executionsShed.inc();
      return { admitted: false };
    }
    const queuedAt = performance.now();
    this.metrics.executionsQueued.inc();
    return this.limit(async (): Promise<Admission<T>> => {
      this.metrics.executionsQueued.dec();
      this.metrics.executionQueueSeconds.observe((performance.now() - queuedAt) / 1000);
      if (!stillWanted()) return { admitted: false };
      return { admitted: true, value: await execute() };
    });
  }
}
