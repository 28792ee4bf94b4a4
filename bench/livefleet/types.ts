/** The live-fleet scenario's figures as results.json holds them (bench/README.md, "Live fleet"). */
import type { ResourceFigures } from '../lib/procstat.js';

export const LIVE_VARIANTS = ['cache-on', 'cache-off', 'two-instances'] as const;
export type LiveVariantId = (typeof LIVE_VARIANTS)[number];

export const LIVE_VARIANT_LABELS: Readonly<Record<LiveVariantId, string>> = {
  'cache-on': 'cache on, one router',
  'cache-off': 'cache off (baseline)',
  'two-instances': 'two routers, one Redis: writes → A, reads → B',
};

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LiveFigures {
  /** Seconds of load (reads and writes start within them). */
  readonly seconds: number;
  /** Reads answered 200 without GraphQL errors (only those are checked). */
  readonly reads: number;
  readonly readsPerSecond: number;
  /** Reads without a stale reading, per second. */
  readonly freshReadsPerSecond: number;
  readonly readErrors: number;
  readonly readErrorSample?: string;
  readonly latencyMs: Percentiles;
  /** x-cache HIT ÷ reads (null: cache off). */
  readonly hitRatio: number | null;
  /** Reads by x-cache header (HIT, MISS, UNKNOWN; none when the cache is off). */
  readonly xCache: Readonly<Record<string, number>>;
  /**
   * The reading router's counters over the run: cache hits and misses (a cross-check of
   * `hitRatio`), stores refused because a write landed during the execution, and what became of
   * the requests that joined a running execution of their key (fleetgraph_router_cache_*).
   */
  readonly metricsCache: {
    readonly hits: number;
    readonly misses: number;
    readonly storesRefused: number;
    readonly followers: {
      readonly tookAnswer: number;
      readonly stored: number;
      readonly ran: number;
      readonly ledAfresh: number;
      readonly startedCurrent: number;
    };
  } | null;
  readonly writes: {
    readonly sent: number;
    readonly acked: number;
    readonly failed: number;
    /** Acknowledged writes per second of load. */
    readonly perSecond: number;
    readonly telemetry: number;
    readonly status: number;
    /** Pacing ticks with every robot busy or too many writes in flight (not sent). */
    readonly skippedTicks: number;
    readonly latencyMs: Percentiles;
    readonly failureSample?: string;
  };
  readonly stale: {
    /** Reads with at least one stale reading. */
    readonly reads: number;
    /** Robots (in all reads) older than the newest write acknowledged before their read began. */
    readonly readings: number;
    /** Stale reads by x-cache header. */
    readonly readsByXCache: Readonly<Record<string, number>>;
    /** Readings matching no write of the run nor the initial state: must be 0. */
    readonly unexplainedReadings: number;
    readonly unexplainedSample?: string;
    /** Per stale reading: read start − ack of the newest write it missed (ms); null if none. */
    readonly windowMs: Percentiles | null;
    /** Per stale reading: read start − ack of the first write it missed (ms); null if none. */
    readonly sinceFirstMissedMs: Percentiles | null;
  };
  /**
   * Per process group (router, or router-writes/router-reads; users, sessions, fleet;
   * cassandra; redis; harness): peak RSS, CPU seconds and CPU ms per read over the load.
   * Writes run at the same time, so "per read" includes their share.
   */
  readonly resources: Readonly<
    Record<string, ResourceFigures & { readonly cpuMsPerRead: number | null }>
  >;
}

export interface LiveFleetRun extends LiveFigures {
  readonly variant: LiveVariantId;
  /** 1-based round. */
  readonly round: number;
}

export interface LiveFleetResult {
  readonly fleet: {
    readonly organization: number;
    readonly index: number;
    readonly id: string;
    readonly robots: number;
  };
  readonly settings: {
    readonly readers: number;
    readonly writesPerSecond: number;
    readonly seconds: number;
    readonly rounds: number;
    readonly statusShare: string;
    readonly routerEnvironment: string;
    readonly hitCounting: string;
    /** Who the requests come from: a new identity each, or a few handed out in turn. */
    readonly callers: string;
  };
  readonly variants: readonly LiveVariantId[];
  /** Every round of every variant, in the order run. */
  readonly runs: readonly LiveFleetRun[];
  /** Per variant, all its rounds pooled (sums; percentiles over every read and reading). */
  readonly totals: readonly (LiveFigures & { readonly variant: LiveVariantId })[];
}
