/**
 * `npm run bench:profile-live -- --label before|after|<name>`: CPU profiles of every process
 * serving the fleet dashboard under live load (bench/README.md, "Profiles under the live fleet").
 *
 * Starts its own router (response cache on) and three subgraphs on 5040-5043 (production
 * environment, keyspace BENCH_KEYSPACE, default fleetgraph_bench, migrated and seeded as the
 * bench does), each under `node --cpu-prof`; drives the live-fleet load (bench/livefleet/
 * traffic.ts: BENCH_LIVE_READERS readers of FleetDashboard on one fleet, default 8, and
 * BENCH_LIVE_WRITES_PER_SECOND writes into it, default 30, every read checked for staleness)
 * for BENCH_PROFILE_SECONDS (default 15) after BENCH_PROFILE_WARMUP seconds (default 5); records
 * the Cassandra node with Java Flight Recorder over the same window (bench/lib/jfr.ts) and every
 * process's CPU time from /proc. Writes bench/results/profiles-live/<label>/ (the profiles:
 * *.cpuprofile, cassandra.jfr, not committed) and adds the label to
 * bench/results/profile-live-top.md and .json (other labels kept).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { connectCassandra } from '../platform/cassandra/client.js';
import { loadToolConfig } from '../platform/config/load.js';
import { seedIds, type SeedScale } from '../scripts/seed-ids.js';
import { ensureData } from './lib/data.js';
import { mintTokenPool, type TokenPool } from './lib/identities.js';
import { startJfr, stopJfr, summariseJfr, waitForJfr } from './lib/jfr.js';
import {
  collectProfiles,
  PROFILE_LIVE_PORTS,
  startProfiledStack,
  type ProfiledService,
} from './lib/liveProfileStack.js';
import { killActiveCommands, LOG_DIR, ProcessGroup, REPO_ROOT } from './lib/processes.js';
import { findPids, ResourceSampler, round } from './lib/procstat.js';
import {
  writeLiveProfiles,
  type LiveProfileRecord,
  type ProcessProfile,
} from './lib/profileLiveReport.js';
import { scrape, sumOf, type Samples } from './lib/prometheus.js';
import { benchIssuer, commonEnv, ROUTER_OPS_PORT_OFFSET } from './lib/stack.js';
import { WriteLedger } from './livefleet/ledger.js';
import { liveFleetIndex } from './livefleet/scenario.js';
import { LiveAgents, readOnce, runTraffic, type TrafficFigures } from './livefleet/traffic.js';
import { DASHBOARD } from './scenarios.js';

const labelIndex = process.argv.indexOf('--label');
const label = labelIndex >= 0 ? (process.argv[labelIndex + 1] ?? '') : 'current';
if (!/^[\w.-]{1,40}$/.test(label)) {
  console.error(`--label must be a short name such as before or after (got "${label}")`);
  process.exit(2);
}
const settings = {
  seconds: Number(process.env.BENCH_PROFILE_SECONDS ?? 15),
  warmup: Number(process.env.BENCH_PROFILE_WARMUP ?? 5),
  readers: Number(process.env.BENCH_LIVE_READERS ?? 8),
  writesPerSecond: Number(process.env.BENCH_LIVE_WRITES_PER_SECOND ?? 30),
  identities: process.env.BENCH_LIVE_IDENTITIES
    ? Number(process.env.BENCH_LIVE_IDENTITIES)
    : undefined,
  keyspace: process.env.BENCH_KEYSPACE ?? 'fleetgraph_bench',
  scale: (process.env.BENCH_SEED ?? 'large') as SeedScale,
};
if (!(settings.seconds >= 2 && settings.seconds <= 300))
  throw new Error(`BENCH_PROFILE_SECONDS must be in [2, 300] (got ${settings.seconds})`);
const TOP_COUNT = 15;
const OUT_DIR = join(REPO_ROOT, 'bench/results/profiles-live', label);
const TOP_JSON = join(REPO_ROOT, 'bench/results/profile-live-top.json');
const TOP_MD = join(REPO_ROOT, 'bench/results/profile-live-top.md');
const JFR_NAME = `fg-profile-live-${process.pid}`;
const cassandraPids = findPids('org.apache.cassandra.service.CassandraDaemon');
const redisPids = (() => {
  const all = findPids('redis-server');
  const onPort = findPids('redis-server 127.0.0.1:6379').filter((pid) => all.includes(pid));
  return onPort.length ? onPort : all;
})();

const log = (message: string) => console.log(`[profile-live] ${message}`);
const group = new ProcessGroup();
let jfrRunning = false;
let stopping: Promise<void> | undefined;
const cleanup = () => {
  stopping ??= (async () => {
    killActiveCommands();
    if (jfrRunning && cassandraPids[0]) await stopJfr(cassandraPids[0], JFR_NAME);
    await group.stopAll();
  })();
  return stopping;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}
process.once('exit', () => group.killAllNow());

function commitOf(): string {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function prepare(): Promise<TokenPool> {
  const config = loadToolConfig({ ...commonEnv(settings.keyspace) });
  const unbound = await connectCassandra(config, { withKeyspace: false });
  const seed = await ensureData(unbound, settings.keyspace, settings.scale).finally(() =>
    unbound.shutdown(),
  );
  log(seed.loaded ? `seeded ${settings.keyspace} in ${seed.seconds} s` : 'the seed is in place');
  const reads = (settings.seconds + settings.warmup) * 200;
  const size =
    settings.identities ?? Math.min(20_000, Math.max(2_000, reads + settings.writesPerSecond * 60));
  return mintTokenPool((await benchIssuer()).mint, seedIds.organization(0), size);
}

interface Measured {
  readonly traffic: TrafficFigures;
  readonly resources: ReturnType<ResourceSampler['stop']>;
  readonly window: { readonly startUs: number; readonly endUs: number };
  readonly hitRatio: number | null;
  readonly jfr: { readonly file: string; readonly periodMs: number } | undefined;
  readonly loadAverage: readonly number[];
}

async function drive(services: readonly ProfiledService[], tokens: TokenPool): Promise<Measured> {
  const router = services.find((s) => s.name === 'router')!.service;
  const fleetIndex = liveFleetIndex(settings.scale);
  const nonce = randomUUID().slice(0, 8);
  let runNumber = 0;
  const bodyFor = () =>
    JSON.stringify({
      query: DASHBOARD,
      operationName: 'FleetDashboard',
      variables: { fleetId: seedIds.fleet(0, fleetIndex), first: 100 },
      extensions: { bench: `profile-live ${nonce} ${runNumber++}` },
    });
  const agents = new LiveAgents(settings.readers);
  const url = `${router.baseUrl}/graphql`;
  try {
    const initial = await readOnce(agents, url, bodyFor(), tokens.next());
    const ledger = new WriteLedger(initial.readings);
    const traffic = (seconds: number) =>
      runTraffic(agents, {
        readUrl: url,
        writeUrl: url,
        seconds,
        readers: settings.readers,
        writesPerSecond: settings.writesPerSecond,
        readBody: bodyFor(),
        ledger,
        nextToken: () => tokens.next(),
      });
    log(`fleet (0, ${fleetIndex}): warming up ${settings.warmup} s`);
    if (settings.warmup > 0) await traffic(settings.warmup);
    // Metrics are on the operations port (ROUTER_OPS_PORT = port + 1100, bench/lib/stack.ts).
    const opsUrl = `http://127.0.0.1:${PROFILE_LIVE_PORTS.router + ROUTER_OPS_PORT_OFFSET}`;
    const counters = () => scrape(opsUrl).catch(() => undefined);
    const before = await counters();
    let jfr: Measured['jfr'];
    if (cassandraPids[0]) {
      const file = join(OUT_DIR, 'cassandra.jfr');
      const started = await startJfr({
        pid: cassandraPids[0],
        name: JFR_NAME,
        seconds: settings.seconds,
        file,
      });
      jfr = { file, periodMs: started.periodMs };
      jfrRunning = true;
    } else log('no Cassandra process found (pgrep CassandraDaemon): no JFR recording');
    const sampler = new ResourceSampler({
      ...Object.fromEntries(services.map((s) => [s.name, [s.service.pid]])),
      cassandra: cassandraPids,
      redis: redisPids,
      harness: [process.pid],
    });
    log(
      `profiling ${settings.seconds} s: ${settings.readers} readers, ${settings.writesPerSecond} writes/s`,
    );
    const startUs = Number(process.hrtime.bigint() / 1000n);
    sampler.start();
    const measured = await traffic(settings.seconds);
    const resources = sampler.stop();
    const endUs = Number(process.hrtime.bigint() / 1000n);
    const after = await counters();
    const delta = (name: string) =>
      before && after ? sumOf(after as Samples, name) - sumOf(before as Samples, name) : 0;
    const hits = delta('fleetgraph_router_cache_hits_total');
    const lookups = hits + delta('fleetgraph_router_cache_misses_total');
    return {
      traffic: measured,
      resources,
      window: { startUs, endUs },
      hitRatio: lookups > 0 ? round(hits / lookups, 3) : null,
      jfr,
      loadAverage: loadavg().map((x) => round(x, 2)),
    };
  } finally {
    await agents.close();
  }
}

const at = (sorted: Float64Array, q: number) =>
  sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 2) : 0;

async function processes(
  services: readonly ProfiledService[],
  m: Measured,
): Promise<ProcessProfile[]> {
  const profiles = collectProfiles(services, OUT_DIR, TOP_COUNT, m.window);
  if (m.jfr && jfrRunning) {
    await waitForJfr(m.jfr.file);
    jfrRunning = false;
    const jfr = await summariseJfr(m.jfr.file, TOP_COUNT, m.jfr.periodMs);
    profiles.set('cassandra', {
      profile: relative(REPO_ROOT, m.jfr.file),
      profiler: 'jfr',
      samplePeriodMs: jfr.periodMs,
      samples: jfr.totalSamples,
      top: jfr.top,
      threads: jfr.threads,
    });
  }
  const base = writesOnlyBaseline();
  return Object.entries(m.resources).map(([name, figure]) => {
    const perWrite = base?.processes.find((p) => p.name === name)?.cpuSeconds;
    const writesShare =
      base && perWrite !== undefined && base.writes.acked > 0
        ? (perWrite / base.writes.acked) * m.traffic.writes.acked
        : undefined;
    return {
      name,
      ...figure,
      cpuMsPerRead: m.traffic.reads ? round((figure.cpuSeconds * 1000) / m.traffic.reads, 3) : null,
      ...(writesShare !== undefined && m.traffic.reads
        ? {
            netCpuMsPerRead: round(
              (Math.max(0, figure.cpuSeconds - writesShare) * 1000) / m.traffic.reads,
              3,
            ),
          }
        : {}),
      ...profiles.get(name),
    };
  });
}

/** BENCH_LIVE_NET_OF's record: a writes-only run (0 readers) at the same write rate. */
function writesOnlyBaseline(): LiveProfileRecord | undefined {
  const wanted = process.env.BENCH_LIVE_NET_OF;
  if (!wanted) return undefined;
  const records = JSON.parse(readFileSync(TOP_JSON, 'utf8')) as LiveProfileRecord[];
  const base = records.find((r) => r.label === wanted);
  if (!base || base.readers !== 0)
    throw new Error(`BENCH_LIVE_NET_OF=${wanted}: no writes-only (0 readers) label of that name`);
  return base;
}

function recordOf(m: Measured, procs: ProcessProfile[]): LiveProfileRecord {
  const t = m.traffic;
  return {
    label,
    date: new Date().toISOString(),
    node: process.version,
    commit: commitOf(),
    fleet: `(0, ${liveFleetIndex(settings.scale)}) of the ${settings.scale} seed`,
    seconds: t.seconds,
    readers: settings.readers,
    writesPerSecondAsked: settings.writesPerSecond,
    reads: t.reads,
    readsPerSecond: round(t.reads / t.seconds, 1),
    p50Ms: at(t.readLatenciesMs, 0.5),
    p99Ms: at(t.readLatenciesMs, 0.99),
    readErrors: t.readErrors,
    staleReads: t.staleReads,
    staleReadings: t.staleReadings,
    unexplainedReadings: t.unexplainedReadings,
    hitRatio: m.hitRatio,
    writes: {
      acked: t.writes.acked,
      failed: t.writes.failed,
      perSecond: round(t.writes.acked / t.seconds, 1),
      p99Ms: at(t.writes.latenciesMs, 0.99),
    },
    loadAverage: m.loadAverage,
    ...(process.env.BENCH_LIVE_NET_OF ? { netOf: process.env.BENCH_LIVE_NET_OF } : {}),
    ...(settings.identities ? { identities: settings.identities } : {}),
    processes: procs,
  };
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const tokens = await prepare();
  log(`starting router ${PROFILE_LIVE_PORTS.router} and subgraphs 5041-5043 (logs: ${LOG_DIR})`);
  const services = await startProfiledStack(group, settings.keyspace, OUT_DIR);
  const measured = await drive(services, tokens);
  // Profiles are written as the processes exit (SIGTERM → graceful shutdown → exit).
  await group.stopAll();
  const record = recordOf(measured, await processes(services, measured));
  await writeLiveProfiles(TOP_JSON, TOP_MD, record);
  await writeLiveProfiles(join(OUT_DIR, 'summary.json'), join(OUT_DIR, 'summary.md'), record);
  const t = measured.traffic;
  log(
    `${label}: ${record.readsPerSecond} reads/s, p50 ${record.p50Ms} ms, p99 ${record.p99Ms} ms, stale reads ${t.staleReads}, read errors ${t.readErrors}, ${record.writes.perSecond} writes/s (${t.writes.failed} failed), hits ${record.hitRatio ?? '–'}`,
  );
  for (const p of record.processes) {
    log(
      `  ${p.name}: ${p.cpuMsPerRead ?? '–'} CPU ms/read (${p.cpuSeconds} s)${p.netCpuMsPerRead === undefined ? '' : `, net of writes ${p.netCpuMsPerRead ?? '–'}`}`,
    );
    for (const [i, e] of (p.top ?? []).slice(0, 5).entries())
      log(`    ${i + 1}. ${e.percent.toFixed(1)}% ${e.functionName} ${e.location}`);
  }
  log(`wrote ${relative(REPO_ROOT, OUT_DIR)}/ and bench/results/profile-live-top.md, .json`);
}

try {
  await main();
} catch (error) {
  if (!stopping) console.error(`[profile-live] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
