/**
 * Soak: SOAK_SECONDS (default 600) of mixed read/write load through the whole stack — the three
 * subgraphs and the router as separate processes (test/support/processes.ts) over the real
 * Cassandra node and Redis — sampling each process's RSS (and its heap after a full GC), then
 * judging, over the second half of the run (the first is warm-up):
 * - errors (non-2xx, transport errors, timeouts, GraphQL errors in a 2xx body) must be 0;
 * - the RSS slope of the router and of each subgraph (MB per minute, least squares) must stay
 *   within {@link RSS_BOUND_MB_PER_MIN}, and the slope of its heap after GC within
 *   {@link HEAP_BOUND_MB_PER_MIN} — "within" meaning not above it by more than two standard
 *   errors of the slope.
 * Throughput and latency per minute are reported to show whether they stay steady. Results go to
 * test/soak/results.json (SOAK_RESULTS overrides the path); exit code 1 when a check fails.
 * Run: `node --import tsx test/soak/soak.ts` (see test/soak/README.md).
 *
 * @remarks
 * The load is the benchmark's (bench/lib/load.ts: autocannon, every request with its own JWT),
 * run as one autocannon run per minute so that each minute has its own figures, at a fixed
 * overall rate (SOAK_RATE). Two full runs without the choices below showed why they are needed:
 * - as fast as answered, throughput swung between 95 and 384 requests/s as other work on the
 *   shared machine came and went, and RSS followed the allocation rate — a fixed offered load
 *   keeps the working set steady, and whether the stack keeps up with it (and at which latency)
 *   becomes the steadiness figure;
 * - at a fixed rate the router's RSS still ran a ~200 MB sawtooth (old generation growing
 *   ~16 MB/min between major collections, period ~2 min), so a 5-minute least-squares slope of
 *   it said where in that cycle the run ended: +6.4 MB/min with no growth of the troughs to
 *   speak of. So every SOAK_HEAP_SECONDS (30) the soak asks each process, through its inspector
 *   (test/soak/remoteHeap.ts; loopback, this run only), for a full GC and reads the heap after
 *   it: what the process retains, which is what a leak grows. The collections also keep RSS
 *   close to the working set, which makes its slope meaningful. SOAK_HEAP_SECONDS=0 turns this
 *   off (RSS only, judged as is).
 *
 * Data: the demo seed's organization 2, which no test reads — reads of its two fleets and users,
 * writes to robots 40–99 of its second fleet (test/faults/shutdown-drain.test.ts writes robots
 * 0–31 and 118–119 there). The queries are PUBLIC-scope (shared per organization and roles,
 * cached by the router's response cache and purged by the writes), so the caches reach a steady
 * size: PRIVATE answers would be stored once per caller, and every caller here is new.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeFormatted } from '../../bench/lib/files.js';
import { mintTokenPool } from '../../bench/lib/identities.js';
import { runLoad, type LoadFigures, type RequestSource } from '../../bench/lib/load.js';
import { REPO_ROOT, tail } from '../../bench/lib/processes.js';
import { round, rssKb } from '../../bench/lib/procstat.js';
import { benchIssuer } from '../../bench/lib/stack.js';
import { seedIds } from '../../scripts/seed-ids.js';
import {
  inspectorPortOf,
  startSubgraphProcesses,
  type StackProcesses,
} from '../support/processes.js';
import { cassandraForTest, redisForTest } from '../support/stack.js';
import { RemoteHeap } from './remoteHeap.js';

const SECONDS = positiveInt('SOAK_SECONDS', 600);
const CONNECTIONS = positiveInt('SOAK_CONNECTIONS', 16);
/**
 * Requests per second offered by all connections together: moderate (the soak's mix ran at
 * 95–384/s as fast as answered here), and high enough that the router's verified-JWT cache
 * (20,000 tokens, one per request) is full before the second half of a 10-minute run begins.
 */
const RATE = positiveInt('SOAK_RATE', 70);
const SAMPLE_SECONDS = positiveInt('SOAK_SAMPLE_SECONDS', 5);
const HEAP_SECONDS = nonNegativeInt('SOAK_HEAP_SECONDS', 30);
const RESULTS_PATH = process.env['SOAK_RESULTS'] ?? join(REPO_ROOT, 'test/soak/results.json');

/**
 * The largest growth, in MB per minute over the second half, that does not count as a leak:
 * of RSS, and of the heap after a full GC.
 *
 * @remarks
 * Every cache in these processes is bounded (the router's verified-JWT LRU holds 20,000 tokens,
 * ~8 MB, full after 20,000 requests — 286 s at 70 requests/s; its local response cache by size,
 * here a few hundred entries; its rate-limit counts one minute's callers; DataLoaders live per
 * request), so after warm-up both should stay flat but for GC noise: a few MB of RSS either way,
 * well under 1 MB of heap after a full GC. A leak under this load is larger: retaining 1 KB per
 * request is 4.2 MB/min in the router at 70 requests/s, and 1 KB per fetch as much in a
 * subgraph; 0.25 KB per request is 1 MB/min.
 */
const RSS_BOUND_MB_PER_MIN = 2;
const HEAP_BOUND_MB_PER_MIN = 1;

const ORGANIZATION = 2;
const READ_FLEETS = [0, 1];
const WRITE_FLEET = 1;
const WRITE_ROBOTS = Array.from({ length: 60 }, (_, i) =>
  seedIds.robot(ORGANIZATION, WRITE_FLEET, 40 + i),
);
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'] as const;
const DAY_MS = 86_400_000;

const DASHBOARD = readFileSync(
  join(REPO_ROOT, 'schema/operations/fleet-console/FleetDashboard.graphql'),
  'utf8',
);
const ROBOT_DETAIL = `query SoakRobotDetail($id: ID!, $from: DateTime!, $to: DateTime!) {
  robot(id: $id) {
    id serial status batteryPercent lastHeartbeatAt
    fleet { id name }
    operator { id displayName }
    currentMission { id status }
    telemetry(from: $from, to: $to, limit: 20) { recordedAt temperatureC speedMps status }
  }
}`;
const USER_PROFILE = `query SoakUserProfile($id: ID!) {
  user(id: $id) { id displayName email organization { id name } activeSessionCount }
}`;
const UPDATE_STATUS = `mutation SoakUpdateStatus($robotId: ID!, $status: RobotStatus!, $battery: Float) {
  updateRobotStatus(robotId: $robotId, status: $status, batteryPercent: $battery) { id status batteryPercent }
}`;
const REPORT_TELEMETRY = `mutation SoakTelemetry($robotId: ID!, $samples: [TelemetrySampleInput!]!) {
  reportTelemetry(robotId: $robotId, samples: $samples) { accepted }
}`;

/**
 * Distinct JWTs, one per request, minted ahead in the background (bench/lib/identities.ts'
 * mintTokenPool, a chunk at a time) so that a run of any length never reuses one.
 */
class TokenStream {
  private readonly queue: string[][] = [];
  private head: string[] = [];
  private index = 0;
  private stopped = false;
  private last = '';
  reused = 0;
  handedOut = 0;
  private buffered = 0;

  constructor(
    private readonly organizationId: string,
    private readonly ahead: number,
  ) {}

  async start(): Promise<void> {
    await this.mint(this.ahead);
    void this.refill();
  }

  stop(): void {
    this.stopped = true;
  }

  next(): string {
    if (this.index >= this.head.length) {
      const chunk = this.queue.shift();
      if (!chunk) {
        this.reused++; // minting fell behind: counted and reported, never silent
        return this.last;
      }
      this.head = chunk;
      this.index = 0;
    }
    this.buffered--;
    this.handedOut++;
    this.last = this.head[this.index++]!;
    return this.last;
  }

  private async mint(count: number): Promise<void> {
    const pool = await mintTokenPool((await benchIssuer()).mint, this.organizationId, count);
    this.queue.push(Array.from({ length: count }, () => pool.next()));
    this.buffered += count;
  }

  private async refill(): Promise<void> {
    while (!this.stopped) {
      if (this.buffered < this.ahead) await this.mint(1000);
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function sources(tokens: TokenStream): RequestSource[] {
  const bearer = () => ({ authorization: `Bearer ${tokens.next()}` });
  const rotation = <T>(values: readonly T[]) => {
    let i = 0;
    return () => values[i++ % values.length]!;
  };
  const readRobots = READ_FLEETS.flatMap((fleet) =>
    Array.from({ length: 60 }, (_, r) => seedIds.robot(ORGANIZATION, fleet, 40 + r)),
  );
  const users = Array.from({ length: 12 }, (_, u) => seedIds.user(ORGANIZATION, u));
  // A fixed window (so a robot's request bytes, hence its cache key, stay the same) that covers
  // the seed's days and every sample this run writes.
  const to = new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS + DAY_MS).toISOString();
  const from = new Date(Date.parse(to) - 5 * DAY_MS).toISOString();
  const nextRobot = rotation(readRobots);
  const nextUser = rotation(users);
  const nextFleet = rotation(READ_FLEETS.map((f) => seedIds.fleet(ORGANIZATION, f)));
  const nextStatusRobot = rotation(WRITE_ROBOTS);
  const nextTelemetryRobot = rotation([...WRITE_ROBOTS].reverse());
  const nextStatus = rotation(STATUSES);
  let writes = 0;
  const json = (query: string, variables: Record<string, unknown>) =>
    JSON.stringify({ query, variables });
  return [
    {
      responseKey: 'dashboard',
      next: () => ({
        headers: bearer(),
        body: json(DASHBOARD, { fleetId: nextFleet(), first: 20 }),
      }),
    },
    {
      responseKey: 'robot-detail',
      next: () => ({ headers: bearer(), body: json(ROBOT_DETAIL, { id: nextRobot(), from, to }) }),
    },
    {
      responseKey: 'user-profile',
      next: () => ({ headers: bearer(), body: json(USER_PROFILE, { id: nextUser() }) }),
    },
    {
      responseKey: 'update-status',
      next: () => ({
        headers: bearer(),
        body: json(UPDATE_STATUS, {
          robotId: nextStatusRobot(),
          status: nextStatus(),
          battery: (writes++ % 1000) / 10,
        }),
      }),
    },
    {
      responseKey: 'report-telemetry',
      next: () => {
        const at = Date.now() - 1000;
        const samples = Array.from({ length: 5 }, (_, i) => ({
          recordedAt: new Date(at - i * 100).toISOString(),
          temperatureC: 20 + (writes % 30),
          speedMps: i / 2,
          status: 'ACTIVE',
        }));
        writes++;
        return {
          headers: bearer(),
          body: json(REPORT_TELEMETRY, { robotId: nextTelemetryRobot(), samples }),
        };
      },
    },
  ];
}

interface Series {
  readonly pid: number;
  /** [seconds since the load started, MB] */
  readonly samples: [number, number][];
}

/**
 * Least-squares slope of y over x (MB per second here) and its standard error. The error is
 * the ordinary one, which takes the residuals as independent; a GC sawtooth makes them run in
 * streaks, so it is a lower estimate — the check below errs towards passing a noisy series,
 * which is why the heap after GC, with little noise, is judged too.
 */
function fit(points: readonly [number, number][]): { slope: number; standardError: number } {
  const n = points.length;
  if (n < 3) return { slope: 0, standardError: 0 };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  if (sxx === 0) return { slope: 0, standardError: 0 };
  const slope = sxy / sxx;
  const residuals = points.reduce((s, [x, y]) => s + (y - my - slope * (x - mx)) ** 2, 0);
  return { slope, standardError: Math.sqrt(residuals / (n - 2) / sxx) };
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`[soak] ${name} must be a positive integer (got "${raw}")`);
    process.exit(64);
  }
  return value;
}

function nonNegativeInt(name: string, fallback: number): number {
  return process.env[name] === '0' ? 0 : positiveInt(name, fallback);
}

const startedAt = performance.now();
function log(message: string): void {
  console.log(`[soak +${Math.round((performance.now() - startedAt) / 1000)}s] ${message}`);
}

let stack: StackProcesses | undefined;
let tokens: TokenStream | undefined;
let sampler: NodeJS.Timeout | undefined;
const heaps: Record<string, RemoteHeap> = {};
let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    if (sampler) clearInterval(sampler);
    tokens?.stop();
    // Before the processes are asked to exit: node waits for an attached debugger to leave.
    for (const heap of Object.values(heaps)) heap.close();
    await stack?.stopAll();
  })();
  return cleaningUp;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n[soak] ${signal}: stopping everything this run started`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Redis's run id: it changes when the server restarts (other work shares this Redis). */
async function redisRunId(): Promise<string> {
  const redis = await redisForTest();
  try {
    return /run_id:(\w+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<number> {
  const redisAtStart = await redisRunId();
  const cassandra = await cassandraForTest();
  try {
    const marker = await cassandra.execute(
      'SELECT robot_id FROM robots_by_id WHERE robot_id = ?',
      [seedIds.robot(ORGANIZATION, WRITE_FLEET, 119)],
      { prepare: true },
    );
    if (marker.rowLength === 0)
      throw new Error('the demo seed is missing (npm run db:seed, or bash infra/up.sh)');
  } finally {
    await cassandra.shutdown();
  }

  log(
    `${SECONDS}s at ${CONNECTIONS} connections, ${RATE} requests/s, RSS every ${SAMPLE_SECONDS}s, ` +
      `${HEAP_SECONDS ? `heap after GC every ${HEAP_SECONDS}s` : 'no heap sampling'}; starting the stack`,
  );
  stack = await startSubgraphProcesses({ redisKeyPrefix: 'fgsoak:', inspect: HEAP_SECONDS > 0 });
  const router = await stack.startRouter('router-soak');
  const url = `${router.baseUrl}/graphql`;
  const services = { router, ...stack.subgraphs };
  if (HEAP_SECONDS > 0) {
    for (const [name, service] of Object.entries(services))
      heaps[name] = await RemoteHeap.connect(inspectorPortOf(service)!);
  }
  tokens = new TokenStream(seedIds.organization(ORGANIZATION), 10_000);
  await tokens.start();
  const mix = sources(tokens);

  const rss: Record<string, Series> = {};
  const heap: Record<string, Series> = {};
  for (const [name, service] of Object.entries(services)) {
    rss[name] = { pid: service.pid, samples: [] };
    heap[name] = { pid: service.pid, samples: [] };
  }
  const loadStarted = performance.now();
  const now = () => round((performance.now() - loadStarted) / 1000, 1);
  const sampleRss = () => {
    for (const series of Object.values(rss)) {
      try {
        series.samples.push([now(), round(rssKb(series.pid) / 1024, 1)]);
      } catch {
        // exited: the error figures will say why
      }
    }
  };
  sampleRss();
  sampler = setInterval(sampleRss, SAMPLE_SECONDS * 1000);
  // One process at a time (a full GC takes a core for a moment), never overlapping.
  let loadRunning = true;
  const sampleHeaps = async () => {
    while (loadRunning) {
      for (const [name, remote] of Object.entries(heaps)) {
        const bytes = await remote.usedAfterGc().catch((error: Error) => {
          // Detach at once: a process that is exiting waits for its debugger to leave.
          for (const session of Object.values(heaps)) session.close();
          throw new Error(`${name}: ${error.message}`);
        });
        heap[name]!.samples.push([now(), round(bytes / 1048576, 2)]);
      }
      const next = performance.now() + HEAP_SECONDS * 1000;
      while (loadRunning && performance.now() < next) await sleep(200);
    }
  };
  let heapError: Error | undefined;
  const heapSampling = (HEAP_SECONDS > 0 ? sampleHeaps() : Promise.resolve()).catch(
    (error: unknown) => {
      heapError = error as Error; // a process gone or unresponsive: fails the run below
    },
  );

  const minutes: (LoadFigures & { readonly minute: number })[] = [];
  try {
    for (let minute = 1; (minute - 1) * 60 < SECONDS; minute++) {
      const seconds = Math.min(60, SECONDS - (minute - 1) * 60);
      const figures = await runLoad({
        url,
        connections: CONNECTIONS,
        seconds,
        sources: mix,
        overallRate: RATE,
      });
      minutes.push({ minute, ...figures });
      const latest = (series: Record<string, Series>) =>
        Object.entries(series)
          .map(([name, s]) => `${name} ${s.samples.at(-1)?.[1] ?? '-'}`)
          .join(', ');
      const stalled = figures.requests === 0;
      log(
        `minute ${minute}: ${figures.requests} requests, ${figures.requestsPerSecond}/s, ` +
          `p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, errors ${figures.errors.total}` +
          `${figures.errors.sample ? ` (${figures.errors.sample})` : ''}; RSS MB ${latest(rss)}` +
          `${HEAP_SECONDS ? `; heap after GC MB ${latest(heap)}` : ''}`,
      );
      if (stalled) {
        log('no request was answered for a whole minute: stopping early');
        break;
      }
    }
  } finally {
    loadRunning = false;
    clearInterval(sampler);
  }
  await heapSampling;
  sampleRss();
  const redisRestarted = (await redisRunId().catch(() => 'unreachable')) !== redisAtStart;
  if (redisRestarted) log('Redis restarted (or went away) during the run');
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  tokens.stop();

  // Judge: errors, and growth over the second half.
  // autocannon counts timeouts among its (transport) errors, so `total` has them.
  const errors = minutes.reduce((sum, m) => sum + m.errors.total, 0);
  const secondHalfFrom = loadSeconds / 2;
  // A slope exceeds its bound when it does so beyond two standard errors (~95 %): the router's
  // RSS swings by ~100 MB within each 30-s GC cycle, a ±2–3 MB/min uncertainty on its slope.
  const judge = (series: Series, bound: number) => {
    const tail = series.samples.filter(([t]) => t >= secondHalfFrom);
    const { slope, standardError } = fit(tail);
    return {
      startMb: series.samples[0]?.[1] ?? 0,
      secondHalfStartMb: tail[0]?.[1] ?? 0,
      endMb: series.samples.at(-1)?.[1] ?? 0,
      peakMb: Math.max(...series.samples.map(([, mb]) => mb)),
      secondHalfSlopeMbPerMin: round(slope * 60, 3),
      slopeStandardErrorMbPerMin: round(standardError * 60, 3),
      boundMbPerMin: bound,
      withinBound: (slope - 2 * standardError) * 60 <= bound,
      samples: series.samples,
    };
  };
  const memory = Object.fromEntries(
    Object.keys(services).map((name) => [
      name,
      {
        pid: rss[name]!.pid,
        rss: judge(rss[name]!, RSS_BOUND_MB_PER_MIN),
        ...(HEAP_SECONDS ? { heapAfterGc: judge(heap[name]!, HEAP_BOUND_MB_PER_MIN) } : {}),
      },
    ]),
  );
  const rates = minutes.filter((m) => m.seconds >= 30).map((m) => m.requestsPerSecond);
  const mean = rates.reduce((s, r) => s + r, 0) / Math.max(1, rates.length);
  const deviation = Math.sqrt(
    rates.reduce((s, r) => s + (r - mean) ** 2, 0) / Math.max(1, rates.length),
  );
  const slopesOk = Object.values(memory).every(
    (m) => m.rss.withinBound && (m.heapAfterGc?.withinBound ?? true),
  );
  // Kept up: every full minute served at least 95 % of the offered rate.
  const keptUp = minutes
    .filter((m) => m.seconds >= 30)
    .every((m) => m.requestsPerSecond >= RATE * 0.95);
  if (heapError) log(`heap sampling failed: ${heapError.message}`);
  const passed = errors === 0 && slopesOk && tokens.reused === 0 && !heapError;

  const results = {
    about:
      'npm run soak (test/soak/soak.ts): mixed read/write load through router and subgraphs as separate processes; see test/soak/README.md',
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    },
    settings: {
      seconds: SECONDS,
      connections: CONNECTIONS,
      offeredRequestsPerSecond: RATE,
      rssSampleSeconds: SAMPLE_SECONDS,
      heapAfterGcSampleSeconds: HEAP_SECONDS,
      mix: mix.map((s) => s.responseKey),
      rssBoundMbPerMin: RSS_BOUND_MB_PER_MIN,
      heapBoundMbPerMin: HEAP_BOUND_MB_PER_MIN,
      responseCache: true,
    },
    passed,
    redisRestartedDuringRun: redisRestarted,
    checks: {
      errors,
      distinctTokens: tokens.handedOut - tokens.reused,
      reusedTokens: tokens.reused,
      slopesWithinBounds: slopesOk,
    },
    throughput: {
      totalRequests: minutes.reduce((s, m) => s + m.requests, 0),
      perMinute: minutes.map((m) => ({
        minute: m.minute,
        seconds: m.seconds,
        requests: m.requests,
        requestsPerSecond: m.requestsPerSecond,
        latencyMs: m.latencyMs,
        errors: m.errors,
      })),
      meanRequestsPerSecond: round(mean, 1),
      keptUpWithOfferedRate: keptUp,
      coefficientOfVariation: mean > 0 ? round(deviation / mean, 3) : 0,
    },
    memory,
  };
  // In the repository's format, so `npm run check:format` passes on the committed file.
  await writeFormatted(RESULTS_PATH, JSON.stringify(results, null, 2));

  log(
    `throughput per minute (requests/s): ${minutes.map((m) => m.requestsPerSecond).join(', ')} ` +
      `(offered ${RATE}, mean ${results.throughput.meanRequestsPerSecond}, CV ${results.throughput.coefficientOfVariation}` +
      `${keptUp ? '' : ', FELL BEHIND the offered rate'})`,
  );
  log(`errors: ${errors}; distinct JWTs ${results.checks.distinctTokens}, reused ${tokens.reused}`);
  const line = (label: string, m: ReturnType<typeof judge>) =>
    `${label} ${m.startMb} → ${m.secondHalfStartMb} (half-way) → ${m.endMb} MB, peak ${m.peakMb}, ` +
    `second-half slope ${m.secondHalfSlopeMbPerMin} ± ${m.slopeStandardErrorMbPerMin} MB/min ` +
    `(bound ${m.boundMbPerMin}) ${m.withinBound ? 'ok' : 'EXCEEDED'}`;
  for (const [name, m] of Object.entries(memory)) {
    log(
      `${name}: ${line('RSS', m.rss)}${m.heapAfterGc ? `; ${line('heap after GC', m.heapAfterGc)}` : ''}`,
    );
  }
  if (!passed) {
    for (const [name, service] of Object.entries(services))
      log(`end of ${name}'s log (${service.logFile}):\n${tail(service.logFile, 8)}`);
  }
  log(`${passed ? 'PASSED' : 'FAILED'}; results in ${RESULTS_PATH}`);
  return passed ? 0 : 1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(`[soak] failed: ${(error as Error).stack ?? String(error)}`);
    await cleanup();
    process.exit(1);
  });
