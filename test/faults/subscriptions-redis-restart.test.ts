/**
 * Redis restarting under a live subscription (docs/subscriptions.md, delivery guarantees): a
 * private Redis with an append-only file (never the shared development Redis) is killed and
 * brought back while a subscriber is connected and robots keep changing. The router's stream
 * hub reconnects and reads on from the last id it had; the subscriber (resuming with its last
 * id if its stream ended) gets every event the fleet's stream holds after it subscribed — none
 * lost, none twice, in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { fleetStreamKey } from '../../platform/events/contract.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { openSse, type SseStream } from '../support/sseClient.js';

const FLEET = seedIds.fleet(0, 0);
const ROBOT = seedIds.robot(0, 0, 3);
const QUERY = `subscription($fleetId: ID!) { robotChanged(fleetId: $fleetId) { id kind robot { id status } } }`;

describe('a subscription while Redis restarts', () => {
  let redis: PrivateRedis;
  let federation: Federation;
  let token: string;
  let seededStatus: string | undefined;
  before(async () => {
    redis = await startPrivateRedis({ persistent: true });
    federation = await startFederation({ REDIS_URL: redis.url });
    token = await tokenFor(federation.config, 0, 0);
    const { body } = await federation.query<{ robot: { status: string } }>(
      'query($id: ID!) { robot(id: $id) { status } }',
      { id: ROBOT },
      { token },
    );
    seededStatus = body.data!.robot.status;
  });
  after(async () => {
    // The seeded robot as it was: later files read fleet 0's statuses (fleet-subgraph.test.ts:
    // a robot on a mission is ACTIVE).
    if (seededStatus) await setStatus(seededStatus);
    await federation?.close();
    await redis?.stop();
  });

  async function setStatus(status: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { body } = await federation.query(
        'mutation($id: ID!, $s: RobotStatus!) { updateRobotStatus(robotId: $id, status: $s) { id } }',
        { id: ROBOT, s: status },
        { token },
      );
      if (!body.errors) return;
      assert.ok(Date.now() < deadline, JSON.stringify(body.errors));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const open = (lastEventId?: string) =>
    openSse(
      `${federation.url}/stream`,
      { query: QUERY, variables: { fleetId: FLEET } },
      {
        authorization: `Bearer ${token}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    );

  it('when Redis is killed and restarted mid-stream, then the subscriber gets every event of the stream after it subscribed, once and in order', async () => {
    const received: string[] = [];
    let sse: SseStream = await open();
    assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
    const collect = (stream: SseStream) => {
      for (const event of stream.events)
        if (event.event === 'next' && event.id && !received.includes(event.id))
          received.push(event.id);
    };
    await new Promise((resolve) => setTimeout(resolve, 300));
    await setStatus('ACTIVE');
    const first = await sse.next((e) => e.event === 'next');
    assert.ok(first.id);

    await redis.kill();
    // A change while Redis is down: the fleet subgraph keeps it in its outbox until Redis is back.
    await setStatus('CHARGING');
    await redis.restart();
    await setStatus('IDLE');
    await setStatus('ERROR');

    const stream = new Redis(redis.url, { keyPrefix: federation.config.redis.keyPrefix });
    try {
      const deadline = Date.now() + 20_000;
      let expected: string[] = [];
      for (;;) {
        collect(sse);
        const entries = await stream.xrange(fleetStreamKey(FLEET), first.id!, '+');
        expected = entries.map(([id]) => id);
        if (expected.length >= 4 && expected.every((id) => received.includes(id))) break;
        assert.ok(Date.now() < deadline, `expected ${expected.join()} got ${received.join()}`);
        // A stream that ended (it should not) is resumed as a client would: with its last id.
        const done = await Promise.race([sse.ended.then(() => true), sleep(200).then(() => false)]);
        if (done) {
          collect(sse);
          sse = await open(received[received.length - 1]);
        }
      }
      collect(sse);
      assert.deepEqual(received, expected, 'every event after subscribing, once, in order');
    } finally {
      stream.disconnect();
      sse.close();
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
