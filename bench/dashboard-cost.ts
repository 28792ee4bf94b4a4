/**
 * `node --import tsx bench/dashboard-cost.ts [--label before|after|<name>]`: what one fleet
 * dashboard (schema/operations/fleet-console/FleetDashboard.graphql, 100 robots) costs the
 * database: Cassandra statements and partitions read (the subgraphs' counters), and CPU
 * milliseconds of every process serving it — router, the three subgraphs, the Cassandra node
 * (/proc/<pid>/stat utime + stime; `allCpuMs` is their sum, the issue's "CPU per fresh request") —
 * over BENCH_DASHBOARD_READS (60) sequential reads, BENCH_DASHBOARD_ROUNDS (3) times, through
 * our router with the response cache (and the entity cache, where there is one) off.
 *
 * `--write`: the same for one `updateRobotStatus` (the live fleet's write, bench/scenarios.ts)
 * instead, over the fleet's robots round-robin, with 4 writer identities in turn (as the fan-out
 * scenario's writers) — what the
 * writers of the live-fleet and fan-out scenarios cost each process. BENCH_COST_PROFILE_DIR:
 * the router and subgraphs run under `node --cpu-prof` and write their profiles there.
 *
 * Starts its own router and subgraphs (built, production mode, as bench/run.ts) on
 * BENCH_DASHBOARD_PORT (5040) and the three ports after it, against BENCH_KEYSPACE
 * (fleetgraph_bench; migrated and seeded as bench/run.ts does). Cassandra is shared with
 * whatever else runs on the machine, so its figure is the median round; run before and after
 * alternately (issue 17: /tmp/base17 is the tree before the change). Results are printed as
 * one JSON line per run and appended to bench/results/dashboard-cost.jsonl.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectCassandra } from '../platform/cassandra/client.js';
import { loadToolConfig } from '../platform/config/load.js';
import { seedIds } from '../scripts/seed-ids.js';
import { ensureData } from './lib/data.js';
import { mintTokenPool } from './lib/identities.js';
import { STATUSES, UPDATE_STATUS } from './scenarios.js';
import { killActiveCommands, ProcessGroup, REPO_ROOT } from './lib/processes.js';
import { findPids } from './lib/procstat.js';
import { scrapeAll, totalOf } from './lib/prometheus.js';
import { benchIssuer, commonEnv, routerSpec, subgraphSpecs, subgraphUrls } from './lib/stack.js';

const labelIndex = process.argv.indexOf('--label');
const label = labelIndex >= 0 ? (process.argv[labelIndex + 1] ?? '') : 'current';
const reads = Number(process.env.BENCH_DASHBOARD_READS ?? 60);
const rounds = Number(process.env.BENCH_DASHBOARD_ROUNDS ?? 3);
const basePort = Number(process.env.BENCH_DASHBOARD_PORT ?? 5040);
const keyspace = process.env.BENCH_KEYSPACE ?? 'fleetgraph_bench';
const writeMode = process.argv.includes('--write');
/** As the fan-out scenario's writers (bench/fanout): a few devices' credentials, reused. */
const WRITER_CREDENTIALS = 4;
const profileDir = process.env.BENCH_COST_PROFILE_DIR;
const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
const ports = { users: basePort + 1, sessions: basePort + 2, fleet: basePort + 3 };

/** The Cassandra node's pid: BENCH_CASSANDRA_PID, .local/cassandra/*.pid, or the one running. */
function cassandraPid(): number {
  if (process.env.BENCH_CASSANDRA_PID) return Number(process.env.BENCH_CASSANDRA_PID);
  const dir = join(REPO_ROOT, '.local/cassandra');
  const file = existsSync(dir) && readdirSync(dir).find((name) => name.endsWith('.pid'));
  if (file) return Number(readFileSync(join(dir, file), 'utf8').trim());
  const pids = findPids('CassandraDaemon');
  if (pids.length !== 1) throw new Error(`${pids.length} CassandraDaemon: set BENCH_CASSANDRA_PID`);
  return pids[0]!;
}

/** CPU seconds (utime + stime) a process has used: /proc/<pid>/stat, USER_HZ 100. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const group = new ProcessGroup();
process.once('exit', () => group.killAllNow());

async function main(): Promise<void> {
  const config = loadToolConfig({ ...commonEnv(keyspace) });
  const unbound = await connectCassandra(config, { withKeyspace: false });
  await ensureData(unbound, keyspace, 'demo').finally(() => unbound.shutdown());
  const cassandra = cassandraPid();
  const tokens = await mintTokenPool(
    (await benchIssuer()).mint,
    seedIds.organization(0),
    writeMode ? WRITER_CREDENTIALS : 1,
  );
  const subgraphs = [];
  for (const spec of subgraphSpecs(keyspace, ports, 'batched'))
    subgraphs.push(
      await group.start({
        ...spec,
        name: `dashboard-${spec.name}`,
        nodeArgs: [...(spec.nodeArgs ?? []), ...profileArgs],
      }),
    );
  const fleet = subgraphs.find((s) => s.spec.name === 'dashboard-fleet')!;
  const router = await group.start(
    routerSpec({
      name: 'dashboard-router',
      keyspace,
      port: basePort,
      subgraphUrls: subgraphUrls(ports),
      responseCache: false,
      // Every fetch reaches the subgraphs: no per-entity cache either (where the router has one).
      extraEnv: { ENTITY_CACHE: 'false' },
      nodeArgs: profileArgs,
    }),
  );
  const body = JSON.stringify({
    query: readFileSync(
      join(REPO_ROOT, 'schema/operations/fleet-console/FleetDashboard.graphql'),
      'utf8',
    ),
    variables: { fleetId: seedIds.fleet(0, 0), first: 100 },
  });
  let writes = 0;
  const writeBody = () => {
    const seq = writes++;
    return JSON.stringify({
      query: UPDATE_STATUS,
      variables: {
        robotId: seedIds.robot(0, 0, seq % 100),
        status: STATUSES[seq % STATUSES.length],
        battery: (seq % 100) + 0.5,
      },
    });
  };
  const read = async () => {
    const response = await fetch(`${router.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.next()}` },
      body: writeMode ? writeBody() : body,
    });
    const json = (await response.json()) as { errors?: unknown; data?: unknown };
    if (json.errors || !json.data) throw new Error(JSON.stringify(json.errors));
  };
  for (let i = 0; i < 10; i++) await read(); // warm-up: JIT, prepared statements, caches
  const metrics = subgraphs.map((s) => s.baseUrl);
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    const before = await scrapeAll(metrics);
    const processes: Record<string, number> = {
      router: router.pid,
      ...Object.fromEntries(subgraphs.map((s) => [s.spec.name.replace('dashboard-', ''), s.pid])),
      cassandra,
    };
    const cpuOf = () =>
      Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const cpu0 = cpuOf();
    for (let i = 0; i < reads; i++) await read();
    const cpu1 = cpuOf();
    // CPU ms per dashboard of every process serving it (the issue's "73 ms per fresh request").
    const cpuMsByProcess = Object.fromEntries(
      Object.keys(processes).map((name) => [
        name,
        Math.round(((cpu1[name]! - cpu0[name]!) * 1_000_000) / reads) / 1000,
      ]),
    );
    const after = await scrapeAll(metrics);
    const fleetIndex = subgraphs.indexOf(fleet);
    const per = (name: string, only?: number) =>
      (totalOf(only === undefined ? after : [after[only]!], name) -
        totalOf(only === undefined ? before : [before[only]!], name)) /
      reads;
    perRound.push({
      statements: per('fleetgraph_cassandra_statements_total'),
      partitions: per('fleetgraph_cassandra_partitions_read_total'),
      fleetStatements: per('fleetgraph_cassandra_statements_total', fleetIndex),
      fleetPartitions: per('fleetgraph_cassandra_partitions_read_total', fleetIndex),
      fleetCpuMs: ((cpu1['fleet']! - cpu0['fleet']!) * 1000) / reads,
      cassandraCpuMs: ((cpu1['cassandra']! - cpu0['cassandra']!) * 1000) / reads,
      cpuMsByProcess,
      allCpuMs: Object.values(cpuMsByProcess).reduce((sum, ms) => sum + ms, 0),
    });
  }
  const result = {
    label,
    operation: writeMode ? 'updateRobotStatus' : 'FleetDashboard',
    date: new Date().toISOString(),
    reads,
    rounds,
    statements: median(perRound.map((r) => r.statements)),
    partitions: median(perRound.map((r) => r.partitions)),
    fleetStatements: median(perRound.map((r) => r.fleetStatements)),
    fleetPartitions: median(perRound.map((r) => r.fleetPartitions)),
    fleetCpuMs: median(perRound.map((r) => r.fleetCpuMs)),
    cassandraCpuMs: median(perRound.map((r) => r.cassandraCpuMs)),
    allCpuMs: median(perRound.map((r) => r.allCpuMs)),
    perRound,
  };
  console.log(JSON.stringify(result));
  appendFileSync(
    join(REPO_ROOT, 'bench/results/dashboard-cost.jsonl'),
    `${JSON.stringify(result)}\n`,
  );
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    killActiveCommands();
    await group.stopAll();
  });
