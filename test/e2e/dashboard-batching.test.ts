import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');
const SUBGRAPHS = ['users', 'sessions', 'fleet'] as const;

interface Dashboard {
  fleet: {
    robots: {
      nodes: {
        id: string;
        operator: { id: string; displayName: string; activeSessionCount: number } | null;
        currentMission: { id: string; status: string } | null;
        status: string;
      }[];
    };
  };
}

/** Sums a counter over the three subgraphs' /metrics. */
async function total(
  federation: Federation,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  let sum = 0;
  for (const subgraph of SUBGRAPHS)
    sum += await federation.subgraphs[subgraph].metric(name, labels);
  return sum;
}

async function measure(federation: Federation, token: string, first: number) {
  const counters = {
    batches: () => total(federation, 'fleetgraph_dataloader_batches_total'),
    robotReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', { table: 'robots_by_id' }),
    pageReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', {
        table: 'robots_by_fleet_page',
      }),
    partitions: () => total(federation, 'fleetgraph_cassandra_partitions_read_total'),
    userReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', { table: 'users_by_id' }),
    sessionReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', {
        table: 'sessions_by_user',
      }),
    sessionByIdReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', {
        table: 'sessions_by_id',
      }),
    activeCountReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', {
        table: 'active_sessions_by_user',
      }),
    activeCountStatements: () =>
      total(federation, 'fleetgraph_cassandra_statements_total', {
        table: 'active_sessions_by_user',
      }),
    missionReads: () =>
      total(federation, 'fleetgraph_cassandra_partitions_read_total', { table: 'missions_by_id' }),
    statements: () => total(federation, 'fleetgraph_cassandra_statements_total'),
  };
  const before = Object.fromEntries(
    await Promise.all(Object.entries(counters).map(async ([k, f]) => [k, await f()])),
  );
  const response = await federation.query<Dashboard>(
    DASHBOARD,
    { fleetId: seedIds.fleet(0, 0), first },
    { token },
  );
  const after = Object.fromEntries(
    await Promise.all(Object.entries(counters).map(async ([k, f]) => [k, await f()])),
  );
  const delta = Object.fromEntries(
    Object.keys(counters).map((k) => [k, after[k]! - before[k]!]),
  ) as Record<keyof typeof counters, number>;
  return { response, delta };
}

describe('the fleet dashboard through the federated router', () => {
  let federation: Federation;
  let token: string;
  before(async () => {
    // Caching off, both caches: this measures what one execution costs (cache.test.ts covers
    // response cache hits, entity-cache.test.ts entity cache hits: with it, repeat reads skip
    // the users and sessions batches).
    federation = await startFederation({ RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' });
    token = await tokenFor(federation.config, 0, 0);
  });
  after(() => federation.close());

  it('when 100 robots are shown, then DataLoader batches are bounded by the plan depth and no key is read twice', async () => {
    const { response, delta } = await measure(federation, token, 100);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    const robots = response.body.data!.fleet.robots.nodes;
    assert.equal(robots.length, 100);
    const operators = new Set(robots.map((r) => r.operator?.id).filter(Boolean));
    const missions = new Set(robots.map((r) => r.currentMission?.id).filter(Boolean));
    assert.ok(operators.size > 1 && missions.size > 0);
    for (const robot of robots) assert.equal(typeof robot.operator?.activeSessionCount, 'number');
    // One batch per loader the plan touches: the fleet (fleet), operators (users), operators'
    // active session counts (sessions) — plus the router's revocation check of the caller's
    // session (cached for a few seconds, so some runs skip it). The count's row carries the
    // organization its visibility is decided on (migration 009): no read of the operators'
    // newest sessions by id any more (5 batches before). Robots and their current missions need
    // no loader: the page is robots_by_fleet_page.
    assert.ok(delta.batches <= 4, `batches ${delta.batches}`);
    // The robots are one partition of robots_by_fleet_page, with each robot's current mission's
    // status (migration 008): neither robots_by_id nor missions_by_id is read. Before it: the
    // fleet's 16 robots_by_fleet buckets, 100 robots_by_id partitions and every current mission.
    assert.equal(delta.pageReads, 1, 'the page of robots is one partition');
    assert.equal(delta.robotReads, 0, 'no robot read by id');
    assert.equal(delta.missionReads, 0, 'no mission read by id');
    // The fleet, the page, the operators (users), their counts (one statement), and the
    // caller's revocation check when not cached: 4 or 5 (bench/dashboard-cost.ts, tokens
    // without a session: 7 before migration 008, 5 after it, 4 after 009).
    assert.ok(delta.statements <= 5, `statements ${delta.statements}`);
    assert.equal(delta.activeCountStatements, 1, 'every operator counted by one statement');
    assert.equal(delta.userReads, operators.size, 'each operator read once');
    assert.equal(delta.activeCountReads, operators.size, "each operator's count read once");
    // The count no longer reads the operators' sessions (before 009: their whole
    // sessions_by_user partitions, and their newest session by id for authorization).
    assert.equal(delta.sessionReads, 0, 'no sessions_by_user partition');
    assert.ok(delta.sessionByIdReads <= 1, `sessions_by_id ${delta.sessionByIdReads}`);
    // Everything else read is per operator, not per robot.
    assert.ok(
      delta.partitions <= 3 + 2 * operators.size,
      `partitions ${delta.partitions} for ${operators.size} operators`,
    );
  });

  it('when 10, 50 or 100 robots are shown, then the robots are one partition and the statements do not grow with rows', async () => {
    const loaders = [
      'fleetById',
      'robotById',
      'missionById',
      'userById',
      'activeSessionCounts',
      'sessionsByUser',
    ];
    const perLoader = async () =>
      Object.fromEntries(
        await Promise.all(
          loaders.map(async (loader) => [
            loader,
            await total(federation, 'fleetgraph_dataloader_batches_total', { loader }),
          ]),
        ),
      );
    const runs: {
      rows: number;
      batches: Record<string, number>;
      statements: number;
      pageReads: number;
    }[] = [];
    for (const first of [10, 50, 100]) {
      const before = await perLoader();
      const { response, delta } = await measure(federation, token, first);
      const after = await perLoader();
      assert.equal(response.body.errors, undefined);
      assert.equal(response.body.data!.fleet.robots.nodes.length, first);
      runs.push({
        rows: first,
        statements: delta.statements,
        pageReads: delta.pageReads,
        batches: Object.fromEntries(loaders.map((l) => [l, after[l]! - before[l]!])),
      });
    }
    for (const run of runs) {
      for (const loader of loaders)
        assert.ok(
          run.batches[loader]! <= 1,
          `${run.rows} robots: ${loader} ran ${run.batches[loader]} batches`,
        );
      // The fleet, operators and their active session counts are always needed; robots and
      // their missions come with the page (robots_by_fleet_page), never by id, and the counts
      // need no user's sessions (migration 009).
      for (const loader of ['fleetById', 'userById', 'activeSessionCounts'])
        assert.equal(run.batches[loader], 1, `${run.rows}: ${loader}`);
      for (const loader of ['robotById', 'missionById', 'sessionsByUser'])
        assert.equal(run.batches[loader], 0, `${run.rows}: ${loader}`);
      assert.equal(run.pageReads, 1, `${run.rows}: robots_by_fleet_page partitions`);
    }
    // On one node every batch is one statement, so the count does not depend on the page size;
    // it may differ by one between runs: the router's revocation check of the caller's session
    // is cached for a few seconds (router/auth/sessionRevocation.ts), so some runs skip it.
    const counts = runs.map((run) => run.statements);
    assert.ok(
      Math.max(...counts) - Math.min(...counts) <= 1,
      `statements ${runs.map((r) => `${r.rows} robots: ${r.statements}`).join(', ')}`,
    );
  });
});
