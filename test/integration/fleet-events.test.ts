/**
 * The fleet's change events (issue 18, write path) against the real Cassandra node and Redis:
 * what each mutation appends to its fleet's stream and when, the event query fields the router
 * answers subscription events through (tenant isolation included), the subgraph's own
 * subscriptions, a Redis outage during writes and the retention trims — the last two on a
 * private Redis of this test's (never the shared one on :6379).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parse, subscribe, type ExecutionResult } from 'graphql';
import { BUCKET_COUNT, utcDay } from '../../platform/cassandra/buckets.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import type { Identity } from '../../platform/contract/identity.js';
import {
  fleetStreamKey,
  fromStreamEntry,
  toStreamFields,
  type FleetEvent,
} from '../../platform/events/contract.js';
import { EventPublisher } from '../../platform/events/publisher.js';
import { createLogger } from '../../platform/logger.js';
import { newestEventId } from '../../platform/events/stream.js';
import {
  createRedis,
  createSubscriber,
  waitForRedis,
  type RedisClient,
} from '../../platform/redis/client.js';
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import { Db } from '../../subgraphs/kit/cassandra/db.js';
import { CursorCodec } from '../../subgraphs/kit/cassandra/pagination.js';
import { createSubgraphMetrics } from '../../subgraphs/kit/metrics.js';
import type { SubgraphResources } from '../../subgraphs/kit/server.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { cassandraForTest, testConfig, testSubgraphConfig } from '../support/stack.js';
import { ADMIN_OF_ORG0, startSubgraph, type RunningSubgraph } from '../support/subgraphs.js';

const ORG0 = seedIds.organization(0);
const ORG1 = seedIds.organization(1);
const ADMIN_OF_ORG1: Identity = {
  kind: 'user',
  userId: seedIds.user(1, 0),
  organizationId: ORG1,
  roles: ['admin', 'operator', 'viewer'],
  sessionId: null,
};
/** A partner key of organization 0 that may read fleets, not telemetry, and write nothing. */
const VIEWER_KEY_OF_ORG0: Identity = {
  kind: 'partner',
  apiKeyId: 'events-test-key',
  organizationId: ORG0,
  scopes: ['fleet:read'],
};
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'];
const BUCKETS = Array.from({ length: BUCKET_COUNT }, (_, i) => i);

const REGISTER =
  'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id fleet { id } } }';
const STATUS =
  'mutation($id: ID!, $status: RobotStatus!, $battery: Float) { updateRobotStatus(robotId: $id, status: $status, batteryPercent: $battery) { id status } }';
const ASSIGN =
  'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["dock", "pick"] }) { id } }';
const COMPLETE = 'mutation($id: ID!) { completeMission(missionId: $id) { id status } }';
const REPORT =
  'mutation($id: ID!, $samples: [TelemetrySampleInput!]!) { reportTelemetry(robotId: $id, samples: $samples) { accepted } }';
const ROBOT_EVENT =
  'query($f: ID!, $e: ID!) { robotEvent(fleetId: $f, eventId: $e) { id kind at robot { id status } } }';
const MISSION_EVENT =
  'query($r: ID!, $e: ID!) { missionEvent(robotId: $r, eventId: $e) { id kind at mission { id status robot { id } } } }';
const TELEMETRY_EVENT =
  'query($r: ID!, $e: ID!) { telemetryEvent(robotId: $r, eventId: $e) { id kind robot { id } samples { recordedAt batteryPercent } } }';

type Body = Awaited<ReturnType<RunningSubgraph['request']>>['body'];

function codeOf(body: Body): unknown {
  return body.errors?.[0]?.extensions?.['code'];
}

function ok<T>(body: Body): T {
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data as T;
}

/** A Redis client on `url` with the test's own key prefix (the subgraphs' events go there). */
async function redisAt(url: string, keyPrefix: string): Promise<RedisClient> {
  const client = createRedis({
    redis: { ...testConfig.redis, url, keyPrefix, commandTimeoutMs: 2000 },
  });
  client.on('error', () => undefined);
  await waitForRedis(client, 5000);
  return client;
}

async function streamOf(redis: RedisClient, fleetId: string): Promise<FleetEvent[]> {
  const entries = await redis.xrange(fleetStreamKey(fleetId), '-', '+');
  return entries.map(([id, fields]) => fromStreamEntry(id, fields)!);
}

/** Stream ids in stream order: by time, then sequence. */
function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number];
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number];
  return aMs - bMs || aSeq - bSeq;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('fleet change events against the real Cassandra node and Redis', () => {
  let cassandra: CassandraClient;
  let fleet: RunningSubgraph;
  let redis: RedisClient;
  /** Every key this file writes is under its own prefix on the shared Redis. */
  const prefix = `fgtest:events:${randomUUID()}:`;
  const fleetA = randomUUID();
  const otherFleetOfOrg0 = randomUUID();
  const fleetOfOrg1 = randomUUID();
  const scratchFleets: [string, string][] = [
    [fleetA, ORG0],
    [otherFleetOfOrg0, ORG0],
    [fleetOfOrg1, ORG1],
  ];
  const registered: { id: string; organizationId: string; serial: string }[] = [];

  const cql = (query: string, params: unknown[] = []) =>
    cassandra.execute(query, params, { prepare: true });

  async function registerRobot(
    fleetId = fleetA,
    identity: Identity = ADMIN_OF_ORG0,
    subgraph: RunningSubgraph = fleet,
  ): Promise<string> {
    const serial = `EVT-${randomUUID()}`;
    const { body } = await subgraph.request<{ registerRobot: { id: string } }>(
      REGISTER,
      { input: { fleetId, serial, model: 'AMR-200' } },
      identity,
    );
    const id = ok<{ registerRobot: { id: string } }>(body).registerRobot.id;
    registered.push({
      id,
      organizationId: identity.kind === 'user' ? identity.organizationId : ORG0,
      serial,
    });
    return id;
  }

  before(async () => {
    cassandra = await cassandraForTest();
    fleet = await startSubgraph(fleetSubgraph, cassandra, 0, { REDIS_KEY_PREFIX: prefix });
    redis = await redisAt(testConfig.redis.url, prefix);
    for (const [fleetId, organizationId] of scratchFleets) {
      await cql(
        'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [fleetId, organizationId, 'Events test', 'Test warehouse', 'UTC', new Date()],
      );
      await cql(
        'INSERT INTO fleets_by_organization (organization_id, fleet_id, name) VALUES (?, ?, ?)',
        [organizationId, fleetId, 'Events test'],
      );
    }
  });

  after(async () => {
    const today = Date.parse(utcDay(new Date()));
    const lastMonth = Array.from({ length: 32 }, (_, i) => utcDay(new Date(today - i * DAY_MS)));
    const year = new Date().getUTCFullYear();
    for (const robot of registered) {
      const missions = await cql(
        'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
        [robot.id, year],
      );
      for (const mission of missions.rows)
        await cql('DELETE FROM missions_by_id WHERE mission_id = ?', [mission['mission_id']]);
      await cql('DELETE FROM missions_by_robot WHERE robot_id = ? AND year = ?', [robot.id, year]);
      await cql('DELETE FROM telemetry_by_robot_day WHERE robot_id = ? AND day IN ?', [
        robot.id,
        lastMonth,
      ]);
      await cql(
        'DELETE FROM robots_by_organization_serial WHERE organization_id = ? AND serial = ?',
        [robot.organizationId, robot.serial],
      );
      await cql('DELETE FROM robots_by_id WHERE robot_id = ?', [robot.id]);
    }
    for (const [fleetId, organizationId] of scratchFleets) {
      await cql('DELETE FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [
        fleetId,
        BUCKETS,
      ]);
      await cql('DELETE FROM robots_by_fleet_page WHERE fleet_id = ?', [fleetId]);
      for (const status of STATUSES)
        await cql(
          'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?',
          [fleetId, status, BUCKETS],
        );
      await cql('DELETE FROM fleets_by_organization WHERE organization_id = ? AND fleet_id = ?', [
        organizationId,
        fleetId,
      ]);
      await cql('DELETE FROM fleets_by_id WHERE fleet_id = ?', [fleetId]);
      await redis.del(fleetStreamKey(fleetId));
    }
    redis.disconnect();
    await fleet.close();
    await cassandra.shutdown();
  });

  describe('the write path', () => {
    it('when each mutation succeeds, then its event is in its fleet stream, in order, with the write already readable', async () => {
      const published = () => fleet.metric('fleetgraph_events_published_total');
      const publishedBefore = await published();
      // A reader blocked on the stream before the write: when it sees the event, the robot's row
      // must already be in Cassandra (the event is appended after the write, never before).
      const reader = createSubscriber(redis);
      const newest = await newestEventId(redis, fleetA);
      const firstRead = reader.xread('BLOCK', 10_000, 'STREAMS', fleetStreamKey(fleetA), newest);
      const robotIdWritten = registerRobot();
      const entry = (await firstRead)?.[0]?.[1][0];
      assert.ok(entry, 'an event was appended');
      const robotRow = await cql('SELECT robot_id FROM robots_by_id WHERE robot_id = ?', [
        fromStreamEntry(entry[0], entry[1])?.robotId,
      ]);
      reader.disconnect();
      const robotId = await robotIdWritten;
      assert.equal(robotRow.rowLength, 1, 'the row was written before the event');
      assert.equal(fromStreamEntry(entry[0], entry[1])?.robotId, robotId);

      ok(
        (await fleet.request(STATUS, { id: robotId, status: 'ACTIVE', battery: 80 }, ADMIN_OF_ORG0))
          .body,
      );
      const missionId = ok<{ assignMission: { id: string } }>(
        (await fleet.request(ASSIGN, { id: robotId })).body,
      ).assignMission.id;
      const recordedAt = [
        new Date(Date.now() - 3000).toISOString(),
        new Date(Date.now() - 1000).toISOString(),
      ];
      ok(
        (
          await fleet.request(REPORT, {
            id: robotId,
            samples: recordedAt.map((at) => ({ recordedAt: at, batteryPercent: 79 })),
          })
        ).body,
      );
      ok((await fleet.request(COMPLETE, { id: missionId })).body);

      const events = (await streamOf(redis, fleetA)).filter((e) => e.robotId === robotId);
      assert.deepEqual(
        events.map((e) => e.kind),
        [
          'ROBOT_REGISTERED',
          'ROBOT_STATUS_CHANGED',
          'MISSION_ASSIGNED',
          'TELEMETRY_REPORTED',
          'MISSION_COMPLETED',
        ],
      );
      for (const event of events) {
        assert.equal(event.organizationId, ORG0);
        assert.equal(event.fleetId, fleetA);
        assert.ok(Date.now() - Date.parse(event.at) < 60_000, event.at);
      }
      assert.equal(events[2]!.missionId, missionId);
      assert.equal(events[4]!.missionId, missionId);
      assert.deepEqual(
        [events[3]!.sampleFrom, events[3]!.sampleTime, events[3]!.sampleCount],
        [recordedAt[0], recordedAt[1], 2],
      );
      assert.equal((await published()) - publishedBefore, 5);
      // Retention: the stream expires one window after its newest event.
      const ttl = await redis.pttl(fleetStreamKey(fleetA));
      assert.ok(ttl > 9 * MINUTE_MS && ttl <= 10 * MINUTE_MS, `PTTL ${ttl}`);
    });

    it('when a mutation is rejected, then no event is appended', async () => {
      const robotId = await registerRobot();
      const missionId = ok<{ assignMission: { id: string } }>(
        (await fleet.request(ASSIGN, { id: robotId })).body,
      ).assignMission.id;
      ok((await fleet.request(COMPLETE, { id: missionId })).body);
      const robotOfOrg1 = await registerRobot(fleetOfOrg1, ADMIN_OF_ORG1);
      const lengthOf = () => redis.xlen(fleetStreamKey(fleetA));
      const lengthOfOrg1 = () => redis.xlen(fleetStreamKey(fleetOfOrg1));
      const before = [await lengthOf(), await lengthOfOrg1()];

      const rejected: [string, Record<string, unknown>, string, Identity?][] = [
        [STATUS, { id: robotId, status: 'ACTIVE', battery: 101 }, 'BAD_USER_INPUT'],
        [STATUS, { id: randomUUID(), status: 'ACTIVE' }, 'NOT_FOUND'],
        // Another organization's robot: NOT_FOUND, and nothing in either stream.
        [STATUS, { id: robotOfOrg1, status: 'ACTIVE' }, 'NOT_FOUND'],
        [COMPLETE, { id: missionId }, 'CONFLICT'],
        [
          REPORT,
          { id: robotId, samples: [{ recordedAt: '2001-01-01T00:00:00Z' }] },
          'BAD_USER_INPUT',
        ],
        [REGISTER, { input: { fleetId: fleetOfOrg1, serial: 'X-1', model: 'M' } }, 'NOT_FOUND'],
        // A partner key that may read but not write.
        [STATUS, { id: robotId, status: 'ACTIVE' }, 'FORBIDDEN', VIEWER_KEY_OF_ORG0],
      ];
      for (const [query, variables, code, identity] of rejected) {
        const { body } = await fleet.request(query, variables, identity ?? ADMIN_OF_ORG0);
        assert.equal(codeOf(body), code, `${query} ${JSON.stringify(variables)}`);
      }
      // Nothing written, nothing announced: an empty report.
      ok((await fleet.request(REPORT, { id: robotId, samples: [] })).body);
      const missionAgain = ok<{ assignMission: { id: string } }>(
        (await fleet.request(ASSIGN, { id: robotId })).body,
      ).assignMission.id;
      const conflict = await fleet.request(ASSIGN, { id: robotId });
      assert.equal(codeOf(conflict.body), 'CONFLICT');

      // Only the one accepted assignMission appended (the control that the stream is live).
      assert.deepEqual([await lengthOf(), await lengthOfOrg1()], [before[0]! + 1, before[1]]);
      const [last] = await redis.xrevrange(fleetStreamKey(fleetA), '+', '-', 'COUNT', 1);
      assert.equal(fromStreamEntry(last![0], last![1])?.missionId, missionAgain);
    });
  });

  describe('the event query fields', () => {
    let robotId: string;
    let statusEvent: string;
    let missionEvent: string;
    let telemetryEvent: string;
    let missionId: string;
    const sampleTimes = [
      new Date(Date.now() - 5000).toISOString(),
      new Date(Date.now() - 4000).toISOString(),
      new Date(Date.now() - 2000).toISOString(),
    ];

    before(async () => {
      robotId = await registerRobot();
      ok((await fleet.request(STATUS, { id: robotId, status: 'CHARGING' })).body);
      missionId = ok<{ assignMission: { id: string } }>(
        (await fleet.request(ASSIGN, { id: robotId })).body,
      ).assignMission.id;
      ok(
        (
          await fleet.request(REPORT, {
            id: robotId,
            samples: sampleTimes.map((recordedAt, i) => ({ recordedAt, batteryPercent: 50 + i })),
          })
        ).body,
      );
      const events = (await streamOf(redis, fleetA)).filter((e) => e.robotId === robotId);
      statusEvent = events.find((e) => e.kind === 'ROBOT_STATUS_CHANGED')!.id;
      missionEvent = events.find((e) => e.kind === 'MISSION_ASSIGNED')!.id;
      telemetryEvent = events.find((e) => e.kind === 'TELEMETRY_REPORTED')!.id;
    });

    it('when the fleet owner asks for an event by id, then it gets the event and what it names, as it is now', async () => {
      const robot = ok<{ robotEvent: Record<string, unknown> }>(
        (await fleet.request(ROBOT_EVENT, { f: fleetA, e: statusEvent })).body,
      ).robotEvent;
      assert.equal(robot['id'], statusEvent);
      assert.equal(robot['kind'], 'ROBOT_STATUS_CHANGED');
      assert.deepEqual(robot['robot'], { id: robotId, status: 'CHARGING' });
      assert.ok(typeof robot['at'] === 'string' && !Number.isNaN(Date.parse(robot['at'])));

      const mission = ok<{ missionEvent: Record<string, unknown> }>(
        (await fleet.request(MISSION_EVENT, { r: robotId, e: missionEvent })).body,
      ).missionEvent;
      assert.deepEqual(mission['mission'], {
        id: missionId,
        status: 'IN_PROGRESS',
        robot: { id: robotId },
      });
      assert.equal(mission['kind'], 'MISSION_ASSIGNED');

      const telemetry = ok<{ telemetryEvent: Record<string, unknown> }>(
        (await fleet.request(TELEMETRY_EVENT, { r: robotId, e: telemetryEvent })).body,
      ).telemetryEvent;
      assert.equal(telemetry['kind'], 'TELEMETRY_REPORTED');
      assert.deepEqual(
        telemetry['samples'],
        [...sampleTimes].reverse().map((recordedAt, i) => ({
          recordedAt,
          batteryPercent: 52 - i,
        })),
      );
    });

    it('when an event is asked for through the wrong field, fleet or robot, then the answer is null', async () => {
      const nulls: [string, Record<string, unknown>, string][] = [
        // A status change is no mission or telemetry event.
        [MISSION_EVENT, { r: robotId, e: statusEvent }, 'missionEvent'],
        [TELEMETRY_EVENT, { r: robotId, e: missionEvent }, 'telemetryEvent'],
        // Another fleet of the same organization: not in its stream.
        [ROBOT_EVENT, { f: otherFleetOfOrg0, e: statusEvent }, 'robotEvent'],
        // Another robot of the same fleet.
        [MISSION_EVENT, { r: await registerRobot(), e: missionEvent }, 'missionEvent'],
        // An id nobody was given.
        [ROBOT_EVENT, { f: fleetA, e: '1-0' }, 'robotEvent'],
        // An unknown fleet.
        [ROBOT_EVENT, { f: randomUUID(), e: statusEvent }, 'robotEvent'],
      ];
      for (const [query, variables, field] of nulls) {
        const data = ok<Record<string, unknown>>((await fleet.request(query, variables)).body);
        assert.equal(data[field], null, `${field} ${JSON.stringify(variables)}`);
      }
    });

    it('when another organization asks for an event of this fleet, then it gets null, never the event', async () => {
      const asOrg1: [string, Record<string, unknown>, string][] = [
        [ROBOT_EVENT, { f: fleetA, e: statusEvent }, 'robotEvent'],
        [MISSION_EVENT, { r: robotId, e: missionEvent }, 'missionEvent'],
        [TELEMETRY_EVENT, { r: robotId, e: telemetryEvent }, 'telemetryEvent'],
        // Its own fleet with this fleet's event id: not in its stream.
        [ROBOT_EVENT, { f: fleetOfOrg1, e: statusEvent }, 'robotEvent'],
      ];
      for (const [query, variables, field] of asOrg1) {
        const answer: Body = (await fleet.request(query, variables, ADMIN_OF_ORG1)).body;
        assert.deepEqual(
          answer,
          { data: { [field]: null } },
          `${field} ${JSON.stringify(variables)}`,
        );
      }
      // A forged entry in this fleet's stream claiming organization 1: neither tenant gets it.
      const forged = await redis.xadd(
        fleetStreamKey(fleetA),
        '*',
        ...toStreamFields({
          kind: 'ROBOT_STATUS_CHANGED',
          organizationId: ORG1,
          fleetId: fleetA,
          robotId,
          at: new Date().toISOString(),
        }),
      );
      for (const identity of [ADMIN_OF_ORG0, ADMIN_OF_ORG1]) {
        const answer: Body = (await fleet.request(ROBOT_EVENT, { f: fleetA, e: forged }, identity))
          .body;
        assert.deepEqual(answer, { data: { robotEvent: null } });
      }
    });

    it('when an event is older than the retention window, then it is null even while Redis still holds it', async () => {
      const now = Date.now();
      const fields = toStreamFields({
        kind: 'ROBOT_STATUS_CHANGED',
        organizationId: ORG0,
        fleetId: otherFleetOfOrg0,
        robotId,
        at: new Date(now).toISOString(),
      });
      const key = fleetStreamKey(otherFleetOfOrg0);
      const expired = await redis.xadd(key, `${now - 11 * MINUTE_MS}-0`, ...fields);
      const retained = await redis.xadd(key, `${now - 9 * MINUTE_MS}-0`, ...fields);
      const answer = async (eventId: string | null) =>
        ok<{ robotEvent: { id: string } | null }>(
          (await fleet.request(ROBOT_EVENT, { f: otherFleetOfOrg0, e: eventId })).body,
        ).robotEvent;
      assert.equal(await answer(expired), null);
      assert.equal((await answer(retained))?.id, retained);
    });

    it('when an argument is malformed or the caller may not read, then the error has a code', async () => {
      const cases: [string, Record<string, unknown>, string, Identity][] = [
        [ROBOT_EVENT, { f: fleetA, e: 'latest' }, 'BAD_USER_INPUT', ADMIN_OF_ORG0],
        [ROBOT_EVENT, { f: 'fleet-a', e: statusEvent }, 'BAD_USER_INPUT', ADMIN_OF_ORG0],
        [MISSION_EVENT, { r: 'r', e: missionEvent }, 'BAD_USER_INPUT', ADMIN_OF_ORG0],
        [TELEMETRY_EVENT, { r: robotId, e: '12-x' }, 'BAD_USER_INPUT', ADMIN_OF_ORG0],
        // A fleet:read key without telemetry:read: telemetry events are refused.
        [TELEMETRY_EVENT, { r: robotId, e: telemetryEvent }, 'FORBIDDEN', VIEWER_KEY_OF_ORG0],
        [ROBOT_EVENT, { f: fleetA, e: statusEvent }, 'UNAUTHENTICATED', { kind: 'anonymous' }],
      ];
      for (const [query, variables, code, identity] of cases) {
        const { body } = await fleet.request(query, variables, identity);
        assert.equal(codeOf(body), code, `${JSON.stringify(variables)}`);
      }
      // The same key reads robot events.
      const answer: Body = (
        await fleet.request(ROBOT_EVENT, { f: fleetA, e: statusEvent }, VIEWER_KEY_OF_ORG0)
      ).body;
      assert.equal(ok<{ robotEvent: { id: string } }>(answer).robotEvent.id, statusEvent);
    });
  });

  describe("the subgraph's own subscriptions (graphql-js subscribe)", () => {
    let resources: SubgraphResources;
    let robotId: string;

    /** A context like the server's, for graphql-js's subscribe() on the server's schema. */
    function contextFor(identity: Identity) {
      const config = testSubgraphConfig('fleet', { REDIS_KEY_PREFIX: prefix });
      const metrics = createSubgraphMetrics('fleet-test', { defaultMetrics: false });
      return fleetSubgraph.createContext({
        identity,
        requestId: 'subscription-test',
        db: new Db(cassandra, metrics),
        cursors: new CursorCodec(config.cursorSigningSecret),
        metrics,
        logger: createLogger(config, 'test'),
        resources: resources.value,
      });
    }

    async function open(
      document: string,
      variables: Record<string, unknown>,
      identity = ADMIN_OF_ORG0,
    ) {
      return subscribe({
        schema: fleet.server.schema,
        document: parse(document),
        variableValues: variables,
        contextValue: contextFor(identity),
      });
    }

    async function nextOf(
      iterator: AsyncIterator<ExecutionResult>,
    ): Promise<Record<string, Record<string, unknown>>> {
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no event within 5 s')), 5000).unref(),
      );
      const result = await Promise.race([iterator.next(), timeout]);
      assert.equal(result.done, false);
      assert.equal(result.value.errors, undefined, JSON.stringify(result.value.errors));
      // graphql-js builds results with null prototypes: compare them as the JSON a client gets.
      return JSON.parse(JSON.stringify(result.value.data)) as Record<
        string,
        Record<string, unknown>
      >;
    }

    before(async () => {
      const config = testSubgraphConfig('fleet', { REDIS_KEY_PREFIX: prefix });
      resources = await fleetSubgraph.open!({
        config,
        logger: createLogger(config, 'test'),
        metrics: createSubgraphMetrics('fleet-test', { defaultMetrics: false }),
      });
      robotId = await registerRobot();
    });

    after(async () => {
      await resources.close();
    });

    it('when a robot of the fleet changes, then robotChanged delivers it with the robot as it is now', async () => {
      const result = await open(
        'subscription($f: ID!) { robotChanged(fleetId: $f) { id kind robot { id status batteryPercent } } }',
        { f: fleetA },
      );
      assert.ok(Symbol.asyncIterator in result, JSON.stringify(result));
      const iterator = result as AsyncGenerator<ExecutionResult>;
      ok((await fleet.request(STATUS, { id: robotId, status: 'ERROR', battery: 12 })).body);
      ok((await fleet.request(STATUS, { id: robotId, status: 'IDLE', battery: 13 })).body);
      const first = (await nextOf(iterator))['robotChanged']!;
      const second = (await nextOf(iterator))['robotChanged']!;
      assert.equal(first['kind'], 'ROBOT_STATUS_CHANGED');
      assert.equal(second['kind'], 'ROBOT_STATUS_CHANGED');
      assert.ok(compareIds(String(first['id']), String(second['id'])) < 0, 'in stream order');
      // Each event is resolved when delivered: both already show the latest write.
      assert.deepEqual(second['robot'], { id: robotId, status: 'IDLE', batteryPercent: 13 });
      const closed = Date.now();
      await iterator.return(undefined);
      assert.ok(Date.now() - closed < 1000, 'return() ends the blocked read at once');
    });

    it('when missions and telemetry change, then missionChanged and telemetryReported deliver only their own kinds for their robot', async () => {
      const missions = (await open(
        'subscription($r: ID!) { missionChanged(robotId: $r) { kind mission { id status } } }',
        { r: robotId },
      )) as AsyncGenerator<ExecutionResult>;
      const telemetry = (await open(
        'subscription($r: ID!) { telemetryReported(robotId: $r) { kind robot { id } samples { batteryPercent } } }',
        { r: robotId },
      )) as AsyncGenerator<ExecutionResult>;
      const otherRobot = await registerRobot();
      // Noise: other kinds, and the same kinds of another robot of the fleet.
      ok((await fleet.request(STATUS, { id: robotId, status: 'ACTIVE' })).body);
      ok((await fleet.request(ASSIGN, { id: otherRobot })).body);
      const at = new Date(Date.now() - 1000).toISOString();
      ok(
        (
          await fleet.request(REPORT, {
            id: otherRobot,
            samples: [{ recordedAt: at, batteryPercent: 1 }],
          })
        ).body,
      );
      const missionId = ok<{ assignMission: { id: string } }>(
        (await fleet.request(ASSIGN, { id: robotId })).body,
      ).assignMission.id;
      ok(
        (
          await fleet.request(REPORT, {
            id: robotId,
            samples: [{ recordedAt: at, batteryPercent: 64 }],
          })
        ).body,
      );
      ok((await fleet.request(COMPLETE, { id: missionId })).body);

      assert.deepEqual((await nextOf(missions))['missionChanged'], {
        kind: 'MISSION_ASSIGNED',
        mission: { id: missionId, status: 'COMPLETED' },
      });
      assert.deepEqual((await nextOf(missions))['missionChanged'], {
        kind: 'MISSION_COMPLETED',
        mission: { id: missionId, status: 'COMPLETED' },
      });
      assert.deepEqual((await nextOf(telemetry))['telemetryReported'], {
        kind: 'TELEMETRY_REPORTED',
        robot: { id: robotId },
        samples: [{ batteryPercent: 64 }],
      });
      await missions.return(undefined);
      await telemetry.return(undefined);
    });

    it('when a subscriber resumes with after, then it gets the retained events after that id, in order', async () => {
      const before = (await streamOf(redis, fleetA)).at(-1)!.id;
      ok((await fleet.request(STATUS, { id: robotId, status: 'MAINTENANCE' })).body);
      ok((await fleet.request(STATUS, { id: robotId, status: 'OFFLINE' })).body);
      const appended = (await streamOf(redis, fleetA)).filter((e) => compareIds(e.id, before) > 0);
      assert.equal(appended.length, 2);
      const resumed = (await open(
        'subscription($f: ID!, $after: ID) { robotChanged(fleetId: $f, after: $after) { id kind } }',
        { f: fleetA, after: before },
      )) as AsyncGenerator<ExecutionResult>;
      const delivered = [
        (await nextOf(resumed))['robotChanged']!['id'],
        (await nextOf(resumed))['robotChanged']!['id'],
      ];
      assert.deepEqual(
        delivered,
        appended.map((e) => e.id),
      );
      await resumed.return(undefined);
    });

    it('when a subscription is refused, then the error has a code and no stream is opened', async () => {
      const cases: [string, Record<string, unknown>, string, Identity][] = [
        [
          'subscription($f: ID!) { robotChanged(fleetId: $f) { id } }',
          { f: fleetOfOrg1 },
          'NOT_FOUND',
          ADMIN_OF_ORG0,
        ],
        [
          'subscription($r: ID!) { missionChanged(robotId: $r) { id } }',
          { r: robotId },
          'NOT_FOUND',
          ADMIN_OF_ORG1,
        ],
        [
          'subscription($f: ID!, $a: ID) { robotChanged(fleetId: $f, after: $a) { id } }',
          { f: fleetA, a: `${Date.now() - 11 * MINUTE_MS}-0` },
          'BAD_USER_INPUT',
          ADMIN_OF_ORG0,
        ],
        [
          'subscription($f: ID!, $a: ID) { robotChanged(fleetId: $f, after: $a) { id } }',
          { f: fleetA, a: 'yesterday' },
          'BAD_USER_INPUT',
          ADMIN_OF_ORG0,
        ],
        [
          'subscription($r: ID!) { telemetryReported(robotId: $r) { id } }',
          { r: robotId },
          'FORBIDDEN',
          VIEWER_KEY_OF_ORG0,
        ],
        [
          'subscription($f: ID!) { robotChanged(fleetId: $f) { id } }',
          { f: fleetA },
          'UNAUTHENTICATED',
          { kind: 'anonymous' },
        ],
      ];
      for (const [document, variables, code, identity] of cases) {
        const result = await open(document, variables, identity);
        assert.ok(!(Symbol.asyncIterator in result), `${document} opened a stream`);
        const errors = (result as ExecutionResult).errors;
        assert.equal(
          errors?.[0]?.extensions['code'],
          code,
          `${document} ${JSON.stringify(variables)}`,
        );
      }
    });
  });
});

describe('fleet change events when Redis fails (a private Redis)', () => {
  let cassandra: CassandraClient;
  let privateRedis: PrivateRedis;
  let fleet: RunningSubgraph;
  let redis: RedisClient;
  const prefix = 'fgtest:events:';
  const fleetId = randomUUID();
  const robots: { id: string; serial: string }[] = [];

  const cql = (query: string, params: unknown[] = []) =>
    cassandra.execute(query, params, { prepare: true });

  before(async () => {
    cassandra = await cassandraForTest();
    privateRedis = await startPrivateRedis();
    fleet = await startSubgraph(fleetSubgraph, cassandra, 0, {
      REDIS_URL: privateRedis.url,
      REDIS_KEY_PREFIX: prefix,
    });
    redis = await redisAt(privateRedis.url, prefix);
    await cql(
      'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [fleetId, ORG0, 'Outage test', 'Test warehouse', 'UTC', new Date()],
    );
  });

  after(async () => {
    const year = new Date().getUTCFullYear();
    const today = Date.parse(utcDay(new Date()));
    const days = [utcDay(new Date(today)), utcDay(new Date(today - DAY_MS))];
    for (const robot of robots) {
      const missions = await cql(
        'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
        [robot.id, year],
      );
      for (const mission of missions.rows)
        await cql('DELETE FROM missions_by_id WHERE mission_id = ?', [mission['mission_id']]);
      await cql('DELETE FROM missions_by_robot WHERE robot_id = ? AND year = ?', [robot.id, year]);
      await cql('DELETE FROM telemetry_by_robot_day WHERE robot_id = ? AND day IN ?', [
        robot.id,
        days,
      ]);
      await cql(
        'DELETE FROM robots_by_organization_serial WHERE organization_id = ? AND serial = ?',
        [ORG0, robot.serial],
      );
      await cql('DELETE FROM robots_by_id WHERE robot_id = ?', [robot.id]);
    }
    await cql('DELETE FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [fleetId, BUCKETS]);
    await cql('DELETE FROM robots_by_fleet_page WHERE fleet_id = ?', [fleetId]);
    for (const status of STATUSES)
      await cql(
        'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?',
        [fleetId, status, BUCKETS],
      );
    await cql('DELETE FROM fleets_by_id WHERE fleet_id = ?', [fleetId]);
    redis.disconnect();
    await fleet.close();
    await privateRedis.stop();
    await cassandra.shutdown();
  });

  it('when Redis is down during writes, then the writes succeed at once and their events arrive in order once it is back', async () => {
    const serial = `EVT-${randomUUID()}`;
    const robotId = ok<{ registerRobot: { id: string } }>(
      (await fleet.request(REGISTER, { input: { fleetId, serial, model: 'AMR-200' } })).body,
    ).registerRobot.id;
    robots.push({ id: robotId, serial });
    const metric = (name: string) => fleet.metric(name);
    const before = {
      published: await metric('fleetgraph_events_published_total'),
      retried: await metric('fleetgraph_events_retried_total'),
    };

    await privateRedis.kill();
    const started = Date.now();
    ok((await fleet.request(STATUS, { id: robotId, status: 'ACTIVE' })).body);
    const missionId = ok<{ assignMission: { id: string } }>(
      (await fleet.request(ASSIGN, { id: robotId })).body,
    ).assignMission.id;
    const at = new Date(Date.now() - 1000).toISOString();
    ok((await fleet.request(REPORT, { id: robotId, samples: [{ recordedAt: at }] })).body);
    // Four writes with Redis gone: none waited for it beyond the command timeout.
    assert.ok(Date.now() - started < 5000, `writes took ${Date.now() - started} ms`);
    assert.ok((await metric('fleetgraph_events_retried_total')) > before.retried);
    assert.equal(await metric('fleetgraph_events_published_total'), before.published);

    await privateRedis.restart();
    // Written after Redis is back but perhaps before the outbox drained: still behind it.
    ok((await fleet.request(COMPLETE, { id: missionId })).body);
    const events = await until('the outbox to drain', async () => {
      const stream = await streamOf(redis, fleetId).catch(() => []);
      return stream.length >= 4 ? stream : undefined;
    });
    assert.deepEqual(
      events.map((e) => e.kind),
      ['ROBOT_STATUS_CHANGED', 'MISSION_ASSIGNED', 'TELEMETRY_REPORTED', 'MISSION_COMPLETED'],
    );
    assert.equal(events[1]!.missionId, missionId);
    assert.equal((await metric('fleetgraph_events_published_total')) - before.published, 4);
    assert.equal(await metric('fleetgraph_events_dropped_total'), 0);
  });

  it('when the outbox is full, then new events are dropped and counted, and the write path still never fails', async () => {
    const dropped: string[] = [];
    const client = createRedis({
      redis: { ...testConfig.redis, url: privateRedis.url, keyPrefix: `${prefix}outbox:` },
    });
    client.on('error', () => undefined);
    await waitForRedis(client, 5000);
    const publisher = new EventPublisher({
      redis: client,
      logger: createLogger({ logLevel: 'silent' }, 'test'),
      maxOutbox: 2,
      waitMs: 50,
      metrics: {
        published: () => undefined,
        retried: () => undefined,
        dropped: (kind) => dropped.push(kind),
      },
    });
    const event = (robotId: string) => ({
      kind: 'ROBOT_STATUS_CHANGED' as const,
      organizationId: ORG0,
      fleetId,
      robotId,
      at: new Date().toISOString(),
    });
    await privateRedis.kill();
    const outcomes = [
      await publisher.publish(event('a')),
      await publisher.publish(event('b')),
      await publisher.publish(event('c')),
    ];
    assert.deepEqual(outcomes, ['queued', 'queued', 'dropped']);
    assert.deepEqual(dropped, ['ROBOT_STATUS_CHANGED']);
    assert.equal(publisher.outboxSize, 2);
    await privateRedis.restart();
    await publisher.flushed();
    const stream = await client.xrange(fleetStreamKey(fleetId), '-', '+');
    assert.deepEqual(
      stream.map(([id, fields]) => fromStreamEntry(id, fields)?.robotId),
      ['a', 'b'],
    );
    await publisher.close();
    client.disconnect();
  });

  it('when events are appended, then entries older than the retention window and beyond the length cap are trimmed', async () => {
    // One entry per stream node, so `~` trims exactly (Redis trims whole nodes only).
    await redis.config('SET', 'stream-node-max-entries', '1');
    const trimFleet = randomUUID();
    const key = fleetStreamKey(trimFleet);
    const now = Date.now();
    const fields = toStreamFields({
      kind: 'ROBOT_STATUS_CHANGED',
      organizationId: ORG0,
      fleetId: trimFleet,
      robotId: 'r',
      at: new Date(now).toISOString(),
    });
    for (let i = 0; i < 20; i++) await redis.xadd(key, `${now - 20 * MINUTE_MS + i}-0`, ...fields);
    const retained = await redis.xadd(key, `${now - 5 * MINUTE_MS}-0`, ...fields);
    const publisher = new EventPublisher({
      redis,
      logger: createLogger({ logLevel: 'silent' }, 'test'),
      maxLength: 5,
    });
    const event = {
      kind: 'ROBOT_STATUS_CHANGED' as const,
      organizationId: ORG0,
      fleetId: trimFleet,
      robotId: 'r',
      at: new Date().toISOString(),
    };
    assert.equal(await publisher.publish(event), 'published');
    // The 20 entries past the 10-minute window are gone; the 5-minute-old one stays.
    const afterAge = await redis.xrange(key, '-', '+');
    assert.deepEqual(afterAge[0]![0], retained);
    assert.equal(afterAge.length, 2);
    // Past the length cap, the oldest go.
    for (let i = 0; i < 8; i++) assert.equal(await publisher.publish(event), 'published');
    assert.equal(await redis.xlen(key), 5);
    const pttl = await redis.pttl(key);
    assert.ok(pttl > 9 * MINUTE_MS && pttl <= 10 * MINUTE_MS, `PTTL ${pttl}`);
    await publisher.close();
  });
});
