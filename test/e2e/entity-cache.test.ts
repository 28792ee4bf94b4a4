/**
 * The router's entity cache (router/cache/entityCache.ts, docs/caching.md "The entity cache"):
 * with the response cache off, a repeated fleet dashboard sends no `_entities` fetch to users or
 * sessions, and is never stale — after a user's rename through a router (the same or another
 * sharing the Redis, with reads in flight), after a session starts or is revoked, with PRIVATE
 * data asked by another caller, and with Redis paused. Both routers share a private Redis.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { EPOCH_FIELD, SEQ_FIELD, VERSIONS_KEY } from '../../router/cache/purgeScript.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { AUTH_SERVICE } from '../support/subgraphs.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { watchRedisCommands } from '../support/redisMonitor.js';

const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');
const RENAME =
  'mutation($id: ID!, $name: String!) { updateUser(input: { id: $id, displayName: $name }) { id displayName } }';
const REVOKE = 'mutation($id: ID!) { revokeSession(id: $id) { id } }';
const START = 'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }';
const SESSIONS_OF = 'query($id: ID!) { user(id: $id) { id sessions(first: 5) { nodes { id } } } }';

interface Operator {
  id: string;
  displayName: string;
  activeSessionCount: number;
}
interface Dashboard {
  fleet: { robots: { nodes: { id: string; operator: Operator | null }[] } };
}

/**
 * Fetches `federation`'s router sent to users and sessions so far: on the dashboard, its
 * `_entities` fetches. (Not the subgraphs' request counts: those include the router's session
 * revocation checks, which expire after SESSION_CHECK_CACHE_SECONDS.)
 */
async function entityFetches(federation: Federation): Promise<number> {
  const name = 'fleetgraph_router_subgraph_fetches_total';
  return (
    (await federation.routerMetric(name, { subgraph: 'users' })) +
    (await federation.routerMetric(name, { subgraph: 'sessions' }))
  );
}

async function dashboard(federation: Federation, token: string): Promise<Dashboard> {
  const response = await federation.query<Dashboard>(
    DASHBOARD,
    { fleetId: seedIds.fleet(0, 0), first: 100 },
    { token },
  );
  assert.equal(response.status, 200);
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data!;
}

function operatorIn(data: Dashboard, id: string): Operator {
  const found = data.fleet.robots.nodes.find((robot) => robot.operator?.id === id)?.operator;
  assert.ok(found, `operator ${id} on the dashboard`);
  return found;
}

async function mutate(federation: Federation, token: string, query: string, vars: object) {
  const response = await federation.query(query, vars as Record<string, unknown>, { token });
  assert.equal(response.status, 200);
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data as Record<string, { id: string }>;
}

describe('the entity cache under a fleet dashboard', () => {
  let redis: PrivateRedis;
  let a: Federation;
  let b: Federation;
  let token: string;
  /** An operator on fleet (0, 0)'s dashboard who is not the caller, and their name. */
  let operator: { id: string; name: string };

  before(async () => {
    redis = await startPrivateRedis();
    const env = {
      REDIS_URL: redis.url,
      RESPONSE_CACHE: 'false',
      ENTITY_CACHE: 'true',
      RATE_LIMITS: 'user=1000000',
    };
    a = await startFederation(env);
    b = await startFederation(env);
    token = await tokenFor(a.config, 0, 0);
    const data = await dashboard(a, token);
    const other = data.fleet.robots.nodes.find(
      (robot) => robot.operator && robot.operator.id !== seedIds.user(0, 0),
    )!.operator!;
    operator = { id: other.id, name: other.displayName };
  });

  after(async () => {
    if (operator) await mutate(a, token, RENAME, { id: operator.id, name: operator.name });
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('when the dashboard is read again, then users and sessions get no _entities fetch and the data is the same', async () => {
    const first = await dashboard(a, token);
    const before = await entityFetches(a);
    const second = await dashboard(a, token);
    assert.equal((await entityFetches(a)) - before, 0, 'no _entities fetch on the repeat read');
    // Everything but the page cursor, which is signed with the time it was made.
    assert.deepEqual(second.fleet.robots.nodes, first.fleet.robots.nodes);
    assert.ok((await a.routerMetric('fleetgraph_router_entity_cache_hits_total')) > 0);
  });

  it("when the dashboard's operators are served from the router's memory, then one Redis read confirms every purge was heard, for both subgraphs' fetches", async () => {
    // The in-process copies may be served only after a read of Redis's purge sequence sent
    // after the request arrived (tagVersions.ts, heardAllPurges). The users and sessions
    // fetches of one dashboard run in parallel and share that read (sharedRoundTrip.ts): it
    // was one each before. Counted in the private Redis's MONITOR feed.
    await dashboard(a, token);
    const feed = await watchRedisCommands(redis.url);
    const barrierReads = () =>
      feed.commands.filter(
        ([name, key, ...fields]) =>
          name?.toLowerCase() === 'hmget' &&
          key?.endsWith(VERSIONS_KEY) &&
          fields.join(' ') === `${EPOCH_FIELD} ${SEQ_FIELD}`,
      ).length;
    try {
      const before = await entityFetches(a);
      for (let i = 0; i < 3; i++) await dashboard(a, token);
      assert.equal((await entityFetches(a)) - before, 0, 'the operators came from the cache');
      await feed.caughtUp();
      assert.equal(barrierReads(), 3, 'one barrier read per dashboard');
    } finally {
      feed.close();
    }
  });

  it('when an operator is renamed through the router, then the next dashboard shows the new name', async () => {
    await dashboard(a, token);
    await mutate(a, token, RENAME, { id: operator.id, name: 'EC renamed' });
    assert.equal(operatorIn(await dashboard(a, token), operator.id).displayName, 'EC renamed');
    // And through the other router, which held the old name too.
    assert.equal(operatorIn(await dashboard(b, token), operator.id).displayName, 'EC renamed');
  });

  it('when renames go through router A while readers read through router B, then no read is stale', async () => {
    let acked = 0;
    let reads = 0;
    let writing = true;
    const stale: number[] = [];
    // 3 s and at least 5 writes (a loaded machine may write slowly): bounded either way.
    const until = performance.now() + 3000;
    const writer = async () => {
      for (let step = 1; step <= 5 || (performance.now() < until && step <= 200); step++) {
        await mutate(a, token, RENAME, { id: operator.id, name: `EC ${step}` });
        acked = step;
      }
      writing = false;
    };
    const reader = async () => {
      while (writing) {
        const known = acked;
        const name = operatorIn(await dashboard(b, token), operator.id).displayName;
        const seen = /^EC (\d+)$/.exec(name)?.[1];
        reads++;
        if (known > 0 && Number(seen ?? 0) < known) stale.push(known - Number(seen ?? 0));
      }
    };
    await Promise.all([writer(), reader(), reader(), reader()]);
    assert.ok(acked >= 5 && reads >= 5, `${acked} writes, ${reads} reads`);
    assert.deepEqual(stale, [], `${stale.length} stale reads of ${reads}`);
  });

  it('when a session of the operator starts or is revoked, then the next dashboard counts it', async () => {
    const count = async () => operatorIn(await dashboard(a, token), operator.id).activeSessionCount;
    const before = await count();
    assert.equal(await count(), before);
    // Sign-in is the auth service's, straight to the subgraph: an out-of-band write, which an
    // admin reports through POST /cache/invalidate (docs/caching.md).
    const started = await a.subgraphs.sessions.request<{ startSession: { id: string } }>(
      START,
      { input: { userId: operator.id, organizationId: seedIds.organization(0), ttlSeconds: 600 } },
      AUTH_SERVICE,
    );
    const sessionId = started.body.data!.startSession.id;
    const purge = await fetch(a.url.replace(/\/graphql$/, '/cache/invalidate'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ typename: 'User', id: operator.id }),
    });
    assert.ok(purge.ok, `invalidate: ${purge.status}`);
    assert.equal(await count(), before + 1, 'started');
    await mutate(a, token, REVOKE, { id: sessionId });
    assert.equal(await count(), before, 'revoked');
  });

  it("when another caller asks for a user's PRIVATE sessions, then the first caller's entry is not served", async () => {
    const other = await tokenFor(a.config, 0, 1, ['admin', 'operator', 'viewer']);
    // The router's fetches (not the subgraph's requests: those count session revocation checks).
    const sessionsFetches = () =>
      a.routerMetric('fleetgraph_router_subgraph_fetches_total', { subgraph: 'sessions' });
    const read = async (as: string) => {
      const response = await a.query(SESSIONS_OF, { id: operator.id }, { token: as });
      assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
      return response.body.data;
    };
    const mine = await read(token);
    // Stored from its second use (admission, docs/caching.md).
    assert.deepEqual(await read(token), mine);
    let before = await sessionsFetches();
    assert.deepEqual(await read(token), mine);
    assert.equal((await sessionsFetches()) - before, 0, "the first caller's repeat is a hit");
    before = await sessionsFetches();
    await read(other);
    assert.equal((await sessionsFetches()) - before, 1, 'another caller is not served it');
  });

  it('when an entity is asked for once, then nothing is looked up or stored in Redis; from its second use, it is stored and then served', async () => {
    // A caller of another organization: a scope group whose entities this router never saw.
    const stranger = await tokenFor(a.config, 1, 0);
    const control = new Redis(redis.url);
    const entries = async () => (await control.keys('*ent:*')).length;
    const commands = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await control.info('stats'))![1]);
    try {
      const read = async () => {
        const response = await a.query(
          SESSIONS_OF,
          { id: seedIds.user(1, 0) },
          { token: stranger },
        );
        assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
      };
      const stored = await entries();
      const before = await commands();
      await read();
      assert.equal(await entries(), stored, 'a first use stores nothing');
      // The router's own commands in that read: the version snapshot is local, the lookups
      // and stores skipped. What remains is not the entity cache's (INFO and KEYS above count).
      const firstUse = (await commands()) - before;
      await read();
      assert.ok((await entries()) > stored, 'the second use is stored');
      // The sessions subgraph's `_entities` fetches (`user(id:)` itself is a root fetch of users).
      const sessionsFetches = () =>
        a.routerMetric('fleetgraph_router_subgraph_fetches_total', { subgraph: 'sessions' });
      const fetches = await sessionsFetches();
      await read();
      assert.equal(
        (await sessionsFetches()) - fetches,
        0,
        'the third use is served from the cache',
      );
      assert.ok(firstUse < 10, `a first use sent ${firstUse} commands to Redis`);
    } finally {
      control.disconnect();
    }
  });

  it('when Redis is paused, then reads still succeed and show the latest write', async () => {
    await dashboard(a, token);
    const control = new Redis(redis.url);
    try {
      await control.call('CLIENT', 'PAUSE', '1500', 'ALL');
      await mutate(a, token, RENAME, { id: operator.id, name: 'EC paused' });
      assert.equal(operatorIn(await dashboard(a, token), operator.id).displayName, 'EC paused');
      await new Promise((resolve) => setTimeout(resolve, 1600));
      assert.equal(operatorIn(await dashboard(b, token), operator.id).displayName, 'EC paused');
    } finally {
      control.disconnect();
    }
  });
});
