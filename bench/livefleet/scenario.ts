/**
 * The live-fleet scenario (bench/README.md, "Live fleet"): fleet-console readers and robot
 * writers on one fleet at once, through our router with the response cache on, with it off,
 * and through two routers sharing one Redis (writes to A, reads from B), in interleaved
 * rounds; every read is checked for stale readings (ledger.ts).
 *
 * @remarks
 * Its own processes, on ports of their own (5027-5032), so it can run next to nothing else
 * and its routers can run with FLEETGRAPH_ENV=test: that environment only adds the `x-cache`
 * header (and unmasked error messages, IDE routes and introspection, which no request here
 * uses), and the header says which reads were hits — and so which stale reads came from the
 * cache. The hit ratio is counted from it; the routers' own cache counters are kept as a
 * cross-check. The subgraphs run in production as elsewhere.
 *
 * Each run reads under a fresh cache entry: the dashboard body carries
 * `extensions.bench = "live-fleet <nonce> <run>"`, which Apollo Server ignores but the cache
 * key (the request bytes) does not. So no run is served an entry cached by another variant's
 * run — the cache-off variant writes without purging anything, which would otherwise leave
 * stale entries behind for the next cache-on run to find — nor by an earlier benchmark.
 */
import { randomUUID } from 'node:crypto';
import { SCALES, seedIds, type SeedScale } from '../../scripts/seed-ids.js';
import type { TokenPool } from '../lib/identities.js';
import type { ProcessGroup, Service } from '../lib/processes.js';
import { ResourceSampler, round } from '../lib/procstat.js';
import { scrape, sumOf, type Samples } from '../lib/prometheus.js';
import type { ScenarioResult } from '../lib/results.js';
import { ROUTER_OPS_PORT_OFFSET, routerSpec, subgraphSpecs, subgraphUrls } from '../lib/stack.js';
import { DASHBOARD } from '../scenarios.js';
import { WriteLedger } from './ledger.js';
import { LiveAgents, readOnce, runTraffic, STATUS_EVERY, type TrafficFigures } from './traffic.js';
import {
  LIVE_VARIANT_LABELS,
  type LiveFigures,
  type LiveFleetResult,
  type LiveFleetRun,
  type LiveVariantId,
  type Percentiles,
} from './types.js';

export const LIVE_PORTS = {
  routerA: 5027,
  routerB: 5028,
  routerOff: 5029,
  subgraphs: { users: 5030, sessions: 5031, fleet: 5032 },
} as const;

/** Below this share of the asked write rate a run is flagged (the bar: 25 of 30 writes/s). */
const WRITE_RATE_FLOOR = 0.83;

/** The routers' environment: as the others, but `test` so that responses carry x-cache. */
const ROUTER_ENVIRONMENT = 'test';

export interface LiveFleetSettings {
  readonly readers: number;
  readonly writesPerSecond: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly warmupSeconds: number;
  readonly dataWarmupSeconds: number;
  readonly variants: readonly LiveVariantId[];
  /**
   * BENCH_LIVE_IDENTITIES: how many credentials the readers and writers share, handed out in
   * turn; undefined, a new caller for every request (the default, the harder case).
   */
  readonly identities: number | undefined;
  readonly scale: SeedScale;
  readonly keyspace: string;
}

export interface LiveFleetContext {
  readonly settings: LiveFleetSettings;
  readonly tokens: TokenPool;
  readonly group: ProcessGroup;
  readonly log: (message: string) => void;
  /** The shared Cassandra node and Redis server (sampled, never signalled). */
  readonly datastorePids: { readonly cassandra: number[]; readonly redis: number[] };
}

/**
 * The fleet of organization 0 the scenario reads and writes: never fleet 0 (kept read-only),
 * and not the write mix's (the last) when the seed has a fleet between them.
 */
export function liveFleetIndex(scale: SeedScale): number {
  const shape = SCALES[scale];
  const index =
    shape.fleetsPerOrganization >= 3
      ? shape.fleetsPerOrganization - 2
      : shape.fleetsPerOrganization - 1;
  if (index < 1) throw new Error(`the ${scale} seed has no fleet besides fleet (0, 0)`);
  if (shape.robotsPerFleet < 100)
    throw new Error(`the ${scale} seed's fleets have fewer than 100 robots`);
  return index;
}

interface Routers {
  readonly a?: Service;
  readonly b?: Service;
  readonly off?: Service;
}

interface Endpoints {
  readonly read: Service;
  readonly write: Service;
  /** Process groups sampled for this variant (routers by role). */
  readonly routerGroups: Readonly<Record<string, readonly number[]>>;
}

function endpointsOf(variant: LiveVariantId, routers: Routers): Endpoints {
  switch (variant) {
    case 'cache-on':
      return { read: routers.a!, write: routers.a!, routerGroups: { router: [routers.a!.pid] } };
    case 'cache-off':
      return {
        read: routers.off!,
        write: routers.off!,
        routerGroups: { router: [routers.off!.pid] },
      };
    case 'two-instances':
      return {
        read: routers.b!,
        write: routers.a!,
        routerGroups: { 'router-writes': [routers.a!.pid], 'router-reads': [routers.b!.pid] },
      };
  }
}

async function startStack(
  ctx: LiveFleetContext,
): Promise<{ routers: Routers; subgraphs: Service[] }> {
  const { settings, group } = ctx;
  const urls = subgraphUrls(LIVE_PORTS.subgraphs);
  const router = (name: string, port: number, responseCache: boolean) =>
    group.start(
      routerSpec({
        name,
        keyspace: settings.keyspace,
        port,
        subgraphUrls: urls,
        responseCache,
        extraEnv: { FLEETGRAPH_ENV: ROUTER_ENVIRONMENT },
      }),
    );
  const wants = (variant: LiveVariantId) => settings.variants.includes(variant);
  const needsA = wants('cache-on') || wants('two-instances');
  const [subgraphs, a, b, off] = await Promise.all([
    Promise.all(
      subgraphSpecs(settings.keyspace, LIVE_PORTS.subgraphs, 'batched').map((spec) =>
        group.start({ ...spec, name: `live-${spec.name}` }),
      ),
    ),
    needsA ? router('live-router-a', LIVE_PORTS.routerA, true) : undefined,
    wants('two-instances') ? router('live-router-b', LIVE_PORTS.routerB, true) : undefined,
    wants('cache-off') ? router('live-router-off', LIVE_PORTS.routerOff, false) : undefined,
  ]);
  return { routers: { a, b, off }, subgraphs };
}

export async function runLiveFleet(ctx: LiveFleetContext): Promise<ScenarioResult> {
  const { settings, log } = ctx;
  const tokens = settings.identities
    ? fixedIdentities(ctx.tokens, settings.identities)
    : ctx.tokens;
  const fleetIndex = liveFleetIndex(settings.scale);
  const fleetId = seedIds.fleet(0, fleetIndex);
  log(
    `live-fleet: fleet (0, ${fleetIndex}), ${settings.readers} readers, ${settings.writesPerSecond} writes/s, variants ${settings.variants.join(', ')}; starting the subgraphs (${Object.values(LIVE_PORTS.subgraphs).join('-')}) and routers (5027 A, 5028 B, 5029 cache off)`,
  );
  const { routers, subgraphs } = await startStack(ctx);
  const nonce = randomUUID().slice(0, 8);
  let runNumber = 0;
  const bodyFor = () =>
    JSON.stringify({
      query: DASHBOARD,
      operationName: 'FleetDashboard',
      variables: { fleetId, first: 100 },
      extensions: { bench: `live-fleet ${nonce} ${runNumber++}` },
    });
  const agents = new LiveAgents(settings.readers);
  const failures: string[] = [];
  try {
    // The robots and their state before any write, from a read under a fresh key (a miss).
    const first = routers.off ?? routers.a ?? routers.b!;
    const initial = await readOnce(agents, `${first.baseUrl}/graphql`, bodyFor(), tokens.next());
    if (initial.readings.length < 100)
      throw new Error(
        `fleet (0, ${fleetIndex}) shows ${initial.readings.length} robots, not 100 — is the seed complete?`,
      );
    const ledger = new WriteLedger(initial.readings);
    const traffic = (variant: LiveVariantId, seconds: number) => {
      const endpoints = endpointsOf(variant, routers);
      return {
        endpoints,
        run: () =>
          runTraffic(agents, {
            readUrl: `${endpoints.read.baseUrl}/graphql`,
            writeUrl: `${endpoints.write.baseUrl}/graphql`,
            seconds,
            readers: settings.readers,
            writesPerSecond: settings.writesPerSecond,
            readBody: bodyFor(),
            ledger,
            nextToken: () => tokens.next(),
          }),
      };
    };
    // Warm-up (not recorded; its writes are in the ledger): JIT, pools, a cold Cassandra.
    for (const [i, variant] of settings.variants.entries()) {
      const seconds =
        i === 0
          ? Math.max(settings.warmupSeconds, settings.dataWarmupSeconds)
          : settings.warmupSeconds;
      if (seconds > 0) await traffic(variant, seconds).run();
    }
    const runs: LiveFleetRun[] = [];
    const raw = new Map<LiveVariantId, TrafficFigures[]>();
    const variants = settings.variants;
    for (let r = 0; r < settings.rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      for (const variant of order) {
        try {
          const { endpoints, run } = traffic(variant, settings.seconds);
          const measured = await measure(ctx, endpoints, subgraphs, run);
          const figures: LiveFleetRun = { variant, round: r + 1, ...measured.figures };
          runs.push(figures);
          raw.set(variant, [...(raw.get(variant) ?? []), measured.traffic]);
          log(summaryLine(variant, `round ${r + 1}/${settings.rounds}`, figures));
          if (figures.writes.perSecond < WRITE_RATE_FLOOR * settings.writesPerSecond)
            log(
              `  warning: ${figures.writes.perSecond} writes/s acknowledged of ${settings.writesPerSecond} asked (${figures.writes.skippedTicks} ticks skipped, write p99 ${figures.writes.latencyMs.p99} ms): the machine cannot keep up`,
            );
        } catch (error) {
          failures.push(`${variant} (round ${r + 1}): ${(error as Error).message}`);
        }
      }
    }
    const totals = variants
      .filter((variant) => raw.has(variant))
      .map((variant) => ({
        variant,
        ...pooled(
          raw.get(variant)!,
          runs.filter((x) => x.variant === variant),
        ),
      }));
    for (const total of totals) log(summaryLine(total.variant, 'all rounds', total));
    const liveFleet: LiveFleetResult = {
      fleet: { organization: 0, index: fleetIndex, id: fleetId, robots: initial.readings.length },
      settings: {
        readers: settings.readers,
        writesPerSecond: settings.writesPerSecond,
        seconds: settings.seconds,
        rounds: settings.rounds,
        statusShare: `1 in ${STATUS_EVERY} writes is updateRobotStatus, the others reportTelemetry (1 sample)`,
        routerEnvironment: `FLEETGRAPH_ENV=${ROUTER_ENVIRONMENT} (routers), production (subgraphs)`,
        hitCounting: 'x-cache response header (HIT ÷ reads); router counters as a cross-check',
        callers: settings.identities
          ? `${settings.identities} identities handed out in turn (consoles and robots keeping their credentials; each re-checked every SESSION_CHECK_CACHE_SECONDS)`
          : 'a new identity for every read and write',
      },
      variants,
      runs,
      totals,
    };
    return {
      id: 'live-fleet',
      title: 'Live fleet: dashboard reads during writes (stale reads)',
      description: `${settings.readers} readers loop FleetDashboard.graphql (first: 100) on fleet (0, ${fleetIndex}) while writers send ${settings.writesPerSecond} writes/s (reportTelemetry with one sample; every ${STATUS_EVERY}rd an updateRobotStatus) to the same 100 robots, through one router with the cache on, one with it off, and two routers sharing one Redis (writes through A, reads through B). A stale reading is a robot older than the newest write to it acknowledged before the read started.`,
      targets: [],
      responseBytes: { dashboard: initial.bytes },
      sampleChecks: {},
      runs: [],
      failures,
      liveFleet,
    };
  } finally {
    await agents.close();
    await ctx.group.stopAll();
  }
}

/**
 * `count` tokens of the pool, handed out in turn: 8 consoles and the robots' writers each keeping
 * their credential, as in production (BENCH_LIVE_IDENTITIES, bench/README.md "Live fleet").
 */
function fixedIdentities(pool: TokenPool, count: number): TokenPool {
  const tokens = Array.from({ length: count }, () => pool.next());
  let index = 0;
  return {
    size: count,
    next: () => tokens[index++ % count]!,
    get handedOut() {
      return index;
    },
  };
}

/** One run with its resources sampled and the reading router's cache counters read around it. */
async function measure(
  ctx: LiveFleetContext,
  endpoints: Endpoints,
  subgraphs: readonly Service[],
  run: () => Promise<TrafficFigures>,
): Promise<{ figures: LiveFigures; traffic: TrafficFigures }> {
  // The router serves /metrics on its operations port only (ROUTER_OPS_PORT), not on the API's.
  const opsUrl = new URL(endpoints.read.baseUrl);
  opsUrl.port = String(Number(opsUrl.port) + ROUTER_OPS_PORT_OFFSET);
  const counters = () => scrape(opsUrl.origin).catch(() => undefined);
  const before = await counters();
  const sampler = new ResourceSampler({
    ...endpoints.routerGroups,
    ...Object.fromEntries(subgraphs.map((s) => [s.spec.name.replace(/^live-/, ''), [s.pid]])),
    cassandra: ctx.datastorePids.cassandra,
    redis: ctx.datastorePids.redis,
    harness: [process.pid],
  });
  sampler.start();
  const traffic = await run();
  const resources = sampler.stop();
  const after = await counters();
  const delta = (name: string, labels: Readonly<Record<string, string>> = {}) =>
    before && after
      ? sumOf(after as Samples, name, labels) - sumOf(before as Samples, name, labels)
      : 0;
  const followers = (outcome: string) =>
    delta('fleetgraph_router_cache_followers_total', { outcome });
  const cacheOn = endpoints.read.spec.env['RESPONSE_CACHE'] === 'true';
  const metricsCache =
    cacheOn && before && after
      ? {
          hits: delta('fleetgraph_router_cache_hits_total'),
          misses: delta('fleetgraph_router_cache_misses_total'),
          storesRefused: delta('fleetgraph_router_cache_stores_refused_total'),
          followers: {
            tookAnswer: followers('took_answer'),
            stored: followers('stored'),
            ran: followers('ran'),
            ledAfresh: followers('led_afresh'),
            startedCurrent: followers('started_current'),
          },
        }
      : null;
  const figures = summarise([traffic], cacheOn, metricsCache);
  return {
    traffic,
    figures: {
      ...figures,
      resources: Object.fromEntries(
        Object.entries(resources).map(([group, figure]) => [
          group,
          {
            ...figure,
            cpuMsPerRead: traffic.reads
              ? round((figure.cpuSeconds * 1000) / traffic.reads, 3)
              : null,
          },
        ]),
      ),
    },
  };
}

function percentiles(sorted: ArrayLike<number>): Percentiles {
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
  return {
    p50: round(at(0.5), 2),
    p99: round(at(0.99), 2),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0, 2),
  };
}

const sortedOf = (values: readonly number[]) => Float64Array.from(values).sort();
const merge = (records: readonly Readonly<Record<string, number>>[]) => {
  const out: Record<string, number> = {};
  for (const record of records)
    for (const [key, value] of Object.entries(record)) out[key] = (out[key] ?? 0) + value;
  return out;
};

/** Figures of one run, or of several pooled (without resources). */
function summarise(
  parts: readonly TrafficFigures[],
  cacheOn: boolean,
  metricsCache: LiveFigures['metricsCache'],
): Omit<LiveFigures, 'resources'> {
  const sum = (pick: (t: TrafficFigures) => number) => parts.reduce((s, t) => s + pick(t), 0);
  const seconds = sum((t) => t.seconds);
  const reads = sum((t) => t.reads);
  const staleReads = sum((t) => t.staleReads);
  const xCache = merge(parts.map((t) => t.xCache));
  const windows = parts.flatMap((t) => t.windowsMs);
  const sinceFirst = parts.flatMap((t) => t.sinceFirstMissedMs);
  const readErrorSample = parts.find((t) => t.readErrorSample)?.readErrorSample;
  const failureSample = parts.find((t) => t.writes.failureSample)?.writes.failureSample;
  const unexplainedSample = parts.find((t) => t.unexplainedSample)?.unexplainedSample;
  const acked = sum((t) => t.writes.acked);
  return {
    seconds,
    reads,
    readsPerSecond: round(reads / seconds, 1),
    freshReadsPerSecond: round((reads - staleReads) / seconds, 1),
    readErrors: sum((t) => t.readErrors),
    ...(readErrorSample ? { readErrorSample } : {}),
    latencyMs: percentiles(
      parts.length === 1
        ? parts[0]!.readLatenciesMs
        : sortedOf(parts.flatMap((t) => [...t.readLatenciesMs])),
    ),
    hitRatio: cacheOn ? (reads ? round((xCache['HIT'] ?? 0) / reads, 3) : 0) : null,
    xCache,
    metricsCache,
    writes: {
      sent: sum((t) => t.writes.sent),
      acked,
      failed: sum((t) => t.writes.failed),
      perSecond: round(acked / seconds, 1),
      telemetry: sum((t) => t.writes.telemetry),
      status: sum((t) => t.writes.status),
      skippedTicks: sum((t) => t.writes.skippedTicks),
      latencyMs: percentiles(
        parts.length === 1
          ? parts[0]!.writes.latenciesMs
          : sortedOf(parts.flatMap((t) => [...t.writes.latenciesMs])),
      ),
      ...(failureSample ? { failureSample } : {}),
    },
    stale: {
      reads: staleReads,
      readings: sum((t) => t.staleReadings),
      readsByXCache: merge(parts.map((t) => t.staleReadsByXCache)),
      unexplainedReadings: sum((t) => t.unexplainedReadings),
      ...(unexplainedSample ? { unexplainedSample } : {}),
      windowMs: windows.length ? percentiles(sortedOf(windows)) : null,
      sinceFirstMissedMs: sinceFirst.length ? percentiles(sortedOf(sinceFirst)) : null,
    },
  };
}

/** A variant's rounds pooled: sums, percentiles over everything, CPU per read over all reads. */
function pooled(parts: readonly TrafficFigures[], runs: readonly LiveFleetRun[]): LiveFigures {
  const cacheOn = runs.some((run) => run.hitRatio !== null);
  const counted = runs.filter((run) => run.metricsCache);
  const total = (pick: (m: NonNullable<LiveFigures['metricsCache']>) => number) =>
    counted.reduce((s, run) => s + pick(run.metricsCache!), 0);
  const metricsCache = counted.length
    ? {
        hits: total((m) => m.hits),
        misses: total((m) => m.misses),
        storesRefused: total((m) => m.storesRefused),
        followers: {
          tookAnswer: total((m) => m.followers.tookAnswer),
          stored: total((m) => m.followers.stored),
          ran: total((m) => m.followers.ran),
          ledAfresh: total((m) => m.followers.ledAfresh),
          startedCurrent: total((m) => m.followers.startedCurrent),
        },
      }
    : null;
  const base = summarise(parts, cacheOn, metricsCache);
  const groups = [...new Set(runs.flatMap((run) => Object.keys(run.resources)))];
  const resources = Object.fromEntries(
    groups.map((group) => {
      const figures = runs.map((run) => run.resources[group]).filter((f) => f !== undefined);
      const cpuSeconds = round(
        figures.reduce((s, f) => s + f.cpuSeconds, 0),
        2,
      );
      return [
        group,
        {
          peakRssMb: Math.max(...figures.map((f) => f.peakRssMb)),
          cpuSeconds,
          cpuMsPerRead: base.reads ? round((cpuSeconds * 1000) / base.reads, 3) : null,
        },
      ];
    }),
  );
  return { ...base, resources };
}

/** The console line of one run (or of a variant's rounds pooled). */
export function summaryLine(variant: LiveVariantId, what: string, f: LiveFigures): string {
  const window = f.stale.windowMs;
  return (
    `live-fleet · ${LIVE_VARIANT_LABELS[variant]} · ${what}: ${f.readsPerSecond.toFixed(0)} reads/s (fresh ${f.freshReadsPerSecond.toFixed(0)}/s), p50 ${f.latencyMs.p50} ms, p99 ${f.latencyMs.p99} ms` +
    (f.hitRatio !== null ? `, hits ${(f.hitRatio * 100).toFixed(0)}%` : '') +
    (f.metricsCache
      ? ` (stores refused ${f.metricsCache.storesRefused}; joined a running execution: took its answer ${f.metricsCache.followers.tookAnswer}, found it stored ${f.metricsCache.followers.stored}, ran alone ${f.metricsCache.followers.ran}, led a fresh one for the others ${f.metricsCache.followers.ledAfresh}; started a current one past an outdated one ${f.metricsCache.followers.startedCurrent})`
      : '') +
    `, ${f.writes.perSecond} writes/s (${f.writes.failed} failed), stale reads ${f.stale.reads} (${f.stale.readings} readings)` +
    (window ? `, staleness p50 ${window.p50} / p99 ${window.p99} / max ${window.max} ms` : '') +
    (f.stale.unexplainedReadings ? `, UNEXPLAINED readings ${f.stale.unexplainedReadings}` : '') +
    (f.readErrors ? `, read errors ${f.readErrors}` : '')
  );
}
