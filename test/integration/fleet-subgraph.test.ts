import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { seedIds, SCALES } from '../../scripts/seed-ids.js';
import { BUCKET_COUNT, bucketOf, utcDay } from '../../platform/cassandra/buckets.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import type { Identity } from '../../platform/contract/identity.js';
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import { cassandraForTest } from '../support/stack.js';
import { ADMIN_OF_ORG0, startSubgraph, type RunningSubgraph } from '../support/subgraphs.js';

const DAY_MS = 86_400_000;
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'] as const;
const BUCKETS = Array.from({ length: BUCKET_COUNT }, (_, i) => i);
/** Organization 0's first fleet: read-only here, other tests count its 120 seeded robots. */
const SEEDED_FLEET = seedIds.fleet(0, 0);
const SEEDED_ROBOTS = Array.from({ length: SCALES.demo.robotsPerFleet }, (_, r) =>
  seedIds.robot(0, 0, r),
);

interface RobotNode {
  id: string;
  status: string;
  currentMission: { id: string; status: string } | null;
  operator: { id: string } | null;
}
interface RobotPage {
  fleet: {
    robots: {
      nodes: RobotNode[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
}
interface MissionsPage {
  robot: {
    missions: {
      nodes: { id: string; createdAt: string; robot: { id: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
}
interface Sample {
  recordedAt: string;
  batteryPercent: number;
  latitude: number;
  longitude: number;
  speedMps: number;
  temperatureC: number;
  status: string;
}

const ROBOT_PAGE = `query($id: ID!, $first: Int, $after: String, $status: RobotStatus) {
  fleet(id: $id) {
    robots(first: $first, after: $after, status: $status) {
      nodes { id status currentMission { id status } operator { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
const REGISTER = 'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }';
const REPORT =
  'mutation($id: ID!, $samples: [TelemetrySampleInput!]!) { reportTelemetry(robotId: $id, samples: $samples) { accepted } }';
const TELEMETRY =
  'query($id: ID!, $from: DateTime!, $to: DateTime!, $limit: Int) { robot(id: $id) { lastHeartbeatAt batteryPercent position { latitude longitude heading } telemetry(from: $from, to: $to, limit: $limit) { recordedAt batteryPercent status } } }';

describe('fleet subgraph over HTTP against the real Cassandra node', () => {
  let cassandra: CassandraClient;
  let fleet: RunningSubgraph;
  /** A fleet of organization 0 that only this file writes to; removed with its robots after. */
  const scratchFleet = randomUUID();
  const registered: string[] = [];

  const cql = (query: string, params: unknown[] = []) =>
    cassandra.execute(query, params, { prepare: true });

  /** Counter deltas of one request: DataLoader batches and robots_by_id partitions read. */
  async function measure<T>(run: () => Promise<T>) {
    const read = async () => ({
      robotById: await fleet.metric('fleetgraph_dataloader_batches_total', { loader: 'robotById' }),
      missionById: await fleet.metric('fleetgraph_dataloader_batches_total', {
        loader: 'missionById',
      }),
      robotsByOperator: await fleet.metric('fleetgraph_dataloader_batches_total', {
        loader: 'robotsByOperator',
      }),
      robotReads: await fleet.metric('fleetgraph_cassandra_partitions_read_total', {
        table: 'robots_by_id',
      }),
      pageReads: await fleet.metric('fleetgraph_cassandra_partitions_read_total', {
        table: 'robots_by_fleet_page',
      }),
    });
    const before = await read();
    const result = await run();
    const after = await read();
    return {
      result,
      robotById: after.robotById - before.robotById,
      missionById: after.missionById - before.missionById,
      robotsByOperator: after.robotsByOperator - before.robotsByOperator,
      robotReads: after.robotReads - before.robotReads,
      pageReads: after.pageReads - before.pageReads,
    };
  }

  async function registerRobot(input: Record<string, unknown> = {}): Promise<string> {
    const { body } = await fleet.request<{ registerRobot: { id: string } }>(REGISTER, {
      input: { fleetId: scratchFleet, serial: `TEST-${randomUUID()}`, model: 'AMR-200', ...input },
    });
    assert.equal(body.errors, undefined);
    registered.push(body.data!.registerRobot.id);
    return body.data!.registerRobot.id;
  }

  async function pageAll(fleetId: string, first: number, status?: string): Promise<RobotNode[]> {
    const nodes: RobotNode[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const { body }: { body: { data?: RobotPage; errors?: unknown } } =
        await fleet.request<RobotPage>(ROBOT_PAGE, { id: fleetId, first, after, status });
      assert.equal(body.errors, undefined);
      const { robots } = body.data!.fleet;
      assert.ok(robots.nodes.length <= first, 'a page never holds more than first');
      nodes.push(...robots.nodes);
      if (!robots.pageInfo.hasNextPage) return nodes;
      after = robots.pageInfo.endCursor;
    }
    throw new Error('paging did not end');
  }

  async function telemetryRows(robotId: string, days: string[]): Promise<number> {
    const result = await cql(
      'SELECT count(*) FROM telemetry_by_robot_day WHERE robot_id = ? AND day IN ?',
      [robotId, days],
    );
    return Number(result.first()['count']);
  }

  before(async () => {
    cassandra = await cassandraForTest();
    fleet = await startSubgraph(fleetSubgraph, cassandra);
    await cql(
      'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [scratchFleet, seedIds.organization(0), 'Test site', 'Test warehouse', 'UTC', new Date()],
    );
    await cql(
      'INSERT INTO fleets_by_organization (organization_id, fleet_id, name) VALUES (?, ?, ?)',
      [seedIds.organization(0), scratchFleet, 'Test site'],
    );
  });

  after(async () => {
    const today = Date.parse(utcDay(new Date()));
    const lastMonth = Array.from({ length: 32 }, (_, i) => utcDay(new Date(today - i * DAY_MS)));
    const year = new Date().getUTCFullYear();
    for (const robotId of registered) {
      const robot = (
        await cql('SELECT serial, operator_id FROM robots_by_id WHERE robot_id = ?', [robotId])
      ).first();
      const missions = await cql(
        'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
        [robotId, year],
      );
      for (const mission of missions.rows)
        await cql('DELETE FROM missions_by_id WHERE mission_id = ?', [mission['mission_id']]);
      await cql('DELETE FROM missions_by_robot WHERE robot_id = ? AND year = ?', [robotId, year]);
      await cql('DELETE FROM telemetry_by_robot_day WHERE robot_id = ? AND day IN ?', [
        robotId,
        lastMonth,
      ]);
      await cql('DELETE FROM robots_by_serial WHERE serial = ?', [robot['serial']]);
      if (robot['operator_id'])
        await cql('DELETE FROM robots_by_operator WHERE operator_id = ? AND robot_id = ?', [
          robot['operator_id'],
          robotId,
        ]);
      await cql('DELETE FROM robots_by_id WHERE robot_id = ?', [robotId]);
    }
    await cql('DELETE FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [
      scratchFleet,
      BUCKETS,
    ]);
    await cql('DELETE FROM robots_by_fleet_page WHERE fleet_id = ?', [scratchFleet]);
    for (const status of STATUSES)
      await cql(
        'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?',
        [scratchFleet, status, BUCKETS],
      );
    await cql('DELETE FROM fleets_by_organization WHERE organization_id = ? AND fleet_id = ?', [
      seedIds.organization(0),
      scratchFleet,
    ]);
    await cql('DELETE FROM fleets_by_id WHERE fleet_id = ?', [scratchFleet]);
    await fleet.close();
    await cassandra.shutdown();
  });

  it('when a fleet lists 100 robots with their current missions, then one robots_by_fleet_page partition holds them all', async () => {
    const { result, robotById, missionById, robotReads, pageReads } = await measure(() =>
      fleet.request<RobotPage>(ROBOT_PAGE, { id: SEEDED_FLEET, first: 100 }),
    );
    assert.equal(result.body.errors, undefined);
    const nodes = result.body.data!.fleet.robots.nodes;
    assert.equal(nodes.length, 100);
    assert.ok(nodes.every((robot) => SEEDED_ROBOTS.includes(robot.id)));
    assert.ok(nodes.every((robot) => robot.operator !== null));
    const withMission = nodes.filter((robot) => robot.currentMission);
    assert.ok(withMission.length > 0, 'the seed gives ACTIVE robots a current mission');
    assert.ok(
      withMission.every((r) => r.status === 'ACTIVE' && r.currentMission!.status === 'IN_PROGRESS'),
    );
    // The page row carries every robot column and the current mission's status (migration 008).
    assert.equal(pageReads, 1);
    assert.equal(robotById, 0);
    assert.equal(missionById, 0);
    assert.equal(robotReads, 0);
  });

  it('when a listing asks more of the current mission than its id and status, then the mission is loaded in one batch', async () => {
    const query = ROBOT_PAGE.replace(
      'currentMission { id status }',
      'currentMission { id status steps }',
    );
    const { result, missionById, pageReads } = await measure(() =>
      fleet.request<RobotPage>(query, { id: SEEDED_FLEET, first: 100 }),
    );
    assert.equal(result.body.errors, undefined);
    assert.equal(pageReads, 1);
    assert.equal(missionById, 1);
  });

  it('when the page holds 10 robots instead of 100, then the number of batches stays the same', async () => {
    const small = await measure(() =>
      fleet.request<RobotPage>(ROBOT_PAGE, { id: SEEDED_FLEET, first: 10 }),
    );
    const nodes = small.result.body.data!.fleet.robots.nodes;
    assert.equal(nodes.length, 10);
    assert.equal(small.pageReads, 1);
    assert.equal(small.robotById, 0);
    assert.equal(small.missionById, 0);

    const active = await measure(() =>
      fleet.request<RobotPage>(ROBOT_PAGE, { id: SEEDED_FLEET, first: 10, status: 'ACTIVE' }),
    );
    assert.equal(active.result.body.data!.fleet.robots.nodes.length, 10);
    assert.equal(active.robotById, 1);
    assert.equal(active.missionById, 1);
  });

  it("when _entities is called with 50 robot representations, then one robotById batch reads each robot once and another organization's robots are null", async () => {
    const ids = [
      ...SEEDED_ROBOTS.slice(0, 20),
      ...Array.from({ length: 20 }, (_, r) => seedIds.robot(1, 1, r)),
    ];
    const representations = [...ids, ...ids.slice(5, 15)].map((id) => ({
      __typename: 'Robot',
      id,
    }));
    assert.equal(representations.length, 50);
    const { result, robotById, robotReads } = await measure(() =>
      fleet.request<{ _entities: ({ id: string; serial: string } | null)[] }>(
        'query($r: [_Any!]!) { _entities(representations: $r) { ... on Robot { id serial } } }',
        { r: representations },
      ),
    );
    assert.equal(result.body.errors, undefined);
    // Organization 0's admin: its robots come back; organization 1's are null, like unknown ids.
    assert.deepEqual(
      result.body.data?._entities.map((robot) => robot?.id ?? null),
      representations.map((r) => (SEEDED_ROBOTS.includes(r.id) ? r.id : null)),
    );
    assert.equal(robotById, 1);
    assert.equal(
      robotReads,
      40,
      'the 10 repeated representations are not read twice; hiding reads nothing more',
    );
  });

  it('when a fleet is paged 25 at a time, then each robot is listed exactly once, and a status filter lists only that status', async () => {
    const all = await pageAll(SEEDED_FLEET, 25);
    const ids = all.map((robot) => robot.id);
    assert.equal(new Set(ids).size, ids.length, 'no robot is listed twice');
    assert.ok(
      SEEDED_ROBOTS.every((id) => ids.includes(id)),
      'every seeded robot is listed',
    );
    for (const status of ['ACTIVE', 'CHARGING'] as const) {
      const filtered = await pageAll(SEEDED_FLEET, 25, status);
      assert.ok(filtered.length > 0);
      assert.ok(filtered.every((robot) => robot.status === status));
      assert.deepEqual(
        filtered.map((robot) => robot.id).sort(),
        all
          .filter((robot) => robot.status === status)
          .map((robot) => robot.id)
          .sort(),
      );
    }
  });

  it('when robots are asked for by id, then they come back in order with null for unknown ids', async () => {
    const unknown = randomUUID();
    const { body } = await fleet.request<{
      robots: ({ id: string; fleet: { id: string } } | null)[];
    }>('query($ids: [ID!]!) { robots(ids: $ids) { id fleet { id } } }', {
      ids: [SEEDED_ROBOTS[3], unknown, SEEDED_ROBOTS[1]!.toUpperCase()],
    });
    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?.robots, [
      { id: SEEDED_ROBOTS[3], fleet: { id: SEEDED_FLEET } },
      null,
      { id: SEEDED_ROBOTS[1], fleet: { id: SEEDED_FLEET } },
    ]);
    const missing = await fleet.request<{ robot: null; fleet: null }>(
      `{ robot(id: "${unknown}") { id } fleet(id: "${unknown}") { id } }`,
    );
    assert.deepEqual(missing.body.data, { robot: null, fleet: null });
  });

  it("when fleets is asked for, then the caller's organization's fleets come back, and anonymous callers are UNAUTHENTICATED", async () => {
    const { body } = await fleet.request<{
      fleets: { id: string; organization: { id: string } }[];
    }>('{ fleets { id organization { id } } }');
    assert.equal(body.errors, undefined);
    const ids = body.data!.fleets.map((f) => f.id);
    assert.ok(ids.includes(seedIds.fleet(0, 0)) && ids.includes(seedIds.fleet(0, 1)));
    assert.ok(!ids.includes(seedIds.fleet(1, 0)), 'no fleet of another organization');
    assert.ok(body.data!.fleets.every((f) => f.organization.id === seedIds.organization(0)));
    const anonymous = await fleet.request<{ fleets: unknown[] }>(
      '{ fleets { id } }',
      {},
      {
        kind: 'anonymous',
      },
    );
    assert.equal(anonymous.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
    assert.equal(anonymous.body.data, null);
  });

  it('when several users resolve operatedRobots, then one robotsByOperator batch and one robotById batch serve them', async () => {
    const operators = [seedIds.user(0, 0), seedIds.user(0, 1), seedIds.user(0, 4)];
    const { result, robotById, robotsByOperator } = await measure(() =>
      fleet.request<{
        _entities: { id: string; operatedRobots: { operator: { id: string } }[] }[];
      }>(
        'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id operatedRobots { operator { id } } } } }',
        { r: operators.map((id) => ({ __typename: 'User', id })) },
      ),
    );
    assert.equal(result.body.errors, undefined);
    for (const [i, user] of result.body.data!._entities.entries()) {
      assert.equal(user.id, operators[i]);
      assert.ok(user.operatedRobots.length > 0);
      assert.ok(user.operatedRobots.every((robot) => robot.operator.id === user.id));
    }
    assert.equal(robotsByOperator, 1);
    assert.equal(robotById, 1);
  });

  it("when a robot's missions are paged, then they come newest first, each once", async () => {
    const query =
      'query($id: ID!, $after: String) { robot(id: $id) { missions(first: 2, after: $after) { nodes { id createdAt robot { id } } pageInfo { hasNextPage endCursor } } } }';
    const seen: { id: string; createdAt: string }[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const { body }: { body: { data?: MissionsPage } } = await fleet.request<MissionsPage>(query, {
        id: SEEDED_ROBOTS[0],
        after,
      });
      const missions: MissionsPage['robot']['missions'] = body.data!.robot.missions;
      assert.ok(missions.nodes.every((m) => m.robot.id === SEEDED_ROBOTS[0]));
      seen.push(...missions.nodes);
      if (!missions.pageInfo.hasNextPage) break;
      after = missions.pageInfo.endCursor;
    }
    assert.equal(seen.length, SCALES.demo.missionsPerRobot);
    assert.equal(new Set(seen.map((m) => m.id)).size, seen.length);
    const times = seen.map((m) => Date.parse(m.createdAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
  });

  it('when 10,000 samples over 3 UTC days are reported in one call, then reads return them newest first across day partitions', async () => {
    const robotId = await registerRobot();
    const newest = Date.now() - 1000;
    const oldest = Date.parse(utcDay(new Date(newest - 2 * DAY_MS))) + 60_000;
    const samples: Sample[] = Array.from({ length: 10_000 }, (_, i) => ({
      recordedAt: new Date(oldest + Math.round((i * (newest - oldest)) / 9_999)).toISOString(),
      batteryPercent: (i % 1000) / 10,
      latitude: 52.5 + i / 1e6,
      longitude: 13.4,
      speedMps: 1.5,
      temperatureC: 21,
      status: 'ACTIVE',
    }));
    assert.equal(new Set(samples.map((s) => utcDay(new Date(s.recordedAt)))).size, 3);
    // Sent oldest-last, so the order of reads does not come from the order of writes.
    const reported = await fleet.request<{ reportTelemetry: { accepted: number } }>(REPORT, {
      id: robotId,
      samples: [...samples].reverse(),
    });
    assert.equal(reported.body.errors, undefined);
    assert.equal(reported.body.data?.reportTelemetry.accepted, 10_000);

    const from = samples[0]!.recordedAt;
    const to = samples[9_999]!.recordedAt;
    const { body } = await fleet.request<{
      robot: {
        lastHeartbeatAt: string;
        batteryPercent: number;
        position: { latitude: number; longitude: number; heading: number | null };
        telemetry: { recordedAt: string; batteryPercent: number; status: string }[];
      };
    }>(TELEMETRY, { id: robotId, from, to, limit: 500 });
    assert.equal(body.errors, undefined);
    const { telemetry, lastHeartbeatAt } = body.data!.robot;
    assert.equal(telemetry.length, 500);
    assert.equal(telemetry[0]!.recordedAt, to, 'the first sample is the newest sent');
    assert.equal(telemetry[0]!.batteryPercent, samples[9_999]!.batteryPercent);
    assert.equal(telemetry[0]!.status, 'ACTIVE');
    for (let i = 1; i < telemetry.length; i++)
      assert.ok(telemetry[i - 1]!.recordedAt > telemetry[i]!.recordedAt, 'strictly descending');
    assert.deepEqual(
      telemetry.map((s) => s.recordedAt),
      samples
        .slice(-500)
        .map((s) => s.recordedAt)
        .reverse(),
    );
    assert.equal(lastHeartbeatAt, to, 'the newest sample became the heartbeat');
    assert.equal(body.data!.robot.batteryPercent, samples[9_999]!.batteryPercent);
    assert.deepEqual(body.data!.robot.position, {
      latitude: samples[9_999]!.latitude,
      longitude: samples[9_999]!.longitude,
      heading: null,
    });

    // A limit above what the range holds returns all of it, from every day partition.
    const inRange = samples
      .slice(1_000)
      .map((s) => s.recordedAt)
      .reverse();
    const all = await fleet.request<{ robot: { telemetry: { recordedAt: string }[] } }>(TELEMETRY, {
      id: robotId,
      from: samples[1_000]!.recordedAt,
      to,
      limit: 10_000,
    });
    assert.equal(all.body.errors, undefined);
    const read = all.body.data!.robot.telemetry.map((s) => s.recordedAt);
    assert.equal(read.length, 9_000);
    assert.deepEqual(read, inRange);
    assert.equal(new Set(read.map((at) => at.slice(0, 10))).size, 3);

    // A late backlog of older samples is stored but does not move the heartbeat back.
    const late = await fleet.request(REPORT, {
      id: robotId,
      samples: [{ recordedAt: new Date(Date.parse(to) - 500).toISOString(), batteryPercent: 1 }],
    });
    assert.equal(late.body.errors, undefined);
    const afterLate = await fleet.request<{
      robot: { lastHeartbeatAt: string; batteryPercent: number };
    }>(TELEMETRY, { id: robotId, from, to, limit: 1 });
    assert.equal(afterLate.body.data?.robot.lastHeartbeatAt, to);
    assert.equal(afterLate.body.data?.robot.batteryPercent, samples[9_999]!.batteryPercent);
  });

  it('when a robot changes status, then the by-status listing moves it', async () => {
    const robotId = await registerRobot();
    const inStatus = async (status: string) =>
      (await pageAll(scratchFleet, 500, status)).map((robot) => robot.id).includes(robotId);
    assert.ok(await inStatus('OFFLINE'), 'a new robot is OFFLINE');
    const { body } = await fleet.request<{
      updateRobotStatus: { status: string; batteryPercent: number };
    }>(
      'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: CHARGING, batteryPercent: 12.5) { status batteryPercent } }',
      { id: robotId },
    );
    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data?.updateRobotStatus, { status: 'CHARGING', batteryPercent: 12.5 });
    assert.ok(await inStatus('CHARGING'));
    assert.ok(!(await inStatus('OFFLINE')));
    const oldRow = await cql(
      'SELECT robot_id FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket = ? AND robot_id = ?',
      [scratchFleet, 'OFFLINE', bucketOf(robotId), robotId],
    );
    assert.equal(oldRow.rowLength, 0, 'the old by-status row is deleted, not just hidden');
  });

  it('when missions are assigned and completed, then the robot has at most one current mission', async () => {
    const robotId = await registerRobot({ operatorId: seedIds.user(0, 1) });
    const assign =
      'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["pick aisle 4", "drop dock 2"] }) { id status steps createdBy { id } robot { currentMission { id } } } }';
    const first = await fleet.request<{
      assignMission: {
        id: string;
        status: string;
        steps: string[];
        createdBy: { id: string };
        robot: { currentMission: { id: string } };
      };
    }>(assign, { id: robotId });
    assert.equal(first.body.errors, undefined);
    const mission = first.body.data!.assignMission;
    assert.equal(mission.status, 'IN_PROGRESS');
    assert.deepEqual(mission.steps, ['pick aisle 4', 'drop dock 2']);
    assert.equal(
      mission.createdBy.id,
      ADMIN_OF_ORG0.kind === 'user' ? ADMIN_OF_ORG0.userId : '',
      'created by the signed-in user',
    );
    assert.equal(mission.robot.currentMission.id, mission.id);

    const second = await fleet.request(assign, { id: robotId });
    assert.equal(second.body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
    const missionRows = await cql(
      'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
      [robotId, new Date().getUTCFullYear()],
    );
    assert.equal(missionRows.rowLength, 1, 'the refused mission left no rows');

    const complete =
      'mutation($id: ID!) { completeMission(missionId: $id) { id status completedAt robot { currentMission { id } } } }';
    const completed = await fleet.request<{
      completeMission: { status: string; completedAt: string; robot: { currentMission: null } };
    }>(complete, { id: mission.id });
    assert.equal(completed.body.errors, undefined);
    assert.equal(completed.body.data?.completeMission.status, 'COMPLETED');
    assert.ok(completed.body.data?.completeMission.completedAt);
    assert.equal(completed.body.data?.completeMission.robot.currentMission, null);
    const reread = await fleet.request<{
      robot: { currentMission: null };
      mission: { status: string };
    }>(
      'query($r: ID!, $m: ID!) { robot(id: $r) { currentMission { id } } mission(id: $m) { status } }',
      {
        r: robotId,
        m: mission.id,
      },
    );
    assert.deepEqual(reread.body.data, {
      robot: { currentMission: null },
      mission: { status: 'COMPLETED' },
    });
    const again = await fleet.request(complete, { id: mission.id });
    assert.equal(again.body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
    const next = await fleet.request(assign, { id: robotId });
    assert.equal(next.body.errors, undefined, 'a freed robot takes a new mission');
  });

  it('when a robot is registered, changes status, reports telemetry and takes and ends a mission, then its robots_by_fleet_page row follows robots_by_id', async () => {
    const robotId = await registerRobot({ operatorId: seedIds.user(0, 1), firmware: 'v9.9.9' });
    const columns =
      'serial, model, status, battery_percent, firmware, last_heartbeat_at, latitude, longitude, heading, operator_id, current_mission_id, registered_at';
    const inStep = async (step: string, missionStatus: string | null) => {
      const source = (
        await cql(`SELECT ${columns} FROM robots_by_id WHERE robot_id = ?`, [robotId])
      ).first();
      const page = (
        await cql(
          `SELECT ${columns}, current_mission_status FROM robots_by_fleet_page WHERE fleet_id = ? AND robot_id = ?`,
          [scratchFleet, robotId],
        )
      ).first();
      assert.ok(page, `${step}: the page row exists`);
      for (const column of columns.split(', '))
        assert.equal(String(page[column]), String(source[column]), `${step}: ${column}`);
      assert.equal(page['current_mission_status'], missionStatus, `${step}: mission status`);
    };
    await inStep('registerRobot', null);
    const status = await fleet.request(
      'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: ACTIVE, batteryPercent: 61.5) { id } }',
      { id: robotId },
    );
    assert.equal(status.body.errors, undefined);
    await inStep('updateRobotStatus', null);
    const sample = {
      recordedAt: new Date().toISOString(),
      batteryPercent: 60,
      latitude: 52.5,
      longitude: 13.4,
    };
    const reported = await fleet.request(REPORT, { id: robotId, samples: [sample] });
    assert.equal(reported.body.errors, undefined);
    await inStep('reportTelemetry', null);
    const assigned = await fleet.request<{ assignMission: { id: string } }>(
      'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["a"] }) { id } }',
      { id: robotId },
    );
    assert.equal(assigned.body.errors, undefined);
    await inStep('assignMission', 'IN_PROGRESS');
    const listed = await pageAll(scratchFleet, 500);
    assert.deepEqual(listed.find((robot) => robot.id === robotId)?.currentMission, {
      id: assigned.body.data!.assignMission.id,
      status: 'IN_PROGRESS',
    });
    const completed = await fleet.request(
      'mutation($id: ID!) { completeMission(missionId: $id, outcome: FAILED) { id } }',
      { id: assigned.body.data!.assignMission.id },
    );
    assert.equal(completed.body.errors, undefined);
    await inStep('completeMission', null);
  });

  it('when telemetry is reported, then the heartbeat reaches robots_by_id and the page row in one request (an unlogged batch)', async () => {
    const robotId = await registerRobot();
    const statements = async (table: string, kind: string) =>
      fleet.metric('fleetgraph_cassandra_statements_total', { table, kind });
    const tables = ['robots_by_id', 'robots_by_fleet_page'];
    const before = await Promise.all(
      tables.flatMap((table) => [statements(table, 'batch'), statements(table, 'update')]),
    );
    const recordedAt = new Date(Date.now() + 1000).toISOString();
    const reported = await fleet.request(REPORT, {
      id: robotId,
      samples: [{ recordedAt, batteryPercent: 42 }],
    });
    assert.equal(reported.body.errors, undefined, JSON.stringify(reported.body.errors));
    const after = await Promise.all(
      tables.flatMap((table) => [statements(table, 'batch'), statements(table, 'update')]),
    );
    // [robots_by_id batch, robots_by_id update, page batch, page update]
    assert.deepEqual(
      after.map((count, i) => count - before[i]!),
      [1, 0, 1, 0],
      'each row once, in a batch, none as a statement of its own',
    );
    for (const [table, key] of [
      ['robots_by_id', 'robot_id = ?'],
      ['robots_by_fleet_page', 'fleet_id = ? AND robot_id = ?'],
    ] as const) {
      const params = table === 'robots_by_id' ? [robotId] : [scratchFleet, robotId];
      const row = (
        await cql(`SELECT last_heartbeat_at, battery_percent FROM ${table} WHERE ${key}`, params)
      ).first();
      assert.equal(new Date(row['last_heartbeat_at'] as Date).toISOString(), recordedAt, table);
      assert.equal(row['battery_percent'], 42, table);
    }
  });

  it('when five assignMission calls race for one robot, then exactly one wins and the others leave no rows', async () => {
    const robotId = await registerRobot();
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        fleet.request<{ assignMission: { id: string } }>(
          'mutation($id: ID!, $step: String!) { assignMission(input: { robotId: $id, steps: [$step] }) { id } }',
          { id: robotId, step: `race ${i}` },
        ),
      ),
    );
    const winners = responses.filter((r) => r.body.data?.assignMission);
    assert.equal(winners.length, 1);
    assert.deepEqual(
      responses
        .filter((r) => !r.body.data?.assignMission)
        .map((r) => r.body.errors?.[0]?.extensions?.['code']),
      ['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT'],
    );
    const missions = await cql(
      'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
      [robotId, new Date().getUTCFullYear()],
    );
    assert.deepEqual(
      missions.rows.map((row) => String(row['mission_id'])),
      [winners[0]!.body.data!.assignMission.id],
    );
    const robot = await cql('SELECT current_mission_id FROM robots_by_id WHERE robot_id = ?', [
      robotId,
    ]);
    assert.equal(
      String(robot.first()['current_mission_id']),
      winners[0]!.body.data!.assignMission.id,
    );
  });

  it('when a partner key assigns a mission, then FORBIDDEN: missions are created by users', async () => {
    const partner: Identity = {
      kind: 'partner',
      apiKeyId: 'test-key',
      organizationId: seedIds.organization(0),
      scopes: [],
    };
    const { body } = await fleet.request(
      'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["a"] }) { id } }',
      { id: SEEDED_ROBOTS[0] },
      partner,
    );
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
  });

  it('when arguments are malformed or out of range, then BAD_USER_INPUT names the argument', async () => {
    const robot = SEEDED_ROBOTS[0]!;
    const now = Date.now();
    const iso = (at: number) => new Date(at).toISOString();
    const telemetry = (from: number, to: number, limit = 10) =>
      `{ robot(id: "${robot}") { telemetry(from: "${iso(from)}", to: "${iso(to)}", limit: ${limit}) { recordedAt } } }`;
    const cases: [string, RegExp][] = [
      ['{ robot(id: "42") { id } }', /^Argument "id" must be a UUID/],
      ['{ fleet(id: "not-a-fleet") { id } }', /^Argument "id" must be a UUID/],
      [`{ mission(id: "${robot}") { id } }`, /^Argument "id" must be a mission id/],
      [
        'mutation { updateRobotStatus(robotId: "nope", status: IDLE) { id } }',
        /^Argument "robotId" must be a UUID/,
      ],
      [
        `{ fleet(id: "${SEEDED_FLEET}") { robots(first: 501) { nodes { id } } } }`,
        /^Argument "first" must be between 1 and 500/,
      ],
      [telemetry(now - DAY_MS, now - 2 * DAY_MS), /^Argument "to" must be after "from"/],
      [telemetry(now - 32 * DAY_MS, now), /^Argument "from" must be at most 31 days/],
      [telemetry(now - DAY_MS, now, 10_001), /^Argument "limit" must be between 1 and 10000/],
      [
        `mutation { assignMission(input: { robotId: "${robot}", steps: [] }) { id } }`,
        /^Argument "input.steps" must have 1 to 100 steps/,
      ],
      [
        `mutation { updateRobotStatus(robotId: "${robot}", status: IDLE, batteryPercent: 101) { id } }`,
        /^Argument "batteryPercent" must be between 0 and 100/,
      ],
    ];
    for (const [query, message] of cases) {
      const { body } = await fleet.request(query);
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT', query);
      assert.match(body.errors![0]!.message, message, query);
    }
  });

  it('when a mutation names an unknown robot, then NOT_FOUND', async () => {
    const { body } = await fleet.request(
      'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: IDLE) { id } }',
      { id: randomUUID() },
    );
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    assert.match(body.errors![0]!.message, /^Robot .* was not found$/);
  });

  it('when a report has 10,001 samples or one invalid sample, then BAD_USER_INPUT and nothing is written', async () => {
    const robotId = await registerRobot();
    const days = [0, 1].map((d) => utcDay(new Date(Date.now() - d * DAY_MS)));
    const sample = (i: number) => ({
      recordedAt: new Date(Date.now() - 1000 - i * 1000).toISOString(),
      batteryPercent: 50,
    });
    const before = await telemetryRows(robotId, days);

    const tooMany = await fleet.request(REPORT, {
      id: robotId,
      samples: Array.from({ length: 10_001 }, (_, i) => sample(i)),
    });
    assert.equal(tooMany.body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    assert.match(tooMany.body.errors![0]!.message, /^Argument "samples" accepts at most 10000/);

    const oneBad = Array.from({ length: 500 }, (_, i) => sample(i));
    oneBad[499] = { ...oneBad[499]!, latitude: 91 } as (typeof oneBad)[number];
    const invalid = await fleet.request(REPORT, { id: robotId, samples: oneBad });
    assert.equal(invalid.body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    assert.match(invalid.body.errors![0]!.message, /^Argument "samples\[499\]\.latitude"/);

    const future = await fleet.request(REPORT, {
      id: robotId,
      samples: [{ recordedAt: new Date(Date.now() + 10 * 60_000).toISOString() }],
    });
    assert.match(future.body.errors![0]!.message, /^Argument "samples\[0\]\.recordedAt"/);

    assert.equal(await telemetryRows(robotId, days), before);
    assert.equal(before, 0);
  });

  it('when a serial is registered twice, then CONFLICT and no second robot is written', async () => {
    const serial = `DUP-${randomUUID()}`;
    await registerRobot({ serial });
    const count = async () =>
      Number(
        (
          await cql('SELECT count(*) FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [
            scratchFleet,
            BUCKETS,
          ])
        ).first()['count'],
      );
    const before = await count();
    const { body } = await fleet.request(REGISTER, {
      input: { fleetId: scratchFleet, serial, model: 'Picker-X' },
    });
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
    assert.equal(await count(), before);
  });

  it('when a cursor is forged or replayed on another connection, then BAD_USER_INPUT names "after"', async () => {
    const first = await fleet.request<RobotPage>(ROBOT_PAGE, { id: SEEDED_FLEET, first: 2 });
    const cursor = first.body.data!.fleet.robots.pageInfo.endCursor!;
    for (const [id, after, status] of [
      [seedIds.fleet(0, 1), cursor, undefined],
      [SEEDED_FLEET, cursor, 'ACTIVE'],
      [SEEDED_FLEET, `${cursor.slice(0, -3)}abc`, undefined],
      [SEEDED_FLEET, 'not-a-cursor', undefined],
    ] as const) {
      const { body } = await fleet.request(ROBOT_PAGE, { id, first: 2, after, status });
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
      assert.match(body.errors![0]!.message, /^Argument "after" is not a valid cursor/);
    }
  });
});
