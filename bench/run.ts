/**
 * `npm run bench` — the benchmark harness (bench/README.md says what is measured and how).
 *
 * 1. Data: migrates the benchmark keyspace and loads the seed there if absent (BENCH_SEED,
 *    default large; `scripts/seed.ts --scale <seed> --if-empty`).
 * 2. Starts, as separate processes (so RSS and CPU are per process): the three subgraphs
 *    (batched) and the same three without DataLoader (bench/baselines/naive-subgraph.ts), our router with the response cache
 *    off and on (and one in front of the naive subgraphs), a bare @apollo/gateway and a bare
 *    node:http server replaying our router's responses.
 * 3. Drives each scenario × target × connection count with autocannon, every request from a
 *    distinct caller, and reads the servers' counters and /proc around each run.
 * 4. Then the router-bound scenario: in-memory subgraphs, a deep operation with 16 subgraph
 *    fetches, our router vs the bare gateway vs bare http.
 * 5. Then the live-fleet scenario (bench/livefleet/): dashboard readers and robot writers on one
 *    fleet at once, cache on / off / two routers sharing Redis, every read checked for stale
 *    readings.
 * 6. Then the fan-out scenario (bench/fanout/): N SSE subscribers of robotChanged on one router
 *    while writers change the fleet, delivery latency from write ack to receipt, router CPU and
 *    RSS, beside the polling alternative (the dashboard each second for as many consoles).
 * 7. Writes bench/results/results.json, results.md and chart.svg (or to BENCH_RESULTS_DIR).
 *
 * Settings (environment): BENCH_DURATION seconds per run (default 2), BENCH_WARMUP seconds per
 * target before its runs (default 1), BENCH_CONNECTIONS (default 1,16,64), BENCH_SEED
 * (large|demo), BENCH_KEYSPACE (default fleetgraph_bench), BENCH_IDENTITIES (token pool size,
 * default 20000), BENCH_PARTNER_KEYS (default 32), BENCH_SCENARIOS (comma-separated ids to run,
 * default all), BENCH_TARGETS (comma-separated targets to measure, default all: a quick A/B
 * such as router-cache,bare-http). Live fleet: BENCH_LIVE_READERS (default 8),
 * BENCH_LIVE_WRITES_PER_SECOND (default 30), BENCH_LIVE_DURATION seconds per run (default 10),
 * BENCH_LIVE_VARIANTS (default cache-on,cache-off,two-instances), BENCH_LIVE_IDENTITIES (default
 * unset: a new caller per request; N: N credentials handed out in turn). Fan-out:
 * BENCH_FANOUT_SUBSCRIBERS (default 1000), BENCH_FANOUT_USERS (default 50),
 * BENCH_FANOUT_EVENTS_PER_SECOND (default 50), BENCH_FANOUT_SECONDS (default 20),
 * BENCH_FANOUT_POLL_SECONDS (default 10), BENCH_FANOUT_POLL_CONNECTIONS (default 8),
 * BENCH_FANOUT_WRITES_ONLY_SECONDS (default 5), BENCH_FANOUT_WARMUP_SECONDS (default 5), BENCH_FANOUT_OPEN_BATCH (default 100). BENCH_RESULTS_DIR (default
 * bench/results) keeps a development run from overwriting the committed results.
 * Everything it starts is stopped at the end, on error and on Ctrl-C.
 * `npm run bench -- --render` only re-renders results.md and chart.svg from results.json.
 */
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { seedIds, type SeedScale } from '../scripts/seed-ids.js';
import { connectCassandra, type CassandraClient } from '../platform/cassandra/client.js';
import { loadToolConfig } from '../platform/config/load.js';
import {
  createPartnerKeys,
  mintTokenPool,
  type PartnerKeys,
  type TokenPool,
} from './lib/identities.js';
import { BENCH_RESPONSE_HEADER, runLoad, type RequestSource } from './lib/load.js';
import {
  killActiveCommands,
  LOG_DIR,
  ProcessGroup,
  REPO_ROOT,
  type Service,
} from './lib/processes.js';
import { findPids, ResourceSampler, round } from './lib/procstat.js';
import { scrapeAll, totalOf, type Samples } from './lib/prometheus.js';
import {
  renderChart,
  renderMarkdown,
  type BenchResults,
  type RunResult,
  type SampleCheck,
  type ScenarioResult,
  type TargetId,
} from './lib/results.js';
import { ensureData } from './lib/data.js';
import { writeFormatted, writePlain } from './lib/files.js';
import {
  bareGatewaySpec,
  bareHttpSpec,
  benchIssuer,
  commonEnv,
  isRouterTarget,
  PARTNER_RATE_CLASS,
  PORTS,
  ROUTER_BOUND_LIMITS,
  routerBoundSubgraphsSpec,
  routerSpec,
  subgraphSpecs,
  subgraphUrls,
} from './lib/stack.js';
import { realStackScenarios, type Scenario } from './scenarios.js';
import { runLiveFleet } from './livefleet/scenario.js';
import { LIVE_VARIANTS, type LiveVariantId } from './livefleet/types.js';
import { runFanOut } from './fanout/scenario.js';
import {
  ROUTER_BOUND_PORTS,
  routerBoundUrls,
  writeRouterBoundSupergraph,
} from './routerbound/compose.js';

const RESULTS_DIR = process.env.BENCH_RESULTS_DIR
  ? resolve(process.env.BENCH_RESULTS_DIR)
  : join(REPO_ROOT, 'bench/results');
/** RESULTS_DIR as the log names it: relative inside the repository, absolute outside. */
const RESULTS_LABEL = relative(REPO_ROOT, RESULTS_DIR).startsWith('..')
  ? RESULTS_DIR
  : relative(REPO_ROOT, RESULTS_DIR);

const settings = {
  duration: Number(process.env.BENCH_DURATION ?? 2),
  /** Interleaved rounds per connection count; each target's median round is reported. */
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  warmup: Number(process.env.BENCH_WARMUP ?? 1),
  /**
   * Responses a run should hold (BENCH_MIN_RESPONSES): a target slower than
   * minResponses / duration (from its warm-up) runs longer, up to maxRunSeconds. The dashboard
   * uncached answers ~25 requests/s, so a 2 s round held ~50 responses and its rounds spread
   * by 2x (18-44 req/s) — enough to flip its ratio to the gateway either way.
   */
  minResponses: Number(process.env.BENCH_MIN_RESPONSES ?? 100),
  maxRunSeconds: 5,
  /** Seconds of load per scenario before any target is measured (BENCH_DATA_WARMUP). */
  dataWarmup: Number(process.env.BENCH_DATA_WARMUP ?? 5),
  connections: (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number),
  seed: (process.env.BENCH_SEED ?? 'large') as SeedScale,
  keyspace: process.env.BENCH_KEYSPACE ?? 'fleetgraph_bench',
  identities: Number(process.env.BENCH_IDENTITIES ?? 20_000),
  partnerKeys: Number(process.env.BENCH_PARTNER_KEYS ?? 32),
  scenarios: process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()),
  /** BENCH_TARGETS: only these targets (e.g. router-cache,bare-http), for quick A/B runs. */
  targets: process.env.BENCH_TARGETS?.split(',').map((s) => s.trim()),
  live: {
    readers: Number(process.env.BENCH_LIVE_READERS ?? 8),
    writesPerSecond: Number(process.env.BENCH_LIVE_WRITES_PER_SECOND ?? 30),
    seconds: Number(process.env.BENCH_LIVE_DURATION ?? 10),
    variants: (process.env.BENCH_LIVE_VARIANTS?.split(',').map((s) => s.trim()) ??
      LIVE_VARIANTS) as LiveVariantId[],
    identities: process.env.BENCH_LIVE_IDENTITIES
      ? Number(process.env.BENCH_LIVE_IDENTITIES)
      : undefined,
  },
  fanOut: {
    subscribers: Number(process.env.BENCH_FANOUT_SUBSCRIBERS ?? 1000),
    users: Number(process.env.BENCH_FANOUT_USERS ?? 50),
    eventsPerSecond: Number(process.env.BENCH_FANOUT_EVENTS_PER_SECOND ?? 50),
    seconds: Number(process.env.BENCH_FANOUT_SECONDS ?? 20),
    pollSeconds: Number(process.env.BENCH_FANOUT_POLL_SECONDS ?? 10),
    pollConnections: Number(process.env.BENCH_FANOUT_POLL_CONNECTIONS ?? 8),
    writesOnlySeconds: Number(process.env.BENCH_FANOUT_WRITES_ONLY_SECONDS ?? 5),
    deliveryWarmupSeconds: Number(process.env.BENCH_FANOUT_WARMUP_SECONDS ?? 5),
    openBatch: Number(process.env.BENCH_FANOUT_OPEN_BATCH ?? 100),
  },
};
if (!(settings.duration > 0 && settings.duration <= 30))
  throw new Error(`BENCH_DURATION must be in (0, 30] seconds (got ${settings.duration})`);
if (!(Number.isInteger(settings.rounds) && settings.rounds >= 1 && settings.rounds <= 9))
  throw new Error(`BENCH_ROUNDS must be an integer in [1, 9] (got ${settings.rounds})`);
if (settings.seed !== 'large' && settings.seed !== 'demo')
  throw new Error(`BENCH_SEED must be large or demo (got ${settings.seed})`);
if (settings.identities < 2000) throw new Error('BENCH_IDENTITIES must be at least 2000');
if (!(
  Number.isInteger(settings.live.readers) &&
  settings.live.readers >= 1 &&
  settings.live.readers <= 64
))
  throw new Error(
    `BENCH_LIVE_READERS must be an integer in [1, 64] (got ${settings.live.readers})`,
  );
if (!(settings.live.writesPerSecond > 0 && settings.live.writesPerSecond <= 500))
  throw new Error(
    `BENCH_LIVE_WRITES_PER_SECOND must be in (0, 500] (got ${settings.live.writesPerSecond})`,
  );
if (!(settings.live.seconds > 0 && settings.live.seconds <= 120))
  throw new Error(`BENCH_LIVE_DURATION must be in (0, 120] seconds (got ${settings.live.seconds})`);
if (
  settings.live.identities !== undefined &&
  !(
    Number.isInteger(settings.live.identities) &&
    settings.live.identities >= 1 &&
    settings.live.identities <= 2000
  )
)
  throw new Error(
    `BENCH_LIVE_IDENTITIES must be an integer in [1, 2000] (got ${process.env.BENCH_LIVE_IDENTITIES})`,
  );
if (
  settings.live.variants.length === 0 ||
  !settings.live.variants.every((v) => (LIVE_VARIANTS as readonly string[]).includes(v))
)
  throw new Error(`BENCH_LIVE_VARIANTS must list some of ${LIVE_VARIANTS.join(', ')}`);

{
  const f = settings.fanOut;
  const integerIn = (name: string, value: number, min: number, max: number) => {
    if (!(Number.isInteger(value) && value >= min && value <= max))
      throw new Error(`${name} must be an integer in [${min}, ${max}] (got ${value})`);
  };
  integerIn('BENCH_FANOUT_SUBSCRIBERS', f.subscribers, 1, 20_000);
  integerIn('BENCH_FANOUT_USERS', f.users, 1, f.subscribers);
  integerIn('BENCH_FANOUT_POLL_CONNECTIONS', f.pollConnections, 1, 256);
  integerIn('BENCH_FANOUT_OPEN_BATCH', f.openBatch, 1, 5_000);
  if (!(f.eventsPerSecond > 0 && f.eventsPerSecond <= 500))
    throw new Error(
      `BENCH_FANOUT_EVENTS_PER_SECOND must be in (0, 500] (got ${f.eventsPerSecond})`,
    );
  if (!(f.seconds > 0 && f.seconds <= 300))
    throw new Error(`BENCH_FANOUT_SECONDS must be in (0, 300] (got ${f.seconds})`);
  if (!(f.pollSeconds > 0 && f.pollSeconds <= 120))
    throw new Error(`BENCH_FANOUT_POLL_SECONDS must be in (0, 120] (got ${f.pollSeconds})`);
  if (!(f.deliveryWarmupSeconds >= 0 && f.deliveryWarmupSeconds <= 60))
    throw new Error(
      `BENCH_FANOUT_WARMUP_SECONDS must be in [0, 60] (got ${f.deliveryWarmupSeconds})`,
    );
  if (!(f.writesOnlySeconds > 0 && f.writesOnlySeconds <= 60))
    throw new Error(
      `BENCH_FANOUT_WRITES_ONLY_SECONDS must be in (0, 60] (got ${f.writesOnlySeconds})`,
    );
}

/** The shared Cassandra node and Redis server, found by command line (sampled, not managed). */
const DATASTORE_PIDS = {
  cassandra: findPids('org.apache.cassandra.service.CassandraDaemon'),
  // The server on 6379 when it can be told apart: other Redis servers on this machine (a test
  // cluster on 7101-7103, say) are not the benchmark's.
  redis: (() => {
    const all = findPids('redis-server');
    const onPort = findPids('redis-server 127.0.0.1:6379').filter((pid) => all.includes(pid));
    return onPort.length ? onPort : all;
  })(),
};

const wanted = (id: string) => !settings.scenarios || settings.scenarios.includes(id);

/** Where one target is reached and what to read around its runs. */
interface TargetEndpoint {
  readonly service: Service;
  /** Servers whose /metrics count subgraph work for this target (none for bare http). */
  readonly subgraphMetrics: readonly string[];
  readonly subgraphPids: readonly number[];
  /** The counter the subgraphs count received requests with. */
  readonly subgraphRequestCounter: string;
}

/** Counters of a target's router and subgraphs at one moment. */
interface Snapshot {
  readonly router: Samples[];
  readonly subgraphs: Samples[];
}

const groups: ProcessGroup[] = [];
let cassandra: CassandraClient | undefined;
let partner: PartnerKeys | undefined;
let cleaningUp: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    killActiveCommands();
    await Promise.all(groups.map((group) => group.stopAll()));
    await partner?.revokeAll().catch(() => undefined);
    await cassandra?.shutdown().catch(() => undefined);
  })();
  return cleaningUp;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n[bench] ${signal}: stopping everything this run started`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const group of groups) group.killAllNow();
});

const startedAt = performance.now();
function log(message: string): void {
  const elapsed = Math.round((performance.now() - startedAt) / 1000);
  console.log(`[bench +${elapsed}s] ${message}`);
}

function newGroup(): ProcessGroup {
  const group = new ProcessGroup();
  groups.push(group);
  return group;
}

async function post(
  url: string,
  source: RequestSource,
): Promise<{ status: number; contentType: string; body: string }> {
  const next = source.next();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...next.headers,
      'content-type': 'application/json',
      accept: 'application/json',
      [BENCH_RESPONSE_HEADER]: source.responseKey,
    },
    body: next.body,
    signal: AbortSignal.timeout(15_000),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? 'application/json',
    body: await response.text(),
  };
}

/**
 * Our router's answer for each of the scenario's request sources, checked (200, no errors)
 * and handed to the bare http server to replay. Returns the response sizes.
 */
async function recordReferenceResponses(
  routerUrl: string,
  sources: readonly RequestSource[],
): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const source of sources) {
    const reference = await post(routerUrl, source);
    if (reference.status !== 200 || reference.body.includes('"errors":[')) {
      throw new Error(
        `our router's reference response for ${source.responseKey} is ${reference.status}: ${reference.body.slice(0, 300)}`,
      );
    }
    const stored = await fetch(
      `http://127.0.0.1:${PORTS.bareHttp}/__bench/response/${encodeURIComponent(source.responseKey)}`,
      { method: 'PUT', body: JSON.stringify(reference) },
    );
    if (stored.status !== 204)
      throw new Error(`bare http refused the ${source.responseKey} response`);
    sizes[source.responseKey] = Buffer.byteLength(reference.body);
  }
  return sizes;
}

/** One request per source through a target: 200, no GraphQL errors, about the reference's size. */
async function sampleCheck(
  url: string,
  sources: readonly RequestSource[],
  reference: Readonly<Record<string, number>>,
): Promise<SampleCheck> {
  let worst: SampleCheck = { ok: true, status: 200, bytes: 0 };
  for (const source of sources) {
    const response = await post(url, source);
    const bytes = Buffer.byteLength(response.body);
    const expected = reference[source.responseKey] ?? bytes;
    const hasErrors = response.body.includes('"errors":[');
    const sizeOff = Math.abs(bytes - expected) > 0.2 * expected;
    if (response.status !== 200 || hasErrors) {
      return {
        ok: false,
        status: response.status,
        bytes,
        note: `${source.responseKey}: ${response.body.slice(0, 300)}`,
      };
    }
    if (sizeOff && worst.ok) {
      worst = {
        ok: true,
        status: 200,
        bytes,
        note: `${source.responseKey}: ${bytes} bytes vs ${expected} from our router`,
      };
    } else if (worst.ok && !worst.note) {
      worst = { ok: true, status: 200, bytes };
    }
  }
  return worst;
}

/** A router's operations listener (ROUTER_OPS_PORT, set by routerSpec): its /metrics. */
function routerOpsUrlOf(router: Service): string {
  const port = router.spec.env['ROUTER_OPS_PORT'];
  if (!port) throw new Error(`${router.spec.name}: no ROUTER_OPS_PORT, so no /metrics to read`);
  return `http://127.0.0.1:${port}`;
}

async function measureRun(
  scenario: string,
  target: TargetId,
  endpoint: TargetEndpoint,
  connections: number,
  sources: readonly RequestSource[],
  previous: { readonly settledSnapshot?: Snapshot; readonly maxLatencyMs: number },
  seconds: number = settings.duration,
): Promise<{ run: RunResult; settledSnapshot: Snapshot }> {
  const routerMetrics = isRouterTarget(target) ? [routerOpsUrlOf(endpoint.service)] : [];
  const snapshot = async (): Promise<Snapshot> => {
    const [router, subgraphs] = await Promise.all([
      scrapeAll(routerMetrics),
      scrapeAll(endpoint.subgraphMetrics),
    ]);
    return { router, subgraphs };
  };
  const activity = (taken: Snapshot) =>
    totalOf(taken.router, 'fleetgraph_router_requests_total') +
    totalOf(taken.subgraphs, endpoint.subgraphRequestCounter || 'none');
  // Requests still in flight when a run (or the warm-up) ended go on executing and fetching
  // after it: a snapshot is taken once they have had time to finish and the counters stopped
  // moving, so every request is counted whole, on one side of the run. The previous
  // run's settled snapshot is this run's starting point (nothing runs in between).
  const quietMs = (maxLatencyMs: number) => Math.min(3000, maxLatencyMs * 1.1);
  const { router: routerBefore, subgraphs: subgraphsBefore } =
    previous.settledSnapshot ?? (await settled(snapshot, activity, quietMs(previous.maxLatencyMs)));
  const sampler = new ResourceSampler({
    target: [endpoint.service.pid],
    subgraphs: endpoint.subgraphPids,
    cassandra: DATASTORE_PIDS.cassandra,
    redis: DATASTORE_PIDS.redis,
  });
  const cpuBefore = process.cpuUsage();
  sampler.start();
  const load = await runLoad({
    url: `${endpoint.service.baseUrl}/graphql`,
    connections,
    seconds,
    sources,
  });
  const resources = sampler.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const settledSnapshot = await settled(snapshot, activity, quietMs(load.latencyMs.max));
  const { router: routerAfter, subgraphs: subgraphsAfter } = settledSnapshot;
  const delta = (before: Samples[], after: Samples[], name: string) =>
    totalOf(after, name) - totalOf(before, name);
  // Our router counts executions (and cache hits answer without one); a request cut off before
  // its body was read never executes, so `sent` would overcount for it. Other targets: sent.
  const executed = isRouterTarget(target)
    ? delta(routerBefore, routerAfter, 'fleetgraph_router_requests_total') +
      delta(routerBefore, routerAfter, 'fleetgraph_router_cache_hits_total')
    : load.sent;
  const denominator = executed > 0 ? executed : load.sent;
  const perRequest = (value: number | null) =>
    value === null || denominator === 0 ? null : round(value / denominator, 3);
  const hasSubgraphs = endpoint.subgraphMetrics.length > 0;
  const cassandraCounted = endpoint.subgraphRequestCounter === 'fleetgraph_graphql_requests_total';
  const hits = delta(routerBefore, routerAfter, 'fleetgraph_router_cache_hits_total');
  const misses = delta(routerBefore, routerAfter, 'fleetgraph_router_cache_misses_total');
  const result: RunResult = {
    target,
    load,
    perRequest: {
      routerSubgraphFetches: isRouterTarget(target)
        ? perRequest(delta(routerBefore, routerAfter, 'fleetgraph_router_subgraph_fetches_total'))
        : null,
      subgraphRequests: hasSubgraphs
        ? perRequest(delta(subgraphsBefore, subgraphsAfter, endpoint.subgraphRequestCounter))
        : null,
      cassandraStatements:
        hasSubgraphs && cassandraCounted
          ? perRequest(
              delta(subgraphsBefore, subgraphsAfter, 'fleetgraph_cassandra_statements_total'),
            )
          : null,
      loaderBatches:
        hasSubgraphs && cassandraCounted
          ? perRequest(
              delta(subgraphsBefore, subgraphsAfter, 'fleetgraph_dataloader_batches_total'),
            )
          : null,
    },
    cache:
      target === 'router-cache'
        ? { hits, misses, hitRatio: hits + misses > 0 ? round(hits / (hits + misses), 3) : 0 }
        : null,
    resources: {
      target: resources['target']!,
      subgraphs: hasSubgraphs ? resources['subgraphs']! : null,
      cassandra: DATASTORE_PIDS.cassandra.length ? resources['cassandra']! : null,
      redis: DATASTORE_PIDS.redis.length ? resources['redis']! : null,
      loadGenerator: { cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2) },
    },
  };
  log(
    `${scenario} · ${target} · ${connections} conns: ${load.requestsPerSecond.toFixed(0)} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms, errors ${load.errors.total}` +
      (result.perRequest.routerSubgraphFetches !== null
        ? `, fetches/req ${result.perRequest.routerSubgraphFetches}`
        : '') +
      (result.cache ? `, cache hits ${(result.cache.hitRatio * 100).toFixed(0)}%` : ''),
  );
  return { run: result, settledSnapshot };
}

/**
 * The round with the median requests/s (the lower middle for an even count), carrying every
 * round's requests/s so the spread is on record.
 */
function medianRun(rounds: readonly RunResult[]): RunResult | undefined {
  if (rounds.length === 0) return undefined;
  const sorted = [...rounds].sort((a, b) => a.load.requestsPerSecond - b.load.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...median, roundsRequestsPerSecond: rounds.map((r) => r.load.requestsPerSecond) };
}

/**
 * Waits `drainMs` (long enough for the requests in flight at the end of a run to finish: they
 * started before the end and take at most about the slowest latency seen), then takes
 * snapshots 300 ms apart until `key` stops changing (at most 10 s); returns the last.
 */
async function settled<T>(
  take: () => Promise<T>,
  key: (snapshot: T) => number,
  drainMs: number,
): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  let previous = await take();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = await take();
    if (key(current) === key(previous)) return current;
    previous = current;
  }
  return previous;
}

async function runScenario(
  scenario: Scenario,
  referenceUrl: string,
  endpoints: Partial<Record<TargetId, TargetEndpoint>>,
  extra: { fetchesPerOperation?: () => Promise<number> } = {},
): Promise<ScenarioResult> {
  const failures: string[] = [];
  const runs: RunResult[] = [];
  const sampleChecks: Partial<Record<TargetId, SampleCheck>> = {};
  let responseBytes: Record<string, number> = {};
  let fetchesPerOperation: number | undefined;
  log(`scenario ${scenario.id}: ${scenario.title}`);
  try {
    responseBytes = await recordReferenceResponses(referenceUrl, scenario.sources);
    if (extra.fetchesPerOperation) fetchesPerOperation = await extra.fetchesPerOperation();
  } catch (error) {
    failures.push((error as Error).message);
    return { ...scenario, responseBytes, sampleChecks, runs, failures };
  }
  // Data warm-up (not recorded): the targets run one after another, so without it the first
  // one measured pays for a cold Cassandra (page cache, key cache) and the later ones do not.
  const first = scenario.targets.map((t) => endpoints[t]).find((e) => e !== undefined);
  if (first && settings.dataWarmup > 0) {
    await runLoad({
      url: `${first.service.baseUrl}/graphql`,
      connections: 16,
      seconds: settings.dataWarmup,
      sources: scenario.sources,
    }).catch(() => undefined);
  }
  // Sample check and warm-up per target, then the measured runs interleaved: for each
  // connection count, `rounds` rounds in which every target runs once (in a rotated order),
  // and each target's median round is reported. On a shared 2-core machine the background
  // load drifts over minutes; run back to back, whichever target ran during a busy stretch
  // looked slow (ratios swung by 2x between runs). Interleaved, every target sees the same
  // drift, and the median drops a round that hit a burst.
  const ready: TargetId[] = [];
  const runSeconds = new Map<TargetId, number>();
  for (const target of scenario.targets) {
    const endpoint = endpoints[target];
    if (!endpoint || (settings.targets && !settings.targets.includes(target))) continue;
    try {
      const url = `${endpoint.service.baseUrl}/graphql`;
      const check = await sampleCheck(url, scenario.sources, responseBytes);
      sampleChecks[target] = check;
      if (!check.ok) {
        failures.push(`${target}: sample request failed (${check.status}): ${check.note ?? ''}`);
        continue;
      }
      // Warm-up (not recorded): JIT, connection pools, prepared statements, cache policies.
      const warm = await runLoad({
        url,
        connections: 16,
        seconds: settings.warmup,
        sources: scenario.sources,
      });
      runSeconds.set(target, runSecondsFor(warm.requestsPerSecond));
      ready.push(target);
    } catch (error) {
      failures.push(`${target}: ${(error as Error).message}`);
    }
  }
  for (const connections of settings.connections) {
    const rounds = new Map<TargetId, RunResult[]>(ready.map((t) => [t, []]));
    for (let round = 0; round < settings.rounds; round++) {
      const order = ready.map((_, i) => ready[(i + round) % ready.length]!);
      for (const target of order) {
        try {
          // The previous run (of any target) settled its counters before returning, so this
          // run's starting snapshot needs no drain wait.
          const measured = await measureRun(
            scenario.id,
            target,
            endpoints[target]!,
            connections,
            scenario.sources,
            { maxLatencyMs: 0 },
            runSeconds.get(target),
          );
          rounds.get(target)!.push(measured.run);
        } catch (error) {
          failures.push(`${target} (${connections} conns): ${(error as Error).message}`);
        }
      }
    }
    for (const target of ready) {
      const median = medianRun(rounds.get(target)!);
      if (median) runs.push(median);
    }
  }
  return {
    id: scenario.id,
    title: scenario.title,
    description: scenario.description,
    targets: scenario.targets,
    responseBytes,
    sampleChecks,
    ...(fetchesPerOperation !== undefined ? { fetchesPerOperation } : {}),
    runs,
    failures,
  };
}

async function realStack(tokens: TokenPool, keys: PartnerKeys): Promise<ScenarioResult[]> {
  const scenarios = realStackScenarios({ scale: settings.seed, tokens, partner: keys }).filter(
    (scenario) => wanted(scenario.id),
  );
  if (scenarios.length === 0) return [];
  const group = newGroup();
  const ks = settings.keyspace;
  const needsNaive = scenarios.some((s) => s.targets.includes('router-naive'));
  const urls = subgraphUrls(PORTS.subgraphs);
  // All at once: the routers and the gateway read the supergraph from a file and do not need
  // the subgraphs to start, and start-up is mostly module loading.
  log(
    'starting the subgraphs (batched on 5001-5003, naive on 5011-5013), routers, bare gateway and bare http',
  );
  const [batched, naive, router, routerCache, bareGateway, routerNaive, bareHttp, routerStock] =
    await Promise.all([
      Promise.all(subgraphSpecs(ks, PORTS.subgraphs, 'batched').map((spec) => group.start(spec))),
      needsNaive
        ? Promise.all(
            subgraphSpecs(ks, PORTS.naiveSubgraphs, 'naive').map((spec) => group.start(spec)),
          )
        : Promise.resolve([]),
      group.start(
        routerSpec({
          name: 'router',
          keyspace: ks,
          port: PORTS.router,
          subgraphUrls: urls,
          responseCache: false,
        }),
      ),
      group.start(
        routerSpec({
          name: 'router-cache',
          keyspace: ks,
          port: PORTS.routerCache,
          subgraphUrls: urls,
          responseCache: true,
        }),
      ),
      group.start(
        bareGatewaySpec({
          name: 'bare-gateway',
          keyspace: ks,
          port: PORTS.bareGateway,
          subgraphUrls: urls,
          partnerIdentities: keys.identities,
        }),
      ),
      needsNaive
        ? group.start(
            routerSpec({
              name: 'router-naive',
              keyspace: ks,
              port: PORTS.routerNaive,
              subgraphUrls: subgraphUrls(PORTS.naiveSubgraphs),
              responseCache: false,
            }),
          )
        : Promise.resolve(undefined),
      ensureBareHttp(),
      // Side by side with `router`: the same router running plans with the stock executor.
      group.start(
        routerSpec({
          name: 'router-stock-executor',
          keyspace: ks,
          port: PORTS.routerStockExecutor,
          subgraphUrls: urls,
          responseCache: false,
          extraEnv: { QUERY_PLAN_EXECUTOR: 'gateway' },
        }),
      ),
    ]);
  const onSubgraphs = (service: Service, subgraphs: Service[]): TargetEndpoint => ({
    service,
    subgraphMetrics: subgraphs.map((s) => s.baseUrl),
    subgraphPids: subgraphs.map((s) => s.pid),
    subgraphRequestCounter: 'fleetgraph_graphql_requests_total',
  });
  const endpoints: Partial<Record<TargetId, TargetEndpoint>> = {
    router: onSubgraphs(router, batched),
    'router-cache': onSubgraphs(routerCache, batched),
    'router-stock-executor': onSubgraphs(routerStock, batched),
    'bare-gateway': onSubgraphs(bareGateway, batched),
    'bare-http': {
      service: bareHttp,
      subgraphMetrics: [],
      subgraphPids: [],
      subgraphRequestCounter: '',
    },
    ...(routerNaive ? { 'router-naive': onSubgraphs(routerNaive, naive) } : {}),
  };
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    results.push(await runScenario(scenario, `${router.baseUrl}/graphql`, endpoints));
  }
  await group.stopAll();
  return results;
}

/**
 * Router-bound callers: 64 users, each sending many requests, as a console's users do. Our
 * routers check every token's revocation (tokens without `sid` by their user's "issued before"
 * mark, docs/security.md 6b), cached per user for SESSION_CHECK_CACHE_SECONDS; the real-stack
 * pool's 20,000 one-request users would make every request pay that check's subgraph fetch,
 * which the bare gateway does not do, and the scenario measures the router's own overhead.
 */
const ROUTER_BOUND_USERS = 64;

async function routerBound(): Promise<ScenarioResult[]> {
  if (!wanted('router-bound')) return [];
  const group = newGroup();
  const ks = settings.keyspace;
  const tokens = await mintTokenPool(
    (await benchIssuer()).mint,
    seedIds.organization(0),
    ROUTER_BOUND_USERS,
  );
  const supergraphPath = await writeRouterBoundSupergraph(ROUTER_BOUND_PORTS);
  const urls = Object.entries(routerBoundUrls(ROUTER_BOUND_PORTS))
    .map(([name, url]) => `${name}=${url}`)
    .join(',');
  // Only our routers ask the sessions subgraph (token revocation); it is not in the supergraph.
  const routerUrls = `${urls},sessions=http://127.0.0.1:${PORTS.routerBound.sessions}/graphql`;
  const [sessionsSpec] = subgraphSpecs(
    ks,
    { ...PORTS.subgraphs, sessions: PORTS.routerBound.sessions },
    'batched',
  ).filter((spec) => spec.name === 'sessions');
  log('router-bound: starting the in-memory subgraphs (5021-5024), sessions, routers, gateway');
  await group.start(sessionsSpec!);
  const [subgraphs, router, routerCache, bareGateway, routerStockExecutor] = await Promise.all([
    group.start(routerBoundSubgraphsSpec(ROUTER_BOUND_PORTS)),
    group.start(
      routerSpec({
        name: 'routerbound-router',
        keyspace: ks,
        port: PORTS.routerBound.router,
        subgraphUrls: routerUrls,
        responseCache: false,
        supergraphPath,
        extraEnv: ROUTER_BOUND_LIMITS,
      }),
    ),
    group.start(
      routerSpec({
        name: 'routerbound-router-cache',
        keyspace: ks,
        port: PORTS.routerBound.routerCache,
        subgraphUrls: routerUrls,
        responseCache: true,
        supergraphPath,
        extraEnv: ROUTER_BOUND_LIMITS,
      }),
    ),
    group.start(
      bareGatewaySpec({
        name: 'routerbound-bare-gateway',
        keyspace: ks,
        port: PORTS.routerBound.bareGateway,
        subgraphUrls: urls,
        supergraphPath,
      }),
    ),
    // Side by side with `router`: the same router running plans with the stock executor.
    group.start(
      routerSpec({
        name: 'routerbound-router-stock-executor',
        keyspace: ks,
        port: PORTS.routerBound.routerStockExecutor,
        subgraphUrls: routerUrls,
        responseCache: false,
        supergraphPath,
        extraEnv: { ...ROUTER_BOUND_LIMITS, QUERY_PLAN_EXECUTOR: 'gateway' },
      }),
    ),
  ]);
  const bareHttpService = await ensureBareHttp();
  const endpoint = (service: Service): TargetEndpoint => ({
    service,
    subgraphMetrics: [subgraphs.baseUrl],
    subgraphPids: [subgraphs.pid],
    subgraphRequestCounter: 'routerbound_requests_total',
  });
  const body = JSON.stringify({
    query: readFileSync(join(REPO_ROOT, 'bench/routerbound/operation.graphql'), 'utf8'),
    operationName: 'RouterBound',
  });
  const scenario: Scenario = {
    id: 'router-bound',
    title: 'Router-bound: 16 fetches, in-memory subgraphs',
    description:
      'A nested operation hopping between four in-memory @apollo/subgraph servers (catalog, inventory, pricing, reviews) at every level; subgraph responses are memoised, so the routers are the bottleneck. Our router runs with authentication, rate limiting, operation limits (depth, cost and token limits raised for this operation) and metrics on.',
    targets: ['router', 'router-stock-executor', 'router-cache', 'bare-gateway', 'bare-http'],
    sources: [
      {
        responseKey: 'router-bound',
        next: () => ({ headers: { authorization: `Bearer ${tokens.next()}` }, body }),
      },
    ],
  };
  const result = await runScenario(
    scenario,
    `${router.baseUrl}/graphql`,
    {
      router: endpoint(router),
      'router-cache': endpoint(routerCache),
      'router-stock-executor': endpoint(routerStockExecutor),
      'bare-gateway': endpoint(bareGateway),
      'bare-http': {
        service: bareHttpService,
        subgraphMetrics: [],
        subgraphPids: [],
        subgraphRequestCounter: '',
      },
    },
    {
      fetchesPerOperation: async () => {
        const count = async () =>
          totalOf(await scrapeAll([subgraphs.baseUrl]), 'routerbound_requests_total');
        const before = await count();
        await post(`${router.baseUrl}/graphql`, scenario.sources[0]!);
        const fetches = (await count()) - before;
        if (fetches < 15)
          throw new Error(`the router-bound operation made ${fetches} subgraph fetches, not ≥ 15`);
        return fetches;
      },
    },
  );
  await group.stopAll();
  return [result];
}

/** A run's length for a target answering `requestsPerSecond` (see settings.minResponses). */
function runSecondsFor(requestsPerSecond: number): number {
  if (!(requestsPerSecond > 0)) return settings.maxRunSeconds;
  const wanted = Math.ceil(settings.minResponses / requestsPerSecond);
  return Math.min(settings.maxRunSeconds, Math.max(settings.duration, wanted));
}

async function liveFleet(tokens: TokenPool): Promise<ScenarioResult[]> {
  if (!wanted('live-fleet')) return [];
  const result = await runLiveFleet({
    settings: {
      ...settings.live,
      rounds: settings.rounds,
      warmupSeconds: settings.warmup,
      dataWarmupSeconds: settings.dataWarmup,
      scale: settings.seed,
      keyspace: settings.keyspace,
    },
    tokens,
    group: newGroup(),
    log,
    datastorePids: DATASTORE_PIDS,
  });
  return [result];
}

async function fanOut(tokens: TokenPool): Promise<ScenarioResult[]> {
  if (!wanted('fan-out')) return [];
  const result = await runFanOut({
    settings: {
      ...settings.fanOut,
      warmupSeconds: settings.warmup,
      scale: settings.seed,
      keyspace: settings.keyspace,
    },
    tokens,
    group: newGroup(),
    log,
    datastorePids: DATASTORE_PIDS,
  });
  return [result];
}

let bareHttpShared: Service | undefined;
async function ensureBareHttp(): Promise<Service> {
  bareHttpShared ??= await newGroup().start(bareHttpSpec());
  return bareHttpShared;
}

async function main(): Promise<void> {
  const started = performance.now();
  // Targets per scenario (see scenarios.ts and routerBound below), for the time estimate.
  const targetsPerScenario: Record<string, number> = {
    dashboard: 6,
    'robot-detail': 5,
    'user-profile': 5,
    'partner-batch': 5,
    'write-mix': 4,
    'router-bound': 5,
  };
  const targetRuns = Object.entries(targetsPerScenario)
    .filter(([id]) => wanted(id))
    .reduce((sum, [, n]) => sum + n, 0);
  const runsPlanned = targetRuns * settings.connections.length * settings.rounds;
  // Measured overheads on the 2-core machine: ~1 s per run (settling the counters), ~1.5 s
  // per target besides its warm-up (sample request, first settle), ~30 s of process start-up.
  const liveVariants = wanted('live-fleet') ? settings.live.variants.length : 0;
  // Fan-out: start-up, warm-up, writes only, opening the subscribers, the window and its
  // drain, polling with its warm-up.
  const fanOutSeconds = wanted('fan-out')
    ? 15 +
      settings.warmup +
      settings.fanOut.writesOnlySeconds +
      settings.fanOut.subscribers / 100 +
      settings.fanOut.deliveryWarmupSeconds +
      5 +
      settings.fanOut.seconds +
      3 +
      settings.fanOut.pollSeconds +
      2
    : 0;
  const estimate =
    fanOutSeconds +
    runsPlanned * (settings.duration + 1) +
    targetRuns * (settings.warmup + 1.5) +
    30 +
    (liveVariants
      ? liveVariants * settings.rounds * (settings.live.seconds + 1) +
        liveVariants * settings.warmup +
        settings.dataWarmup +
        20
      : 0);
  log(
    `${settings.duration} s per run, ${settings.connections.join('/')} connections, seed ${settings.seed} in keyspace ${settings.keyspace}: ${runsPlanned} runs` +
      (liveVariants
        ? ` + ${liveVariants * settings.rounds} live-fleet runs of ${settings.live.seconds} s`
        : '') +
      (fanOutSeconds
        ? ` + fan-out (${settings.fanOut.subscribers} subscribers, ${settings.fanOut.seconds} s)`
        : '') +
      `, about ${Math.round(estimate / 60)} min. Logs: ${LOG_DIR}`,
  );
  const config = loadToolConfig({ ...commonEnv(settings.keyspace) });
  const unbound = await connectCassandra(config, { withKeyspace: false });
  const seed = await ensureData(unbound, settings.keyspace, settings.seed).finally(() =>
    unbound.shutdown(),
  );
  log(
    seed.loaded
      ? `loaded the ${settings.seed} seed into ${settings.keyspace} in ${seed.seconds} s`
      : `the ${settings.seed} seed is in place in ${settings.keyspace}`,
  );
  cassandra = await connectCassandra(config);
  const organizationId = seedIds.organization(0);
  const mintStarted = performance.now();
  const tokens = await mintTokenPool(
    (await benchIssuer()).mint,
    organizationId,
    settings.identities,
  );
  log(
    `minted ${tokens.size} distinct user tokens in ${Math.round(performance.now() - mintStarted)} ms`,
  );
  partner = await createPartnerKeys(
    cassandra,
    organizationId,
    PARTNER_RATE_CLASS,
    settings.partnerKeys,
  );

  const scenarios = [
    ...(await realStack(tokens, partner)),
    ...(await routerBound()),
    ...(await liveFleet(tokens)),
    ...(await fanOut(tokens)),
  ];
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    wallSeconds: round((performance.now() - started) / 1000, 1),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: round(totalmem() / 1024 ** 3, 1),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    settings: {
      durationSeconds: settings.duration,
      minResponses: settings.minResponses,
      rounds: settings.rounds,
      warmupSeconds: settings.warmup,
      connections: settings.connections.join('/'),
      seed: settings.seed,
      keyspace: settings.keyspace,
      identities: settings.identities,
      identitiesHandedOut: tokens.handedOut,
      partnerKeys: settings.partnerKeys,
      environment: 'FLEETGRAPH_ENV=production, ES256 JWTs verified through a JWKS',
      ...(liveVariants
        ? {
            liveReaders: settings.live.readers,
            liveWritesPerSecond: settings.live.writesPerSecond,
            liveDurationSeconds: settings.live.seconds,
            liveVariants: settings.live.variants.join(','),
            liveIdentities: settings.live.identities ?? 'one per request',
          }
        : {}),
      ...(fanOutSeconds
        ? {
            fanOutSubscribers: settings.fanOut.subscribers,
            fanOutUsers: settings.fanOut.users,
            fanOutEventsPerSecond: settings.fanOut.eventsPerSecond,
            fanOutSeconds: settings.fanOut.seconds,
            fanOutPollSeconds: settings.fanOut.pollSeconds,
            fanOutPollConnections: settings.fanOut.pollConnections,
          }
        : {}),
    },
    seed: { scale: settings.seed, seconds: seed.seconds },
    scenarios,
    failures: scenarios.flatMap((s) => s.failures.map((f) => `${s.id}: ${f}`)),
  };
  await writeFormatted(join(RESULTS_DIR, 'results.json'), JSON.stringify(results));
  writePlain(join(RESULTS_DIR, 'results.md'), renderMarkdown(results));
  writePlain(join(RESULTS_DIR, 'chart.svg'), renderChart(results, 16));
  log(
    `wrote ${RESULTS_LABEL}/results.json, results.md and chart.svg in ${Math.round(results.wallSeconds)} s` +
      (results.failures.length ? `; ${results.failures.length} failure(s):` : ''),
  );
  for (const failure of results.failures) log(`  - ${failure}`);
}

/** `--render`: rewrites results.md and chart.svg from results.json (no runs). */
function renderOnly(): void {
  const results = JSON.parse(
    readFileSync(join(RESULTS_DIR, 'results.json'), 'utf8'),
  ) as BenchResults;
  writePlain(join(RESULTS_DIR, 'results.md'), renderMarkdown(results));
  writePlain(join(RESULTS_DIR, 'chart.svg'), renderChart(results, 16));
  log(`rewrote ${RESULTS_LABEL}/results.md and chart.svg from results.json`);
}

try {
  if (process.argv.includes('--render')) renderOnly();
  else await main();
} catch (error) {
  // After Ctrl-C the stopped servers make whatever was waiting on them fail: not news.
  if (!cleaningUp) console.error(`[bench] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
