/** The fan-out scenario's figures as results.json holds them (bench/README.md, "Fan-out"). */
import type { ResourceFigures } from '../lib/procstat.js';

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** CPU seconds and peak RSS per process group over one window, and the window's length. */
export interface WindowResources {
  readonly seconds: number;
  readonly groups: Readonly<Record<string, ResourceFigures>>;
  /** CPU seconds of router + users + sessions + fleet + Cassandra (Redis and harness apart). */
  readonly stackCpuSeconds: number;
  /** CPU seconds of router + users + sessions + fleet (the processes the harness started). */
  readonly serversCpuSeconds: number;
}

/** Subscriptions vs polling for one set of processes (the stack, or our servers alone). */
export interface Comparison {
  readonly scope: string;
  /** CPU ms per acknowledged write (writes-only window). */
  readonly cpuMsPerWrite: number | null;
  /** CPU ms per dashboard in the polling window, the writes' CPU in it / taken out. */
  readonly cpuMsPerDashboardGross: number | null;
  readonly cpuMsPerDashboardNet: number | null;
  /** Measured: the fan-out window's CPU ÷ (subscribers × seconds), writes included. */
  readonly subscriptionCpuMsPerConsoleSecond: number;
  /** Extrapolated: the writes' CPU per second ÷ consoles + one dashboard (net). */
  readonly pollingCpuMsPerConsoleSecond: number | null;
  /** Cores needed for the consoles: subscriptions measured, polling extrapolated. */
  readonly subscriptionCores: number;
  readonly pollingCores: number | null;
}

export interface AcceptanceCheck {
  readonly check: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface FanOutResult {
  readonly fleet: { readonly organization: number; readonly index: number; readonly id: string };
  /** Robots written (those the dashboard shows). */
  readonly robots: number;
  readonly settings: {
    readonly subscribers: number;
    readonly users: number;
    readonly subscriptionsPerUser: number;
    readonly eventsPerSecond: number;
    readonly seconds: number;
    readonly openBatch: number;
    readonly writesOnlySeconds: number;
    readonly deliveryWarmupSeconds: number;
    readonly pollSeconds: number;
    readonly pollConnections: number;
    /** What the scenario sets on its router besides the harness's usual environment. */
    readonly routerEnv: Readonly<Record<string, string>>;
    readonly subscription: string;
  };
  readonly open: {
    readonly opened: number;
    readonly refused: number;
    readonly refusalSample?: string;
    readonly seconds: number;
    readonly latencyMs: Percentiles;
    /** The router's fleetgraph_router_subscriptions_active and _groups once all were open. */
    readonly routerActive: number | null;
    readonly routerGroups: number | null;
  };
  readonly writes: {
    readonly asked: number;
    readonly sent: number;
    readonly acked: number;
    readonly failed: number;
    readonly perSecond: number;
    readonly skippedTicks: number;
    readonly latencyMs: Percentiles;
    readonly failureSample?: string;
  };
  readonly delivery: {
    /** How events were matched to writes: per robot by order, else by battery value. */
    readonly matching: string;
    /** Acknowledged writes of the window: each publishes one event every subscriber should get. */
    /** Warm-up events that reached the subscribers only in the window (not counted). */
    readonly warmupLeftovers: number;
    readonly eventsExpected: number;
    /** Of those, events some subscriber received. */
    readonly eventsSeen: number;
    /** Distinct events received that match no write of the window (must be 0). */
    readonly unmatchedEvents: number;
    readonly expectedTotal: number;
    readonly receivedTotal: number;
    readonly lost: number;
    readonly subscribersWithLoss: number;
    readonly duplicates: number;
    /** `next` results with GraphQL errors. */
    readonly errorResults: number;
    readonly errorSample?: string;
    /** Streams that ended before the harness closed them. */
    readonly streamsEnded: number;
    readonly endSample?: string;
    /** Receipt − ack of the write (ms; a receipt before the ack counts 0). */
    readonly latencyMs: Percentiles;
    /**
     * Per event, its first receipt by any subscriber − ack (the execution's share of the
     * latency), and its last receipt − its first (the fan-out's share: writing to every
     * subscriber and the harness reading them).
     */
    readonly firstReceiptMs: Percentiles;
    readonly spreadMs: Percentiles;
    /** Delivery p99 per 5 s of writes (by the write's send time): where the tail happened. */
    readonly p99ByFiveSecondsMs: readonly number[];
    readonly receivedBeforeAck: number;
    /** Events whose robot already showed a later write's battery when first received. */
    readonly showedLaterWrite: number;
    /** Share of events whose robot.operator { displayName activeSessionCount } was resolved. */
    readonly crossSubgraphShare: number;
    /** Receipts ÷ the sampled window (first write → last receipt or the drain's end). */
    readonly eventsPerSecond: number;
    readonly windowSeconds: number;
  };
  readonly router: {
    readonly cpuMsPerDelivered: number | null;
    readonly cpuMsPerWrite: number | null;
    /** VmHWM after the fan-out window: the process's peak RSS since it started. */
    readonly peakRssMb: number;
    /** Highest VmRSS sampled during the window. */
    readonly windowPeakRssMb: number;
    /** Router counter deltas over the window. */
    readonly metrics: {
      readonly delivered: number;
      readonly executions: number;
      /** Per-event execution (fleetgraph_router_subscription_event_execution_seconds), ms. */
      readonly executionMs: MsQuantiles;
      /** Subgraph fetches of the window by subgraph (queries and writes alike), ms. */
      readonly fetchMs: Readonly<Record<string, MsQuantiles>>;
      readonly ended: Readonly<Record<string, number>>;
    } | null;
  };
  readonly resources: {
    readonly writesOnly: WindowResources;
    readonly fanOut: WindowResources;
    readonly polling: WindowResources;
  };
  readonly polling: {
    readonly connections: number;
    readonly seconds: number;
    readonly dashboards: number;
    readonly perSecond: number;
    readonly latencyMs: { readonly p50: number; readonly p99: number };
    readonly errors: number;
    readonly errorSample?: string;
    readonly cacheHitRatio: number | null;
    readonly writesAcked: number;
    readonly bytesPerDashboard: number;
  };
  readonly comparison: {
    readonly consoles: number;
    /** router + subgraphs + Cassandra, then router + subgraphs alone. */
    readonly rows: readonly Comparison[];
  };
  readonly acceptance: readonly AcceptanceCheck[];
}

/** p50/p99 from a router histogram's buckets (null: nothing observed). */
export interface MsQuantiles {
  readonly p50: number | null;
  readonly p99: number | null;
}
