/**
 * A subscription group keeps up with events that arrive faster than one execution takes
 * (router/subscriptions/groups.ts): the users subgraph answers 400 ms late, so each per-event
 * execution (the robot's operator is a users field) takes at least that, while status writes
 * arrive about every 100 ms. Executed one at a time, the group fell more than
 * SUBSCRIPTION_BUFFER_EVENTS behind and every member was ended with SERVICE_OVERLOADED (the
 * fan-out benchmark's failure at 50 events/s); executed several at once, every event arrives,
 * in stream order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startDelayProxy, type DelayProxy } from '../support/delayProxy.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { openSse, type SseEvent } from '../support/sseClient.js';

const FLEET = seedIds.fleet(0, 0);
const EVENTS = 12;
const SUBSCRIPTION = `subscription($fleetId: ID!) {
  robotChanged(fleetId: $fleetId) { id robot { id batteryPercent operator { id displayName } } }
}`;
const WRITE =
  'mutation($id: ID!, $b: Float!) { updateRobotStatus(robotId: $id, status: ACTIVE, batteryPercent: $b) { id } }';

type Delivered = {
  data?: { robotChanged: { id: string; robot: { id: string; batteryPercent: number } } };
  errors?: { extensions?: { code?: string } }[];
};

describe('a subscription group under events faster than one execution', () => {
  let federation: Federation;
  let proxy: DelayProxy;
  let token: string;

  before(async () => {
    proxy = await startDelayProxy();
    federation = await startFederation(
      { SUBSCRIPTION_BUFFER_EVENTS: '4', RATE_LIMITS: 'user=1000000' },
      { routeSubgraph: (name, url) => (name === 'users' ? proxy.route(url) : url) },
    );
    token = await tokenFor(federation.config, 0, 0);
  });
  after(async () => {
    await federation?.close();
    await proxy?.close();
  });

  it('when events arrive every ~100 ms and each execution takes 400 ms, then every event is delivered in order and no one is ended', async () => {
    const robotId = seedIds.robot(0, 0, 1);
    const { body: before } = await federation.query<{
      robot: { status: string; batteryPercent: number };
    }>('query($id: ID!) { robot(id: $id) { status batteryPercent } }', { id: robotId }, { token });
    const seeded = before.data?.robot;
    const sse = await openSse(
      `${federation.url}/stream`,
      { query: SUBSCRIPTION, variables: { fleetId: FLEET } },
      { authorization: `Bearer ${token}` },
    );
    try {
      assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
      // Joined once the router reads the fleet's stream: give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 300));
      proxy.delay(400);
      const written: number[] = [];
      for (let n = 1; n <= EVENTS; n++) {
        const started = Date.now();
        const battery = 10 + n; // identifies the write in the event
        const { body } = await federation.query(WRITE, { id: robotId, b: battery }, { token });
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        written.push(battery);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, 100 - (Date.now() - started))),
        );
      }
      const last = written.at(-1)!;
      await sse.next(
        (event) =>
          event.event === 'complete' ||
          (event.data as Delivered)?.errors !== undefined ||
          (event.data as Delivered)?.data?.robotChanged.robot.batteryPercent === last,
        20_000,
      );
      const delivered = sse.events.filter((event: SseEvent) => event.event === 'next');
      const errors = delivered.flatMap((event) => (event.data as Delivered).errors ?? []);
      assert.deepEqual(errors, [], 'no subscriber ended');
      const batteries = delivered
        .map((event) => (event.data as Delivered).data!.robotChanged)
        .filter((change) => change.robot.id === robotId)
        .map((change) => change.robot.batteryPercent);
      assert.deepEqual(batteries, written, 'every event, in order');
      const ids = delivered.map((event) => event.id!);
      assert.deepEqual([...ids].sort(compareIds), ids, 'stream order');
    } finally {
      proxy.pass();
      sse.close();
      // The seeded robot as it was: later files read fleet 0's statuses (fleet-subgraph.test.ts:
      // a robot on a mission is ACTIVE).
      if (seeded)
        await federation.query(
          'mutation($id: ID!, $s: RobotStatus!, $b: Float) { updateRobotStatus(robotId: $id, status: $s, batteryPercent: $b) { id } }',
          { id: robotId, s: seeded.status, b: seeded.batteryPercent },
          { token },
        );
    }
  });
});

function compareIds(a: string, b: string): number {
  const [ams, aseq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bms, bseq] = b.split('-').map(BigInt) as [bigint, bigint];
  return ams === bms ? Number(aseq - bseq) : ams < bms ? -1 : 1;
}
