/**
 * What test/e2e/subscriptions.test.ts does not cover, through the router against the real
 * stack: `missionChanged` and `telemetryReported` (robot-scoped: authorized and routed to the
 * robot's fleet stream), coalescing on request (`extensions.coalesce`), and the per-caller limit
 * (SUBSCRIPTIONS_MAX_PER_IDENTITY). Everything happens in a scratch fleet of organization 0, so
 * the seeded fleets other files count stay as seeded.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startDelayProxy, type DelayProxy } from '../support/delayProxy.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { openSse, type SseEvent, type SseStream } from '../support/sseClient.js';

const ORG0 = seedIds.organization(0);
const REGISTER = 'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }';
const STATUS =
  'mutation($id: ID!, $b: Float!) { updateRobotStatus(robotId: $id, status: ACTIVE, batteryPercent: $b) { id } }';

type Next = { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] };
const payload = (event: SseEvent) => (event.data as Next) ?? {};

describe('subscriptions through the router: robot-scoped fields, coalescing, limits', () => {
  let federation: Federation;
  let proxy: DelayProxy;
  let admin: string;
  const fleetId = randomUUID();
  const opened: SseStream[] = [];

  before(async () => {
    proxy = await startDelayProxy();
    federation = await startFederation(
      { SUBSCRIPTIONS_MAX_PER_IDENTITY: '3', RATE_LIMITS: 'user=1000000' },
      { routeSubgraph: (name, url) => (name === 'users' ? proxy.route(url) : url) },
    );
    admin = await tokenFor(federation.config, 0, 0);
    await federation.cassandra.execute(
      'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [fleetId, ORG0, 'Subscriptions test', 'Test warehouse', 'UTC', new Date()],
      { prepare: true },
    );
    await federation.cassandra.execute(
      'INSERT INTO fleets_by_organization (organization_id, fleet_id, name) VALUES (?, ?, ?)',
      [ORG0, fleetId, 'Subscriptions test'],
      { prepare: true },
    );
  });
  after(async () => {
    proxy?.pass();
    for (const sse of opened) sse.close();
    await federation?.close();
    await proxy?.close();
  });

  async function mutate<T>(query: string, variables: Record<string, unknown>, token = admin) {
    const { body } = await federation.query<T>(query, variables, { token });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!;
  }

  async function registerRobot(): Promise<string> {
    const data = await mutate<{ registerRobot: { id: string } }>(REGISTER, {
      input: {
        fleetId,
        serial: `SUB-${randomUUID()}`,
        model: 'AMR-200',
        operatorId: seedIds.user(0, 1),
      },
    });
    return data.registerRobot.id;
  }

  async function subscribe(
    query: string,
    variables: Record<string, unknown>,
    token = admin,
    extensions?: Record<string, unknown>,
  ): Promise<SseStream> {
    const sse = await openSse(
      `${federation.url}/stream`,
      { query, variables, ...(extensions ? { extensions } : {}) },
      { authorization: `Bearer ${token}` },
    );
    opened.push(sse);
    if (sse.status === 200) await new Promise((resolve) => setTimeout(resolve, 300));
    return sse;
  }

  it('when a mission is assigned and completed, then missionChanged delivers both with the mission resolved, and another organization cannot subscribe to the robot', async () => {
    const robotId = await registerRobot();
    const sse = await subscribe(
      'subscription($r: ID!) { missionChanged(robotId: $r) { id kind mission { id status robot { id } } } }',
      { r: robotId },
    );
    assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
    const { assignMission } = await mutate<{ assignMission: { id: string } }>(
      'mutation($r: ID!) { assignMission(input: { robotId: $r, steps: ["dock"] }) { id } }',
      { r: robotId },
    );
    await mutate('mutation($m: ID!) { completeMission(missionId: $m) { id } }', {
      m: assignMission.id,
    });
    type Mission = { kind: string; mission: { id: string; status: string; robot: { id: string } } };
    const completed = await sse.next(
      (event) =>
        (payload(event).data?.['missionChanged'] as Mission | undefined)?.kind ===
        'MISSION_COMPLETED',
    );
    const delivered = sse.events
      .filter((event) => event.event === 'next')
      .map((event) => payload(event).data!['missionChanged'] as Mission);
    assert.deepEqual(
      delivered.map((change) => [change.kind, change.mission.id, change.mission.robot.id]),
      [
        ['MISSION_ASSIGNED', assignMission.id, robotId],
        ['MISSION_COMPLETED', assignMission.id, robotId],
      ],
    );
    assert.equal(payload(completed).errors, undefined);
    const stranger = await tokenFor(federation.config, 1, 0);
    const refused = await subscribe(
      'subscription($r: ID!) { missionChanged(robotId: $r) { id } }',
      { r: robotId },
      stranger,
    );
    assert.equal(refused.status, 404, JSON.stringify(refused.refusal));
    sse.close();
  });

  it('when telemetry is reported, then telemetryReported delivers the call with its samples', async () => {
    const robotId = await registerRobot();
    const sse = await subscribe(
      'subscription($r: ID!) { telemetryReported(robotId: $r) { id kind robot { id batteryPercent } samples { recordedAt batteryPercent } } }',
      { r: robotId },
    );
    assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
    const now = Date.now();
    const samples = [2, 1, 0].map((ago, i) => ({
      recordedAt: new Date(now - ago * 1000).toISOString(),
      batteryPercent: 70 + i,
    }));
    await mutate(
      'mutation($r: ID!, $s: [TelemetrySampleInput!]!) { reportTelemetry(robotId: $r, samples: $s) { accepted } }',
      { r: robotId, s: samples },
    );
    const event = await sse.next((e) => e.event === 'next');
    type Telemetry = {
      kind: string;
      robot: { id: string; batteryPercent: number };
      samples: { batteryPercent: number }[];
    };
    const telemetry = payload(event).data!['telemetryReported'] as Telemetry;
    assert.equal(telemetry.kind, 'TELEMETRY_REPORTED');
    assert.equal(telemetry.robot.id, robotId);
    assert.equal(telemetry.robot.batteryPercent, 72, 'the newest sample set the battery');
    assert.deepEqual(telemetry.samples.map((sample) => sample.batteryPercent).sort(), [70, 71, 72]);
  });

  it('when a subscriber asks for coalescing and events of one robot queue up, then it gets fewer of them, ending with the newest, while a subscriber without it gets every one', async () => {
    const robotId = await registerRobot();
    const query = `subscription($f: ID!) { robotChanged(fleetId: $f) { id robot { id batteryPercent operator { id displayName } } } }`;
    // Another caller than the tests above (SUBSCRIPTIONS_MAX_PER_IDENTITY is 3 here).
    const watcher = await tokenFor(federation.config, 0, 4);
    const everyOne = await subscribe(query, { f: fleetId }, watcher);
    assert.equal(everyOne.status, 200, JSON.stringify(everyOne.refusal));
    const coalesced = await subscribe(query, { f: fleetId }, watcher, { coalesce: true });
    assert.equal(coalesced.status, 200, JSON.stringify(coalesced.refusal));
    // Each execution reads the operator from users, 600 ms late: 20 writes queue up.
    proxy.delay(600);
    const batteries = Array.from({ length: 20 }, (_, i) => 40 + i);
    for (const battery of batteries) await mutate(STATUS, { id: robotId, b: battery });
    const newest = batteries.at(-1)!;
    const batteryOf = (event: SseEvent) =>
      (payload(event).data?.['robotChanged'] as { robot: { batteryPercent: number } } | undefined)
        ?.robot.batteryPercent;
    const nexts = (sse: SseStream) => sse.events.filter((event) => event.event === 'next');
    await everyOne.next(() => nexts(everyOne).length >= batteries.length, 30_000);
    const lastId = nexts(everyOne).at(-1)!.id;
    await coalesced.next((event) => event.id === lastId, 30_000);
    proxy.pass();
    const seen = (sse: SseStream) =>
      sse.events.filter((event) => event.event === 'next').map(batteryOf);
    // Each event shows the robot as it is when the event is executed (a later write may already
    // show): so count events, by id, rather than battery values.
    const ids = (sse: SseStream) =>
      sse.events.filter((event) => event.event === 'next').map((event) => event.id!);
    assert.equal(ids(everyOne).length, batteries.length, 'without coalescing: every event');
    assert.equal(new Set(ids(everyOne)).size, batteries.length, 'each once');
    const fewer = ids(coalesced);
    assert.ok(fewer.length < batteries.length, `coalesced: ${fewer.length} of 20 delivered`);
    assert.equal(seen(coalesced).at(-1), newest, 'the last one delivered shows the newest write');
    assert.equal(fewer.at(-1), ids(everyOne).at(-1), 'and is the last event');
    for (const sse of [everyOne, coalesced]) sse.close();
  });

  it('when a caller opens more subscriptions than SUBSCRIPTIONS_MAX_PER_IDENTITY, then the next is refused TOO_MANY_SUBSCRIPTIONS, and another caller is not affected', async () => {
    const viewer = await tokenFor(federation.config, 0, 2, ['viewer']);
    const query = 'subscription($f: ID!) { robotChanged(fleetId: $f) { id } }';
    const three = [];
    for (let n = 0; n < 3; n++) three.push(await subscribe(query, { f: fleetId }, viewer));
    for (const sse of three) assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
    const fourth = await subscribe(query, { f: fleetId }, viewer);
    const code =
      fourth.status === 200
        ? payload(await fourth.next()).errors?.[0]?.extensions?.code
        : (fourth.refusal as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
            .code;
    assert.equal(code, 'TOO_MANY_SUBSCRIPTIONS');
    const other = await subscribe(query, { f: fleetId }, await tokenFor(federation.config, 0, 3));
    assert.equal(other.status, 200, 'another caller still subscribes');
    three[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await subscribe(query, { f: fleetId }, viewer);
    assert.equal(again.status, 200, 'a slot freed by closing one is usable');
  });

  it('when a router holds SUBSCRIPTIONS_MAX_PER_PROCESS subscriptions, then the next caller is refused TOO_MANY_SUBSCRIPTIONS naming that limit, and a slot freed is usable again', async () => {
    const small = await startFederation({ SUBSCRIPTIONS_MAX_PER_PROCESS: '2' });
    const streams: SseStream[] = [];
    try {
      const query = 'subscription($f: ID!) { robotChanged(fleetId: $f) { id } }';
      const open = async (o: number, u: number) => {
        const sse = await openSse(
          `${small.url}/stream`,
          { query, variables: { f: fleetId } },
          { authorization: `Bearer ${await tokenFor(small.config, o, u)}` },
        );
        streams.push(sse);
        return sse;
      };
      for (const u of [0, 1]) assert.equal((await open(0, u)).status, 200);
      const third = await open(0, 2);
      const refusal = third.refusal as {
        errors: { message: string; extensions: { code: string } }[];
      };
      assert.notEqual(third.status, 200);
      assert.equal(refusal.errors[0]!.extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
      assert.match(refusal.errors[0]!.message, /SUBSCRIPTIONS_MAX_PER_PROCESS/);
      streams[0]!.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await open(0, 2)).status, 200, 'a slot freed by closing one is usable');
    } finally {
      for (const sse of streams) sse.close();
      await small.close();
    }
  });
});
