import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { watchRedisCommands } from '../support/redisMonitor.js';

const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');
const ROBOT = 'query Robot($id: ID!) { robot(id: $id) { id status batteryPercent } }';
const SUBGRAPHS = ['users', 'sessions', 'fleet'] as const;

async function cassandraStatements(federation: Federation): Promise<number> {
  let sum = 0;
  for (const name of SUBGRAPHS)
    sum += await federation.subgraphs[name].metric('fleetgraph_cassandra_statements_total');
  return sum;
}

async function send(
  federation: Federation,
  query: string,
  variables: Record<string, unknown>,
  token: string,
) {
  const response = await fetch(federation.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    body: (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] },
  };
}

describe('the router response cache on Redis: never stale, never leaking, failing open', () => {
  let federation: Federation;
  let admin: string;
  // A Redis of this file's own: it is flushed, stopped and restarted here, which the shared
  // development Redis (and whatever `npm run dev:up` runs against it) must never be.
  let redis: PrivateRedis;
  before(async () => {
    redis = await startPrivateRedis();
    federation = await startFederation({ REDIS_URL: redis.url });
    await federation.redis.flushdb();
    admin = await tokenFor(federation.config, 0, 0);
  });
  after(async () => {
    await federation.close();
    await redis.stop();
  });

  it('when the dashboard is repeated, then it is served from cache and Cassandra sees no statement', async () => {
    const variables = { fleetId: seedIds.fleet(0, 0), first: 100 };
    const first = await send(federation, DASHBOARD, variables, admin);
    assert.equal(first.status, 200);
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    const second = await send(federation, DASHBOARD, variables, admin); // policy now known: a miss that stores
    const statementsBefore = await cassandraStatements(federation);
    const hitsBefore = await federation.routerMetric('fleetgraph_router_cache_hits_total');
    for (let i = 0; i < 5; i++) {
      const again = await send(federation, DASHBOARD, variables, admin);
      assert.equal(again.cache, 'HIT');
      assert.deepEqual(again.body, second.body);
    }
    assert.equal(
      await cassandraStatements(federation),
      statementsBefore,
      'no Cassandra statement for a hit',
    );
    assert.equal(
      (await federation.routerMetric('fleetgraph_router_cache_hits_total')) - hitsBefore,
      5,
    );
  });

  it('when one robot changes status, then the next read shows it while entries without that robot stay cached', async () => {
    const changed = seedIds.robot(0, 1, 5);
    const untouched = seedIds.robot(0, 1, 6);
    const read = (id: string) => send(federation, ROBOT, { id }, admin);
    for (let i = 0; i < 2; i++) {
      // The first use is not stored (RESPONSE_CACHE_MIN_USES=2); the second is.
      await read(changed);
      await read(untouched);
    }
    assert.equal((await read(changed)).cache, 'HIT');
    assert.equal((await read(untouched)).cache, 'HIT');
    const original = (await read(changed)).body.data!['robot'] as { status: string };
    const next = original.status === 'MAINTENANCE' ? 'IDLE' : 'MAINTENANCE';
    const update =
      'mutation($id: ID!, $status: RobotStatus!) { updateRobotStatus(robotId: $id, status: $status) { id status } }';
    try {
      const mutation = await send(federation, update, { id: changed, status: next }, admin);
      assert.equal(mutation.body.errors, undefined, JSON.stringify(mutation.body.errors));
      const after = await read(changed);
      assert.notEqual(after.cache, 'HIT');
      assert.equal(
        (after.body.data!['robot'] as { status: string }).status,
        next,
        'the very next read shows the new status',
      );
      assert.equal(
        (await read(untouched)).cache,
        'HIT',
        'an entry without that robot stays cached',
      );
    } finally {
      await send(federation, update, { id: changed, status: original.status }, admin);
    }
  });

  it('when mutations are sent, then their cache policy is never looked up in Redis; a new query still is', async () => {
    const robotId = seedIds.robot(0, 1, 7);
    const current = (await send(federation, ROBOT, { id: robotId }, admin)).body.data!['robot'] as {
      status: string;
      batteryPercent: number | null;
    };
    // Every Redis command the router sends from now on, from the private Redis's MONITOR feed.
    const feed = await watchRedisCommands(redis.url);
    const policyLookups = () =>
      feed.commands.filter(
        ([name, key]) => name?.toLowerCase() === 'get' && key?.includes('policy:'),
      );
    try {
      // The robot's own values written back: five writes that change nothing, as the
      // router sees any write (a new body it has never seen the policy of).
      const update =
        'mutation($id: ID!, $status: RobotStatus!, $battery: Float) { updateRobotStatus(robotId: $id, status: $status, batteryPercent: $battery) { id } }';
      for (let i = 0; i < 5; i++) {
        const written = await send(
          federation,
          update,
          { id: robotId, status: current.status, battery: current.batteryPercent },
          admin,
        );
        assert.equal(written.body.errors, undefined, JSON.stringify(written.body.errors));
      }
      // A query this router has not seen: its policy is looked up (the control).
      await send(federation, ROBOT, { id: seedIds.robot(0, 1, 8) }, admin);
      await feed.caughtUp();
      assert.ok(
        feed.commands.some(([name]) => ['evalsha', 'eval'].includes(name?.toLowerCase() ?? '')),
        'the feed shows the writes (their purges)',
      );
      assert.equal(
        policyLookups().length,
        1,
        `one policy lookup, the new query's: ${JSON.stringify(policyLookups())}`,
      );
    } finally {
      feed.close();
    }
  });

  it('when a response is asked for once, then it is not stored; its second use stores it, its third is a hit', async () => {
    const read = () => send(federation, ROBOT, { id: seedIds.robot(0, 2, 3) }, admin);
    const stores = () => federation.routerMetric('fleetgraph_router_cache_stores_total');
    const deferred = () =>
      federation.routerMetric('fleetgraph_router_cache_admissions_deferred_total');
    const [storesBefore, deferredBefore] = [await stores(), await deferred()];
    const first = await read();
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    assert.equal(await stores(), storesBefore, 'a first use is not stored');
    assert.equal(await deferred(), deferredBefore + 1);
    assert.equal((await read()).cache, 'MISS');
    assert.equal(await stores(), storesBefore + 1, 'the second use is stored');
    const third = await read();
    assert.equal(third.cache, 'HIT');
    assert.deepEqual(third.body, first.body);
  });

  it("when users A and B ask for private data concurrently, then neither ever receives the other's", async () => {
    const tokens = [
      await tokenFor(federation.config, 0, 0),
      await tokenFor(federation.config, 0, 1, ['operator', 'viewer']),
    ];
    const ids = [seedIds.user(0, 0), seedIds.user(0, 1)];
    const query =
      '{ me { id displayName sessions(first: 5) { nodes { id } } activeSessionCount } }';
    const rounds = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const who = i % 2;
        const { body } = await send(federation, query, {}, tokens[who]!);
        return { who, me: body.data?.['me'] as { id: string } | undefined, errors: body.errors };
      }),
    );
    for (const round of rounds) {
      assert.equal(round.errors, undefined, JSON.stringify(round.errors));
      assert.equal(round.me?.id, ids[round.who], 'a caller only ever sees their own me');
    }
  });

  it('when many identical requests miss at once, then the subgraphs compute the answer once', async () => {
    const variables = { fleetId: seedIds.fleet(0, 1), first: 40 };
    const fetchesBefore = await federation.routerMetric('fleetgraph_router_subgraph_fetches_total');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => send(federation, DASHBOARD, variables, admin)),
    );
    for (const response of responses) assert.equal(response.body.errors, undefined);
    const fetches =
      (await federation.routerMetric('fleetgraph_router_subgraph_fetches_total')) - fetchesBefore;
    // One execution of the dashboard is 3 fetches (fleet, then users and sessions).
    assert.ok(fetches <= 3, `${fetches} subgraph fetches for 20 concurrent identical requests`);
  });

  it('when a response has errors, then it is not cached', async () => {
    const bad = 'query Robot($id: ID!) { robot(id: $id) { id } }';
    for (let i = 0; i < 3; i++) {
      const response = await send(federation, bad, { id: 'not-a-uuid' }, admin);
      assert.ok(response.body.errors);
      assert.notEqual(response.cache, 'HIT');
    }
  });

  it('when an admin invalidates a type out of band, then its entries are purged; others may not', async () => {
    const id = seedIds.robot(0, 1, 7);
    await send(federation, ROBOT, { id }, admin);
    await send(federation, ROBOT, { id }, admin);
    assert.equal((await send(federation, ROBOT, { id }, admin)).cache, 'HIT');
    const viewer = await tokenFor(federation.config, 0, 2, ['viewer']);
    const refused = await fetch(federation.url.replace(/\/graphql$/, '/cache/invalidate'), {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ typename: 'Robot' }),
    });
    assert.equal(refused.status, 403);
    const purge = await fetch(federation.url.replace(/\/graphql$/, '/cache/invalidate'), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
      body: JSON.stringify({ typename: 'Robot', id }),
    });
    assert.equal(purge.status, 200);
    assert.deepEqual(await purge.json(), { purged: true, tag: `Robot:${id}` });
    assert.notEqual((await send(federation, ROBOT, { id }, admin)).cache, 'HIT');
  });

  it('when Redis stops mid-test, then no request fails and bypasses are counted; when it returns, hits resume', async () => {
    const variables = { id: seedIds.robot(0, 1, 8) };
    await send(federation, ROBOT, variables, admin);
    await send(federation, ROBOT, variables, admin);
    assert.equal((await send(federation, ROBOT, variables, admin)).cache, 'HIT');
    const bypassesBefore = await federation.routerMetric('fleetgraph_router_redis_bypass_total', {
      purpose: 'response_cache',
    });
    await redis.kill();
    try {
      // The cache is bypassed while the router's client is not ready. The client learns of the
      // closed socket asynchronously: until then a request may still be answered locally (it
      // used to wait on a Redis rate-limit call first, which hid this window).
      const noticed = Date.now() + 5000;
      while (federation.redis.status === 'ready' && Date.now() < noticed)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.notEqual(federation.redis.status, 'ready', 'the router noticed Redis stopping');
      for (let i = 0; i < 10; i++) {
        const response = await send(federation, ROBOT, variables, admin);
        assert.equal(response.status, 200);
        assert.equal(response.body.errors, undefined);
        assert.notEqual(response.cache, 'HIT');
      }
      assert.ok(
        (await federation.routerMetric('fleetgraph_router_redis_bypass_total', {
          purpose: 'response_cache',
        })) >=
          bypassesBefore + 10,
      );
    } finally {
      await redis.restart();
    }
    let hit = false;
    for (let i = 0; i < 50 && !hit; i++) {
      await new Promise((r) => setTimeout(r, 200));
      hit = (await send(federation, ROBOT, variables, admin)).cache === 'HIT';
    }
    assert.ok(hit, 'caching resumed by itself');
  });
});
