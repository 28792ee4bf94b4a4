/**
 * Subscriptions on a real Redis Cluster (REDIS_CLUSTER_NODES, test/redis-cluster/run.sh): each
 * fleet's events are one stream (`events:{fleet:<id>}`, one slot), the fleet subgraph appends
 * with a MULTI on that key, and the router's stream hub, which cannot name keys of several slots
 * in one XREAD, polls each stream (docs/subscriptions.md, "Reading the streams"). Two fleets
 * whose streams live on different masters are followed at once; every event arrives once, in
 * order, with its id and cross-subgraph fields, and a subscriber that resumes with
 * Last-Event-ID gets what it missed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { fleetStreamKey } from '../../platform/events/contract.js';
import { keySlot } from '../../platform/redis/client.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { clusterNodes } from '../support/redisCluster.js';
import { openSse, type SseEvent, type SseStream } from '../support/sseClient.js';

const QUERY = `subscription($fleetId: ID!) {
  robotChanged(fleetId: $fleetId) { id kind robot { id status operator { id displayName } } }
}`;
type Next = { data?: { robotChanged?: { id: string; robot: { id: string; status: string } } } };
const payload = (event: SseEvent) => (event.data as Next | undefined)?.data?.robotChanged;

describe('subscriptions on a Redis Cluster', () => {
  let federation: Federation;
  let token: string;
  /** Fleet 0 of organization 0, and the first other fleet whose stream is on another master. */
  let fleets: string[] = [];
  let robots: string[] = [];
  /** A caller of each fleet's organization. */
  let tokens: string[] = [];
  const seeded = new Map<string, string>();
  const opened: SseStream[] = [];

  before(async () => {
    clusterNodes(); // refuses to run against the single Redis
    federation = await startFederation({
      RATE_LIMITS: 'user=1000000',
      REDIS_COMMAND_TIMEOUT_MS: '1000',
    });
    token = await tokenFor(federation.config, 0, 0);
    const cluster = new Cluster([...clusterNodes()]);
    try {
      await new Promise((resolve) => cluster.once('ready', resolve));
      const masterOf = (fleet: string) =>
        cluster.slots[keySlot(`${federation.config.redis.keyPrefix}${fleetStreamKey(fleet)}`)]?.[0];
      const candidates = [0, 1, 2].flatMap((o) => [0, 1].map((f) => [o, f] as const)).slice(1);
      const other = candidates.find(
        ([o, f]) => masterOf(seedIds.fleet(o, f)) !== masterOf(seedIds.fleet(0, 0)),
      );
      assert.ok(other, 'a seeded fleet whose stream is on another master than fleet (0, 0)');
      const [o, f] = other;
      fleets = [seedIds.fleet(0, 0), seedIds.fleet(o, f)];
      robots = [seedIds.robot(0, 0, 7), seedIds.robot(o, f, 7)];
      tokens = [token, await tokenFor(federation.config, o, 0)];
    } finally {
      cluster.disconnect();
    }
    for (const [i, robot] of robots.entries()) {
      const { body } = await federation.query<{ robot: { status: string } }>(
        'query($id: ID!) { robot(id: $id) { status } }',
        { id: robot },
        { token: tokens[i]! },
      );
      seeded.set(robot, body.data!.robot.status);
    }
  });
  after(async () => {
    for (const sse of opened) sse.close();
    // The seeded robots as they were: other files read the seeded fleets' statuses.
    for (const [i, robot] of robots.entries()) {
      const status = seeded.get(robot);
      if (status) await setStatus(i, status);
    }
    await federation?.close();
  });

  /** Sets robot `i`'s status as a caller of its organization. */
  async function setStatus(i: number, status: string): Promise<void> {
    const { body } = await federation.query(
      'mutation($id: ID!, $s: RobotStatus!) { updateRobotStatus(robotId: $id, status: $s) { id } }',
      { id: robots[i], s: status },
      { token: tokens[i]! },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  }

  /** Subscribes to fleet `i` as a caller of its organization. */
  async function subscribe(i: number, lastEventId?: string): Promise<SseStream> {
    const sse = await openSse(
      `${federation.url}/stream`,
      { query: QUERY, variables: { fleetId: fleets[i] } },
      {
        authorization: `Bearer ${tokens[i]!}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    );
    assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
    opened.push(sse);
    return sse;
  }

  it("when robots of two fleets whose streams live on different masters change, then each fleet's subscriber gets its events once, in order, and a resumed subscriber gets what it missed", async () => {
    const streams = [await subscribe(0), await subscribe(1)];
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const status of ['CHARGING', 'IDLE', 'ACTIVE'])
      for (const i of [0, 1]) await setStatus(i, status);

    // What each fleet's stream holds for its robot since the subscription: the ids to expect.
    const cluster = new Cluster([...clusterNodes()], {
      keyPrefix: federation.config.redis.keyPrefix,
    });
    const expected: string[][] = [];
    try {
      await new Promise((resolve) => cluster.once('ready', resolve));
      for (const [i, sse] of streams.entries()) {
        const entries = await cluster.xrange(fleetStreamKey(fleets[i]!), '-', '+');
        const ids = entries
          .filter(([, fields]) => fields[fields.indexOf('robotId') + 1] === robots[i])
          .map(([id]) => id)
          .slice(-3);
        expected.push(ids);
        assert.equal(ids.length, 3, `fleet ${i}: three events in its stream`);
        // Events carry ids and kinds; the robot is read when the event is delivered, so a
        // burst read by a poll shows the newest status in each: only the ids are compared.
        const nexts = () => sse.events.filter((e) => e.event === 'next' && payload(e));
        await sse.next(() => nexts().length >= 3, 10_000).catch(() => undefined);
        assert.deepEqual(
          nexts().map((e) => e.id),
          ids,
          `fleet ${i}: every event once, in order`,
        );
        for (const event of nexts()) {
          assert.equal(payload(event)!.robot.id, robots[i]);
          assert.equal(event.id, payload(event)!.id, 'the SSE id is the event id');
        }
      }
    } finally {
      cluster.disconnect();
    }

    // Resume fleet 0 from its first event: the two after it, nothing twice.
    const resumed = await subscribe(0, expected[0]![0]);
    const resumedNexts = () => resumed.events.filter((e) => e.event === 'next' && payload(e));
    await resumed.next(() => resumedNexts().length >= 2, 10_000).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      resumedNexts().map((e) => e.id),
      expected[0]!.slice(1),
    );
  });
});
