/**
 * The fan-out scenario (bench/README.md, "Fan-out (subscriptions)"): N SSE subscribers of
 * `robotChanged(fleetId)` on one router while writers change the fleet's robots at a fixed
 * rate; every event's delivery to every subscriber timed from its write's acknowledgement; the
 * router's CPU and RSS; and, beside it, the polling alternative (the fleet dashboard every
 * second for as many consoles) from the dashboard's measured CPU per request.
 *
 * @remarks
 * Its own processes on 5044-5047 (router; users, sessions, fleet subgraphs), production
 * environment as elsewhere, one Redis prefix for the router and the fleet subgraph (the events'
 * streams). Phases, one after the other on the same processes:
 *
 * 1. **Writes only** (no subscriber): warm-up, then BENCH_FANOUT_WRITES_ONLY_SECONDS of writes
 *    at the scenario's rate: what the writes alone cost (CPU per second of the stack).
 * 2. **Open** the subscribers, in batches, every one checked established (200).
 * 3. **Fan-out**: BENCH_FANOUT_SECONDS of writes, then until every subscriber has every event
 *    (or DRAIN_MS after the last write): delivery latency, losses, CPU, RSS.
 * 4. **Polling**: the subscribers closed, BENCH_FANOUT_POLL_SECONDS of FleetDashboard reads at
 *    BENCH_FANOUT_POLL_CONNECTIONS (closed loop) with the same writes running (the consoles watch
 *    the same live fleet: the response cache, on by default, is purged by them as in
 *    production): CPU per dashboard, from which 1 dashboard per console-second is extrapolated.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { SCALES, seedIds, type SeedScale } from '../../scripts/seed-ids.js';
import type { TokenPool } from '../lib/identities.js';
import { runLoad } from '../lib/load.js';
import type { ProcessGroup } from '../lib/processes.js';
import { ResourceSampler, round, type ResourceFigures } from '../lib/procstat.js';
import { histogramQuantile, scrape, sumOf, type Samples } from '../lib/prometheus.js';
import type { ScenarioResult } from '../lib/results.js';
import { ROUTER_OPS_PORT_OFFSET, routerSpec, subgraphSpecs, subgraphUrls } from '../lib/stack.js';
import { DASHBOARD } from '../scenarios.js';
import { parseDashboard } from '../livefleet/traffic.js';
import { SubscriberPool } from './subscribers.js';
import type {
  AcceptanceCheck,
  Comparison,
  FanOutResult,
  Percentiles,
  WindowResources,
} from './types.js';
import { Writers, type WriteFigures, type WriteRecord } from './writers.js';

export const FANOUT_PORTS = {
  router: 5044,
  subgraphs: { users: 5045, sessions: 5046, fleet: 5047 },
} as const;

/** The subscription every subscriber sends (robotChanged delivers every event of the fleet). */
export const FANOUT_SUBSCRIPTION = `subscription FanOut($fleetId: ID!) {
  robotChanged(fleetId: $fleetId) {
    id
    kind
    at
    robot { id status batteryPercent operator { id displayName activeSessionCount } }
  }
}`;

/** The credentials the writes are sent with, in turn. */
const WRITER_IDENTITIES = 4;
/** After the last write, how long the scenario waits for events still on their way. */
const DRAIN_MS = 5_000;
/** Time without any receipt after which the window's deliveries are taken to be all in. */
const DRAIN_QUIET_MS = 500;
/** Acceptance (issue 18). */
const ACCEPT_P99_MS = 250;
const ACCEPT_RSS_MB = 400;

export interface FanOutSettings {
  readonly subscribers: number;
  readonly users: number;
  readonly eventsPerSecond: number;
  readonly seconds: number;
  readonly openBatch: number;
  readonly writesOnlySeconds: number;
  readonly deliveryWarmupSeconds: number;
  readonly pollSeconds: number;
  readonly pollConnections: number;
  readonly warmupSeconds: number;
  readonly scale: SeedScale;
  readonly keyspace: string;
}

export interface FanOutContext {
  readonly settings: FanOutSettings;
  readonly tokens: TokenPool;
  readonly group: ProcessGroup;
  readonly log: (message: string) => void;
  readonly datastorePids: { readonly cassandra: number[]; readonly redis: number[] };
}

/**
 * The fleet written and subscribed to: one no other scenario writes (fleet 0 is read-only,
 * live-fleet writes the last but one, the write mix the last) — fleet (0, 1) of either seed
 * (the demo seed has two fleets: its fleet 1 is live-fleet's too, which runs at another time).
 */
export function fanOutFleetIndex(scale: SeedScale): number {
  const shape = SCALES[scale];
  if (shape.fleetsPerOrganization < 2) throw new Error(`the ${scale} seed has one fleet`);
  return 1;
}

export async function runFanOut(ctx: FanOutContext): Promise<ScenarioResult> {
  const { settings, tokens, log, group } = ctx;
  const fleetIndex = fanOutFleetIndex(settings.scale);
  const fleetId = seedIds.fleet(0, fleetIndex);
  const perUser = Math.ceil(settings.subscribers / settings.users);
  const routerEnv = {
    // Raised for the load (defaults 20 per caller and 10,000 per process).
    SUBSCRIPTIONS_MAX_PER_IDENTITY: String(Math.max(20, perUser)),
    SUBSCRIPTIONS_MAX_PER_PROCESS: String(Math.max(10_000, settings.subscribers)),
  };
  log(
    `fan-out: fleet (0, ${fleetIndex}), ${settings.subscribers} SSE subscribers (${settings.users} users × ${perUser}), ${settings.eventsPerSecond} events/s for ${settings.seconds} s; starting the router (${FANOUT_PORTS.router}) and subgraphs (${Object.values(FANOUT_PORTS.subgraphs).join('-')})`,
  );
  const [subgraphs, router] = await Promise.all([
    Promise.all(
      subgraphSpecs(settings.keyspace, FANOUT_PORTS.subgraphs, 'batched').map((spec) =>
        group.start({ ...spec, name: `fanout-${spec.name}` }),
      ),
    ),
    group.start(
      routerSpec({
        name: 'fanout-router',
        keyspace: settings.keyspace,
        port: FANOUT_PORTS.router,
        subgraphUrls: subgraphUrls(FANOUT_PORTS.subgraphs),
        // The router's default (RESPONSE_CACHE=true): what the polling consoles would get.
        responseCache: true,
        extraEnv: routerEnv,
        // BENCH_FANOUT_ROUTER_PROFILE_DIR: the router under `node --cpu-prof` (written at exit).
        ...(process.env.BENCH_FANOUT_ROUTER_PROFILE_DIR
          ? {
              nodeArgs: [
                '--cpu-prof',
                `--cpu-prof-dir=${process.env.BENCH_FANOUT_ROUTER_PROFILE_DIR}`,
              ],
            }
          : {}),
      }),
    ),
  ]);
  const graphqlUrl = `${router.baseUrl}/graphql`;
  const opsUrl = `http://127.0.0.1:${FANOUT_PORTS.router + ROUTER_OPS_PORT_OFFSET}`;
  const dashboardBody = JSON.stringify({
    query: DASHBOARD,
    operationName: 'FleetDashboard',
    variables: { fleetId, first: 100 },
  });
  const failures: string[] = [];
  let pool: SubscriberPool | undefined;
  let writers: Writers | undefined;
  try {
    const first = await readDashboard(graphqlUrl, dashboardBody, tokens.next());
    const robots = first.robots;
    if (robots.length < 10)
      throw new Error(`fleet (0, ${fleetIndex}) shows ${robots.length} robots`);
    // The writes are the fleet's robots reporting through a few integration credentials (as a
    // telemetry gateway would), not a new user per write: each credential's revocation check is
    // cached as in production (SESSION_CHECK_CACHE_SECONDS), so the writes' CPU is the write's.
    const writerTokens = Array.from({ length: WRITER_IDENTITIES }, () => tokens.next());
    let writerIndex = 0;
    const nextWriterToken = () => writerTokens[writerIndex++ % writerTokens.length]!;
    writers = new Writers({ url: graphqlUrl, robots, nextToken: nextWriterToken });
    const sample = (): ResourceSampler =>
      new ResourceSampler({
        router: [router.pid],
        ...Object.fromEntries(subgraphs.map((s) => [s.spec.name.replace(/^fanout-/, ''), [s.pid]])),
        cassandra: ctx.datastorePids.cassandra,
        redis: ctx.datastorePids.redis,
        harness: [process.pid],
      });

    // 1. Writes only: warm-up, then the writes' own cost.
    if (settings.warmupSeconds > 0)
      await writers.run(settings.eventsPerSecond, settings.warmupSeconds);
    let sampler = sample();
    let windowStart = performance.now();
    sampler.start();
    const writesOnly = await writers.run(settings.eventsPerSecond, settings.writesOnlySeconds);
    const writesOnlyResources = windowOf(sampler.stop(), windowStart);
    log(
      `fan-out: writes only: ${writesOnly.acked} writes acknowledged in ${settings.writesOnlySeconds} s (${writesOnly.failed} failed), stack ${cores(writesOnlyResources)} cores`,
    );

    // 2. The subscribers.
    const users = Array.from({ length: settings.users }, () => tokens.next());
    pool = new SubscriberPool({
      url: `${graphqlUrl}/stream`,
      body: JSON.stringify({
        query: FANOUT_SUBSCRIPTION,
        operationName: 'FanOut',
        variables: { fleetId },
      }),
      tokens: users,
    });
    const open = await pool.openAll(settings.subscribers, settings.openBatch);
    const afterOpen = await scrape(opsUrl).catch(() => undefined);
    const routerActive = afterOpen
      ? sumOf(afterOpen, 'fleetgraph_router_subscriptions_active')
      : null;
    const routerGroups = afterOpen
      ? sumOf(afterOpen, 'fleetgraph_router_subscription_groups')
      : null;
    log(
      `fan-out: ${open.opened} of ${settings.subscribers} subscriptions established in ${open.seconds} s (p50 ${open.latencyMs.p50} ms, p99 ${open.latencyMs.p99} ms), ${open.refused} refused${open.refusalSample ? ` (${open.refusalSample.slice(0, 160)})` : ''}; the router counts ${routerActive ?? '?'} active in ${routerGroups ?? '?'} groups`,
    );
    if (open.opened === 0) throw new Error('no subscription could be established');
    if (open.refused > 0)
      failures.push(`${open.refused} subscriptions refused: ${open.refusalSample ?? ''}`);

    // 2b. Delivery warm-up: the same writes with every subscriber open, then forgotten, so the
    // window measures the steady state (JIT-compiled event and delivery paths, the entity cache
    // holding the operators), not the first seconds after 1,000 connections opened.
    if (settings.deliveryWarmupSeconds > 0) {
      const warm = await writers.run(settings.eventsPerSecond, settings.deliveryWarmupSeconds);
      const warmAck = performance.now();
      const wanted = pool.receipts + warm.acked * pool.size;
      while (performance.now() - warmAck < DRAIN_MS && pool.receipts < wanted && pool.open > 0)
        await new Promise((resolve) => setTimeout(resolve, 50));
      pool.forgetEvents();
      log(
        `fan-out: delivery warm-up: ${warm.acked} writes in ${settings.deliveryWarmupSeconds} s, then forgotten`,
      );
    }

    // 3. Fan-out.
    const metricsBefore = await scrape(opsUrl).catch(() => undefined);
    const receiptsBefore = pool.receipts;
    sampler = sample();
    windowStart = performance.now();
    sampler.start();
    const fanOut = await writers.run(settings.eventsPerSecond, settings.seconds);
    const lastAck = performance.now();
    const expectedReceipts = fanOut.acked * pool.size;
    // Until every expected receipt is in *and* the streams have been quiet for DRAIN_QUIET_MS:
    // a warm-up event delivered late is counted in `receipts` too, so the count alone can be
    // reached while the window's last event is still being written (a run on a cold Cassandra
    // stopped with 200 of its deliveries on the way and reported them lost, while the router's
    // counters showed all 1,000,000 delivered).
    while (
      performance.now() - lastAck < DRAIN_MS &&
      pool.open > 0 &&
      (pool.receipts - receiptsBefore < expectedReceipts ||
        performance.now() - pool.lastReceiptAt < DRAIN_QUIET_MS)
    )
      await new Promise((resolve) => setTimeout(resolve, 50));
    const fanOutResources = windowOf(sampler.stop(), windowStart);
    const peakRssMb = round(vmHwmKb(router.pid) / 1024, 1);
    const metricsAfter = await scrape(opsUrl).catch(() => undefined);
    const delivery = analyse(pool, fanOut);
    log(
      `fan-out: ${fanOut.acked} writes acknowledged (${fanOut.failed} failed), ${delivery.receivedTotal} of ${delivery.expectedTotal} deliveries, lost ${delivery.lost}, duplicates ${delivery.duplicates}, delivery p50 ${delivery.latencyMs.p50} ms / p99 ${delivery.latencyMs.p99} ms / max ${delivery.latencyMs.max} ms, ${delivery.eventsPerSecond} events/s delivered, router ${peakRssMb} MB peak RSS`,
    );
    pool.close();
    pool = undefined;
    // The router notices the closed streams; give it a moment before polling.
    for (let i = 0; i < 50; i++) {
      const now = await scrape(opsUrl).catch(() => undefined);
      if (!now || sumOf(now, 'fleetgraph_router_subscriptions_active') === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // 4. Polling: the dashboard, with the same writes.
    await runLoad({
      url: graphqlUrl,
      connections: settings.pollConnections,
      seconds: 1,
      sources: [dashboardSource(dashboardBody, tokens)],
    });
    const pollBefore = await scrape(opsUrl).catch(() => undefined);
    sampler = sample();
    windowStart = performance.now();
    sampler.start();
    const [load, pollWrites] = await Promise.all([
      runLoad({
        url: graphqlUrl,
        connections: settings.pollConnections,
        seconds: settings.pollSeconds,
        sources: [dashboardSource(dashboardBody, tokens)],
      }),
      writers.run(settings.eventsPerSecond, settings.pollSeconds),
    ]);
    const pollResources = windowOf(sampler.stop(), windowStart);
    const pollAfter = await scrape(opsUrl).catch(() => undefined);
    const cacheDelta = (name: string) =>
      pollBefore && pollAfter ? sumOf(pollAfter, name) - sumOf(pollBefore, name) : 0;
    const hits = cacheDelta('fleetgraph_router_cache_hits_total');
    const misses = cacheDelta('fleetgraph_router_cache_misses_total');

    // Figures.
    const consoles = open.opened;
    const dashboardsPerSecond = load.requests / pollResources.seconds;
    const comparisons = (
      [
        ['router + subgraphs + Cassandra', 'stackCpuSeconds'],
        ['router + subgraphs', 'serversCpuSeconds'],
      ] as const
    ).map(([scope, key]): Comparison => {
      // CPU time per unit of work, not per second: on a saturated machine the writes get
      // less CPU per second when dashboards compete, never less per write.
      const perWrite = writesOnly.acked
        ? (writesOnlyResources[key] * 1000) / writesOnly.acked
        : null;
      const pollMs = pollResources[key] * 1000;
      const gross = load.requests ? pollMs / load.requests : null;
      const net =
        load.requests && perWrite !== null
          ? Math.max(0, pollMs - pollWrites.acked * perWrite) / load.requests
          : null;
      const fanOutMs = fanOutResources[key] * 1000;
      const writesMsPerSecond = perWrite === null ? null : perWrite * settings.eventsPerSecond;
      return {
        scope,
        cpuMsPerWrite: perWrite === null ? null : round(perWrite, 2),
        cpuMsPerDashboardGross: gross === null ? null : round(gross, 2),
        cpuMsPerDashboardNet: net === null ? null : round(net, 2),
        subscriptionCpuMsPerConsoleSecond: round(fanOutMs / fanOutResources.seconds / consoles, 3),
        pollingCpuMsPerConsoleSecond:
          net === null || writesMsPerSecond === null
            ? null
            : round(writesMsPerSecond / consoles + net, 3),
        subscriptionCores: round(fanOutMs / fanOutResources.seconds / 1000, 2),
        pollingCores:
          net === null || writesMsPerSecond === null
            ? null
            : round((writesMsPerSecond + consoles * net) / 1000, 1),
      };
    });
    const routerCpuMs = (fanOutResources.groups['router']?.cpuSeconds ?? 0) * 1000;
    const metricsDelta = (name: string) =>
      metricsBefore && metricsAfter ? sumOf(metricsAfter, name) - sumOf(metricsBefore, name) : 0;
    const ended: Record<string, number> = {};
    if (metricsBefore && metricsAfter)
      for (const [key, value] of metricsAfter) {
        const match = /^fleetgraph_router_subscriptions_ended_total\{.*code="([^"]+)"/.exec(key);
        if (match) {
          const delta = value - (metricsBefore.get(key) ?? 0);
          if (delta > 0) ended[match[1]!] = delta;
        }
      }
    const acceptance: AcceptanceCheck[] = [
      {
        check: `delivery p99 ≤ ${ACCEPT_P99_MS} ms`,
        measured: `${delivery.latencyMs.p99} ms`,
        pass: delivery.receivedTotal > 0 && delivery.latencyMs.p99 <= ACCEPT_P99_MS,
      },
      {
        check: 'no event lost (lost = expected − received = 0, every subscriber established)',
        measured: `lost ${delivery.lost} of ${delivery.expectedTotal}; ${open.refused} subscriptions refused, ${delivery.streamsEnded} streams ended early`,
        pass:
          delivery.expectedTotal > 0 &&
          delivery.lost === 0 &&
          open.refused === 0 &&
          delivery.streamsEnded === 0 &&
          delivery.unmatchedEvents === 0,
      },
      {
        check: `router RSS < ${ACCEPT_RSS_MB} MB`,
        measured: `${peakRssMb} MB (VmHWM)`,
        pass: peakRssMb > 0 && peakRssMb < ACCEPT_RSS_MB,
      },
    ];
    for (const check of acceptance)
      log(
        `fan-out: acceptance: ${check.check}: ${check.measured} → ${check.pass ? 'PASS' : 'FAIL'}`,
      );
    if (open.opened < settings.subscribers)
      log(
        `fan-out: note: the acceptance asks for ${settings.subscribers} subscribers; ${open.opened} were established`,
      );

    const result: FanOutResult = {
      fleet: { organization: 0, index: fleetIndex, id: fleetId },
      robots: robots.length,
      settings: {
        subscribers: settings.subscribers,
        users: settings.users,
        subscriptionsPerUser: perUser,
        eventsPerSecond: settings.eventsPerSecond,
        seconds: settings.seconds,
        openBatch: settings.openBatch,
        writesOnlySeconds: settings.writesOnlySeconds,
        deliveryWarmupSeconds: settings.deliveryWarmupSeconds,
        pollSeconds: settings.pollSeconds,
        pollConnections: settings.pollConnections,
        routerEnv: { ...routerEnv, RESPONSE_CACHE: 'true (default)' },
        subscription: FANOUT_SUBSCRIPTION.replace(/\s+/g, ' '),
      },
      open: { ...open, routerActive, routerGroups },
      writes: {
        asked: Math.round(settings.eventsPerSecond * settings.seconds),
        sent: fanOut.writes.length,
        acked: fanOut.acked,
        failed: fanOut.failed,
        perSecond: round(fanOut.acked / settings.seconds, 1),
        skippedTicks: fanOut.skippedTicks,
        latencyMs: percentiles(fanOut.latenciesMs),
        ...(fanOut.failureSample ? { failureSample: fanOut.failureSample } : {}),
      },
      delivery,
      router: {
        cpuMsPerDelivered: delivery.receivedTotal
          ? round(routerCpuMs / delivery.receivedTotal, 4)
          : null,
        cpuMsPerWrite: fanOut.acked ? round(routerCpuMs / fanOut.acked, 2) : null,
        peakRssMb,
        windowPeakRssMb: fanOutResources.groups['router']?.peakRssMb ?? 0,
        metrics:
          metricsBefore && metricsAfter
            ? {
                delivered: metricsDelta('fleetgraph_router_subscription_events_delivered_total'),
                executions: metricsDelta('fleetgraph_router_subscription_event_executions_total'),
                executionMs: quantilesMs(
                  metricsBefore,
                  metricsAfter,
                  'fleetgraph_router_subscription_event_execution_seconds',
                ),
                fetchMs: Object.fromEntries(
                  Object.keys(FANOUT_PORTS.subgraphs).map((subgraph) => [
                    subgraph,
                    quantilesMs(
                      metricsBefore,
                      metricsAfter,
                      'fleetgraph_router_subgraph_fetch_duration_seconds',
                      { subgraph },
                    ),
                  ]),
                ),
                ended,
              }
            : null,
      },
      resources: {
        writesOnly: writesOnlyResources,
        fanOut: fanOutResources,
        polling: pollResources,
      },
      polling: {
        connections: settings.pollConnections,
        seconds: pollResources.seconds,
        dashboards: load.requests,
        perSecond: round(dashboardsPerSecond, 1),
        latencyMs: { p50: load.latencyMs.p50, p99: load.latencyMs.p99 },
        errors: load.errors.total,
        ...(load.errors.sample ? { errorSample: load.errors.sample } : {}),
        cacheHitRatio: hits + misses > 0 ? round(hits / (hits + misses), 3) : null,
        writesAcked: pollWrites.acked,
        bytesPerDashboard: load.bytesPerResponse || first.bytes,
      },
      comparison: { consoles, rows: comparisons },
      acceptance,
    };
    for (const row of comparisons)
      log(
        `fan-out: ${row.scope}, CPU ms per console-second: subscriptions ${row.subscriptionCpuMsPerConsoleSecond} (measured: ${row.subscriptionCores} cores for ${consoles}); polling each second ${row.pollingCpuMsPerConsoleSecond ?? '–'} (extrapolated from ${load.requests} dashboards at ${round(dashboardsPerSecond, 1)}/s, ${row.cpuMsPerDashboardNet ?? '–'} ms each without the writes: ${row.pollingCores ?? '–'} cores for ${consoles})`,
      );
    return {
      id: 'fan-out',
      title: 'Fan-out: SSE subscribers vs polling the dashboard',
      description: `${settings.subscribers} SSE subscriptions (${settings.users} users × ${perUser}) to robotChanged(fleetId) of fleet (0, ${fleetIndex}) on one router while updateRobotStatus writes run at ${settings.eventsPerSecond}/s for ${settings.seconds} s over the ${robots.length} robots the dashboard shows; every event's receipt by every subscriber timed from its write's acknowledgement. Beside it, FleetDashboard.graphql (first: 100) at ${settings.pollConnections} connections for ${settings.pollSeconds} s with the same writes, extrapolated to one dashboard per console per second.`,
      targets: [],
      responseBytes: { dashboard: first.bytes },
      sampleChecks: {},
      runs: [],
      failures,
      fanOut: result,
    };
  } finally {
    pool?.close();
    await writers?.close().catch(() => undefined);
    await group.stopAll();
  }
}

/** Which write each received event reflects, and every subscriber's receipts against it. */
function analyse(pool: SubscriberPool, figures: WriteFigures): FanOutResult['delivery'] {
  const acked = figures.writes.filter((w) => w.ackAt !== undefined);
  // Per robot: the window's writes in order (one robot's writes never overlap) and its events.
  const writesByRobot = new Map<string, WriteRecord[]>();
  for (const write of figures.writes)
    writesByRobot.set(write.robotId, [...(writesByRobot.get(write.robotId) ?? []), write]);
  const eventsByRobot = new Map<string, number[]>();
  pool.events.forEach((event, index) => {
    if (!event.robotId || event.kind !== 'ROBOT_STATUS_CHANGED') return;
    eventsByRobot.set(event.robotId, [...(eventsByRobot.get(event.robotId) ?? []), index]);
  });
  const writeOf = new Map<number, WriteRecord>();
  const warmupLeftovers = new Set<number>();
  let byOrder = 0;
  let byBattery = 0;
  for (const [robotId, indexes] of eventsByRobot) {
    const writes = writesByRobot.get(robotId) ?? [];
    indexes.sort((a, b) => compareIds(pool.events[a]!.id, pool.events[b]!.id));
    // More events than writes, and every write of the robot acknowledged: the first ones are
    // the warm-up's, still on their way when the window began (on a cold Cassandra one run
    // counted 1,006,000 deliveries of 1,000,000); they are left unmatched.
    const extra = indexes.length - writes.length;
    const allAcked = writes.every((w) => w.ackAt !== undefined);
    if (extra >= 0 && (extra === 0 || allAcked)) {
      for (const index of indexes.slice(0, extra)) warmupLeftovers.add(index);
      indexes.slice(extra).forEach((index, k) => writeOf.set(index, writes[k]!));
      byOrder += writes.length;
    } else {
      // An event seen by nobody (or a write that failed after publishing): match by battery.
      for (const index of indexes) {
        const battery = pool.events[index]!.battery;
        const write = writes.find(
          (w) => typeof battery === 'number' && Math.round(battery * 100) === w.seq,
        );
        if (write) {
          writeOf.set(index, write);
          byBattery++;
        }
      }
    }
  }
  const counted = new Set<number>();
  let showedLaterWrite = 0;
  let crossSubgraph = 0;
  const latencies: number[] = [];
  const firsts: number[] = [];
  const spreads: number[] = [];
  const bySlice: number[][] = [];
  const start = figures.writes[0]?.sentAt ?? 0;
  let beforeAck = 0;
  for (const [index, write] of writeOf) {
    if (write.ackAt === undefined) continue;
    counted.add(index);
    const event = pool.events[index]!;
    if (event.crossSubgraph) crossSubgraph++;
    if (typeof event.battery === 'number' && Math.round(event.battery * 100) !== write.seq)
      showedLaterWrite++;
    const slice = (bySlice[Math.floor((write.sentAt - start) / 5000)] ??= []);
    let first = Infinity;
    let last = -Infinity;
    for (const time of pool.receiptTimes(index)) {
      if (time < 0) continue;
      const latency = time - write.ackAt;
      if (latency < 0) beforeAck++;
      latencies.push(Math.max(0, latency));
      slice.push(Math.max(0, latency));
      first = Math.min(first, time);
      last = Math.max(last, time);
    }
    if (first !== Infinity) {
      firsts.push(Math.max(0, first - write.ackAt));
      spreads.push(last - first);
    }
  }
  const unmatchedEvents = pool.events.filter(
    (_, index) => !writeOf.has(index) && !warmupLeftovers.has(index),
  ).length;
  const subscribers = pool.perSubscriber(counted);
  const expectedTotal = acked.length * subscribers.length;
  const receivedTotal = subscribers.reduce((s, x) => s + x.received, 0);
  const windowSeconds = Math.max(
    0.001,
    (pool.lastReceiptAt - (figures.writes[0]?.sentAt ?? 0)) / 1000,
  );
  const endSample = subscribers.find((s) => s.endSample)?.endSample;
  return {
    matching:
      byBattery === 0
        ? 'per robot, in order (every robot: as many events as writes)'
        : `per robot in order (${byOrder} events), by battery value where a robot's counts differ (${byBattery})`,
    warmupLeftovers: warmupLeftovers.size,
    eventsExpected: acked.length,
    eventsSeen: counted.size,
    unmatchedEvents,
    expectedTotal,
    receivedTotal,
    lost: expectedTotal - receivedTotal,
    subscribersWithLoss: subscribers.filter((s) => s.received < acked.length).length,
    duplicates: subscribers.reduce((s, x) => s + x.duplicates, 0),
    errorResults: subscribers.reduce((s, x) => s + x.errors, 0),
    ...(pool.errorSample ? { errorSample: pool.errorSample } : {}),
    streamsEnded: subscribers.reduce((s, x) => s + x.ended, 0),
    ...(endSample ? { endSample } : {}),
    latencyMs: percentiles(Float64Array.from(latencies).sort()),
    firstReceiptMs: percentiles(Float64Array.from(firsts).sort()),
    spreadMs: percentiles(Float64Array.from(spreads).sort()),
    p99ByFiveSecondsMs: Array.from(
      bySlice,
      (slice) => percentiles(Float64Array.from(slice ?? []).sort()).p99,
    ),
    receivedBeforeAck: beforeAck,
    showedLaterWrite,
    crossSubgraphShare: counted.size ? round(crossSubgraph / counted.size, 3) : 0,
    eventsPerSecond: round(receivedTotal / windowSeconds, 0),
    windowSeconds: round(windowSeconds, 2),
  };
}

/** Orders two Redis stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

function percentiles(sorted: Float64Array): Percentiles {
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
  return {
    p50: round(at(0.5), 1),
    p99: round(at(0.99), 1),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0, 1),
  };
}

const SERVER_GROUPS = ['router', 'users', 'sessions', 'fleet'];
const STACK_GROUPS = [...SERVER_GROUPS, 'cassandra'];

function windowOf(groups: Record<string, ResourceFigures>, start: number): WindowResources {
  return {
    seconds: round((performance.now() - start) / 1000, 2),
    groups,
    stackCpuSeconds: round(
      STACK_GROUPS.reduce((sum, name) => sum + (groups[name]?.cpuSeconds ?? 0), 0),
      2,
    ),
    serversCpuSeconds: round(
      SERVER_GROUPS.reduce((sum, name) => sum + (groups[name]?.cpuSeconds ?? 0), 0),
      2,
    ),
  };
}

const cores = (w: WindowResources) => round(w.stackCpuSeconds / w.seconds, 2);

/** The router's peak resident set size since it started (kB). */
function vmHwmKb(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function dashboardSource(body: string, tokens: TokenPool) {
  return {
    responseKey: 'dashboard',
    next: () => ({ headers: { authorization: `Bearer ${tokens.next()}` }, body }),
  };
}

async function readDashboard(
  url: string,
  body: string,
  token: string,
): Promise<{ robots: string[]; bytes: number }> {
  const response = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    },
    body,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const text = await response.body.text();
  const readings = parseDashboard(text);
  if (response.statusCode !== 200 || text.includes('"errors":[') || typeof readings === 'string')
    throw new Error(`dashboard read answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return { robots: readings.map((r) => r.id), bytes: Buffer.byteLength(text) };
}

/** p50 and p99 (ms) of a router histogram over the window, from its buckets. */
function quantilesMs(
  before: Samples,
  after: Samples,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): { p50: number | null; p99: number | null } {
  const ms = (q: number) => {
    const seconds = histogramQuantile(before, after, name, q, labels);
    return seconds === null ? null : round(seconds * 1000, 1);
  };
  return { p50: ms(0.5), p99: ms(0.99) };
}
