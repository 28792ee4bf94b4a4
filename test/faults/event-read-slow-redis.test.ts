/**
 * A slow Redis while an event is read (subgraphs/fleet/events.ts `read`): the fleet subgraph
 * answers a subscription's per-event query (robotEvent, asked by the router for every event)
 * from the fleet's stream. A Redis that stalls for longer than REDIS_COMMAND_TIMEOUT_MS must not
 * turn that event into an INTERNAL_SERVER_ERROR (in the fan-out benchmark, one event lost to
 * all 1,000 subscribers): the read is tried again until Redis answers, within its budget.
 *
 * A private Redis of this file's own (test/support/privateRedis.ts) is stopped with SIGSTOP for
 * 400 ms (four command timeouts) while the query is in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { fleetStreamKey } from '../../platform/events/contract.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';

const FLEET = seedIds.fleet(0, 0);
const ROBOT = seedIds.robot(0, 0, 4);
const STALL_MS = 400;
const EVENT_QUERY =
  'query($f: ID!, $e: ID!) { robotEvent(fleetId: $f, eventId: $e) { id kind robot { id } } }';

describe('an event read while Redis is slow', () => {
  let redis: PrivateRedis;
  let federation: Federation;
  let token: string;
  let seededStatus: string | undefined;
  before(async () => {
    redis = await startPrivateRedis();
    federation = await startFederation({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '100' });
    token = await tokenFor(federation.config, 0, 0);
    const { body } = await federation.query<{ robot: { status: string } }>(
      'query($id: ID!) { robot(id: $id) { status } }',
      { id: ROBOT },
      { token },
    );
    seededStatus = body.data!.robot.status;
  });
  after(async () => {
    // The seeded robot as it was: later files read fleet 0's statuses.
    if (seededStatus)
      await federation.query(
        'mutation($id: ID!, $s: RobotStatus!) { updateRobotStatus(robotId: $id, status: $s) { id } }',
        { id: ROBOT, s: seededStatus },
        { token },
      );
    await federation?.close();
    await redis?.stop();
  });

  it('when Redis stalls for four command timeouts during robotEvent, then the event is answered once Redis continues, without an error', async () => {
    const { body: written } = await federation.query(
      'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: CHARGING) { id } }',
      { id: ROBOT },
      { token },
    );
    assert.equal(written.errors, undefined, JSON.stringify(written.errors));
    const stream = new Redis(redis.url, { keyPrefix: federation.config.redis.keyPrefix });
    const [[eventId]] = (await stream.xrevrange(fleetStreamKey(FLEET), '+', '-', 'COUNT', 1)) as [
      [string, string[]],
    ];
    stream.disconnect();

    const stalled = redis.stall(STALL_MS);
    // Sent while Redis is stopped: the router's own Redis reads are bypassed (a slow Redis
    // never fails a request), and the fleet subgraph's read of the event waits for it.
    const started = Date.now();
    const { body } = await federation.query<{ robotEvent: { id: string; kind: string } | null }>(
      EVENT_QUERY,
      { f: FLEET, e: eventId },
      { token },
    );
    await stalled;
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.robotEvent?.id, eventId);
    assert.equal(body.data?.robotEvent?.kind, 'ROBOT_STATUS_CHANGED');
    assert.ok(Date.now() - started >= STALL_MS - 50, 'the answer came after Redis continued');
  });
});
