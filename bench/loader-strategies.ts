/**
 * `node --import tsx bench/loader-strategies.ts`: how should the robotById DataLoader read a
 * batch of robots from the real Cassandra node?
 *
 * - each: one single-partition `WHERE robot_id = ?` per key (bench/baselines/perKeyReads.ts,
 *   BENCH_CONCURRENCY (default 64) at once, token-aware: each statement goes straight to a replica
 *   of its key);
 * - in: the robotById loader's own batch (robotsRepository.robotsById): `WHERE robot_id IN ?`
 *   per group of keys owned by one node (Db.readIn).
 *
 * Both map rows with the repository's own toRobot, over the seeded demo robots,
 * BENCH_ITERATIONS times (default 50) per strategy with BENCH_BATCH_SIZE keys per batch
 * (default 100), interleaved and alternating which goes first so drift on the node hits both
 * alike, after a warm-up.
 */
import { seedIds, SCALES } from '../scripts/seed-ids.js';
import { loadToolConfig } from '../platform/config/load.js';
import { connectCassandra } from '../platform/cassandra/client.js';
import { Db } from '../subgraphs/kit/cassandra/db.js';
import { createSubgraphMetrics } from '../subgraphs/kit/metrics.js';
import { runMain } from '../platform/startup.js';
import { ROBOT_COLUMNS, robotsRepository, toRobot } from '../subgraphs/fleet/repository/robots.js';
import { readEach } from './baselines/perKeyReads.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 100);
// The first batches of either strategy pay for JIT compilation and statement preparation.
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 30);

const SELECT_ROBOT = `SELECT ${ROBOT_COLUMNS} FROM robots_by_id WHERE robot_id = ?`;

type Strategy = 'each' | 'in';

function seededRobotIds(): string[] {
  const shape = SCALES.demo;
  const ids: string[] = [];
  for (let o = 0; o < shape.organizations; o++)
    for (let f = 0; f < shape.fleetsPerOrganization; f++)
      for (let r = 0; r < shape.robotsPerFleet; r++) ids.push(seedIds.robot(o, f, r));
  return ids;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    mean: samples.reduce((sum, x) => sum + x, 0) / samples.length,
    p50: at(0.5),
    p95: at(0.95),
    min: sorted[0]!,
  };
}

runMain(async () => {
  const config = loadToolConfig();
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const client = await connectCassandra(config);
  const db = new Db(client, createSubgraphMetrics('bench', { defaultMetrics: false }));
  const strategies = {
    each: (ids: readonly string[]) => readEach(db, SELECT_ROBOT, ids, toRobot, concurrency),
    in: (ids: readonly string[]) => robotsRepository.robotsById(db, ids),
  } satisfies Record<Strategy, unknown>;
  const all = seededRobotIds();
  // A different window of robots per batch, so no strategy reads keys the other just warmed.
  const batchAt = (i: number) =>
    Array.from({ length: BATCH_SIZE }, (_, k) => all[(i * 37 + k) % all.length]!);

  async function timed(strategy: Strategy, ids: string[]): Promise<number> {
    const started = performance.now();
    const robots = await strategies[strategy](ids);
    const elapsed = performance.now() - started;
    const found = robots.filter((robot) => robot !== null && !(robot instanceof Error)).length;
    if (found !== ids.length)
      throw new Error(
        `${strategy}: found ${found} of ${ids.length} seeded robots (is the demo seed loaded?)`,
      );
    return elapsed;
  }

  for (let i = 0; i < WARM_UP; i++)
    for (const s of ['each', 'in'] as const) await timed(s, batchAt(i));
  const times: Record<Strategy, number[]> = { each: [], in: [] };
  for (let i = 0; i < ITERATIONS; i++) {
    const order: Strategy[] = i % 2 === 0 ? ['each', 'in'] : ['in', 'each'];
    for (const strategy of order) times[strategy].push(await timed(strategy, batchAt(i)));
  }
  await client.shutdown();

  console.log(
    `robotById: ${BATCH_SIZE} robots per batch, ${ITERATIONS} batches per strategy, concurrency ${concurrency}, contact points ${config.cassandra.contactPoints.join(',')}`,
  );
  for (const strategy of ['each', 'in'] as const) {
    const { mean, p50, p95, min } = summary(times[strategy]);
    console.log(
      `  ${strategy.padEnd(4)} mean ${mean.toFixed(2)} ms  p50 ${p50.toFixed(2)} ms  p95 ${p95.toFixed(2)} ms  min ${min.toFixed(2)} ms`,
    );
  }
});
