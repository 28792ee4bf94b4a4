/**
 * Routers on a real Redis Cluster (REDIS_CLUSTER_NODES, test/redis-cluster/run.sh): two router
 * instances over the same in-process subgraphs, each with its own cluster connection, sharing
 * automatic persisted queries, session checks and the response cache through the cluster.
 *
 * @remarks
 * The failure this guards against was silent: a router on a cluster answered every request
 * correctly, but its multi-key cache writes were refused (CROSSSLOT) and failing open hid it —
 * 0 hits in 450 reads. So these tests look at what the cluster holds and at the x-cache header,
 * and the last one checks that no Redis bypass was counted.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { createLogger } from '../../platform/logger.js';
import { createRedis, waitForRedis, type RedisClient } from '../../platform/redis/client.js';
import { SessionRevocationCheck } from '../../router/auth/sessionRevocation.js';
import { createRouter, type Router } from '../../router/server.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { clusterNodes } from '../support/redisCluster.js';
import { sumMetric } from '../support/subgraphs.js';

const ROBOT = 'query Robot($id: ID!) { robot(id: $id) { id status batteryPercent } }';
const UPDATE =
  'mutation($id: ID!, $status: RobotStatus!) { updateRobotStatus(robotId: $id, status: $status) { id status } }';

interface Reply {
  status: number;
  cache: string | null;
  body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}

async function send(url: string, body: Record<string, unknown>, token: string): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    body: (await response.json()) as Reply['body'],
  };
}

const statusOf = (reply: Reply) => (reply.body.data?.['robot'] as { status: string }).status;

/** Asks until the answer is a HIT (at most `tries` times); the x-cache headers seen. */
async function untilHit(url: string, body: Record<string, unknown>, token: string, tries = 3) {
  const seen: (string | null)[] = [];
  while (seen.length < tries && seen.at(-1) !== 'HIT')
    seen.push((await send(url, body, token)).cache);
  return seen;
}

describe('routers on a Redis Cluster: APQ, session checks and the response cache shared through it', () => {
  let federation: Federation;
  let second: { router: Router; redis: RedisClient; url: string; opsUrl: string };
  let admin: string;
  before(async () => {
    clusterNodes(); // refuses to run against the single Redis
    federation = await startFederation({
      // Stored on first use, so the second identical query is the first that can hit.
      RESPONSE_CACHE_MIN_USES: '1',
      // The last test counts Redis bypasses: a refusal (CROSSSLOT, a cross-node pipeline) is
      // one whatever the timeout, while a 100 ms timeout also trips on a busy 2-core machine.
      REDIS_COMMAND_TIMEOUT_MS: '1000',
    });
    const redis = createRedis(federation.config);
    await waitForRedis(redis, 5000);
    const router = await createRouter(federation.config, {
      cassandra: federation.cassandra,
      redis,
      logger: createLogger(federation.config, 'test-router-b'),
    });
    second = {
      router,
      redis,
      url: await router.listen(0, '127.0.0.1'),
      opsUrl: await router.listenOps(0, '127.0.0.1'),
    };
    admin = await tokenFor(federation.config, 2, 0);
  });
  after(async () => {
    await second?.router.close();
    second?.redis.disconnect();
    await federation?.close();
  });

  it('when the router is configured with REDIS_CLUSTER_NODES, then its Redis client is a ready Cluster', () => {
    assert.ok(federation.redis instanceof Cluster);
    assert.equal(federation.redis.status, 'ready');
    assert.ok(second.redis instanceof Cluster);
  });

  it('when a client registers an automatic persisted query on one router, then the hash alone works on both', async () => {
    // A query of this run only (its operation name), so its hash was never registered.
    const query = `query Apq${randomUUID().replaceAll('-', '')} { fleet(id: "${seedIds.fleet(2, 1)}") { id name } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const fleetOf = (reply: Reply) =>
      (reply.body.data?.['fleet'] as { id: string } | undefined)?.id;
    const unknown = await send(federation.url, { extensions }, admin);
    assert.equal(unknown.body.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
    assert.equal(
      fleetOf(await send(federation.url, { query, extensions }, admin)),
      seedIds.fleet(2, 1),
    );
    assert.equal(fleetOf(await send(federation.url, { extensions }, admin)), seedIds.fleet(2, 1));
    assert.equal(fleetOf(await send(second.url, { extensions }, admin)), seedIds.fleet(2, 1));
    assert.equal(
      await federation.redis.exists(`apq:apq:${sha256Hash}`),
      1,
      'stored in the cluster',
    );
  });

  it('when a session is checked, then its answer is cached in the cluster and another instance reads it from there', async () => {
    const sessionId = seedIds.session(2, 1, 0);
    const options = {
      signingSecret: federation.config.identitySigningSecret,
      redis: federation.redis,
      activeTtlSeconds: 30,
      timeoutMs: 2000,
    };
    const asking = new SessionRevocationCheck({
      ...options,
      sessionsUrl: () => federation.subgraphs.sessions.url,
    });
    await asking.forget(sessionId);
    assert.equal(await asking.state(sessionId), 'active');
    assert.equal(await federation.redis.get(`session-state:${sessionId}`), 'active');
    // Nothing listens on port 1: an answer can only come from the cluster.
    const cachedOnly = new SessionRevocationCheck({
      ...options,
      redis: second.redis,
      sessionsUrl: () => 'http://127.0.0.1:1/graphql',
    });
    assert.equal(await cachedOnly.state(sessionId), 'active');
    await asking.forget(sessionId);
    assert.equal(await federation.redis.exists(`session-state:${sessionId}`), 0);
  });

  it('when the same query is asked twice, then the second is a cache HIT', async () => {
    const body = { query: ROBOT, variables: { id: seedIds.robot(2, 1, 77) } };
    const first = await send(federation.url, body, admin);
    assert.equal(first.body.errors, undefined, JSON.stringify(first.body.errors));
    assert.notEqual(first.cache, 'HIT');
    const again = await send(federation.url, body, admin);
    assert.equal(again.cache, 'HIT');
    assert.deepEqual(again.body, first.body);
  });

  it('when another router instance asks the same query, then it is a HIT from the cluster (not its own local layer)', async () => {
    const body = { query: ROBOT, variables: { id: seedIds.robot(2, 1, 78) } };
    assert.equal(
      (await untilHit(federation.url, body, admin)).at(-1),
      'HIT',
      'stored by the first',
    );
    const elsewhere = await send(second.url, body, admin);
    assert.equal(elsewhere.cache, 'HIT');
    assert.equal(elsewhere.body.errors, undefined, JSON.stringify(elsewhere.body.errors));
  });

  it('when a mutation changes the robot, then the next read misses and shows it, on both router instances', async () => {
    const id = seedIds.robot(2, 1, 79);
    const body = { query: ROBOT, variables: { id } };
    // Both instances hold the entry (in their local layers too) before the write.
    assert.equal((await untilHit(federation.url, body, admin)).at(-1), 'HIT');
    assert.equal((await untilHit(second.url, body, admin)).at(-1), 'HIT');
    const original = statusOf(await send(federation.url, body, admin));
    const next = original === 'MAINTENANCE' ? 'IDLE' : 'MAINTENANCE';
    try {
      const mutation = await send(
        federation.url,
        { query: UPDATE, variables: { id, status: next } },
        admin,
      );
      assert.equal(mutation.body.errors, undefined, JSON.stringify(mutation.body.errors));
      const here = await send(federation.url, body, admin);
      assert.notEqual(here.cache, 'HIT', 'the writing router misses');
      assert.equal(statusOf(here), next);
      // The other instance hears of the purge through the cluster (pub/sub); give it a moment.
      let there = await send(second.url, body, admin);
      for (let i = 0; i < 20 && statusOf(there) !== next; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        there = await send(second.url, body, admin);
      }
      assert.equal(statusOf(there), next, 'the other router shows the new status');
    } finally {
      await send(federation.url, { query: UPDATE, variables: { id, status: original } }, admin);
    }
  });

  it('when all of the above ran, then neither router counted a Redis bypass', async () => {
    for (const opsUrl of [federation.opsUrl, second.opsUrl]) {
      const metrics = await (await fetch(`${opsUrl}/metrics`)).text();
      assert.equal(
        sumMetric(metrics, 'fleetgraph_router_redis_bypass_total'),
        0,
        metrics
          .split('\n')
          .filter((line) => line.startsWith('fleetgraph_router_redis_bypass_total'))
          .join('\n'),
      );
    }
  });
});
