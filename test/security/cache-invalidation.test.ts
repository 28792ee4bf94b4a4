/**
 * Security issue 16, item 2: POST /cache/invalidate. On the public port an organization admin
 * may purge one entity of their own organization, nothing else, and cannot tell another
 * tenant's entity from a missing one; type-wide and full purges are the operator's, on the
 * operations listener with OPERATOR_TOKEN; the public route is rate limited per caller.
 * Real router and subgraphs (dev Cassandra), on a private Redis: purges here never reach the
 * development stack's cache.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';

const ROBOT = 'query Robot($id: ID!) { robot(id: $id) { id status } }';
const UPDATE_STATUS =
  'mutation($id: ID!, $status: RobotStatus!) { updateRobotStatus(robotId: $id, status: $status) { id status } }';
const OPERATOR_TOKEN = randomBytes(32).toString('base64url');

interface Answer {
  status: number;
  headers: Headers;
  body: { errors?: { message: string; extensions?: { code?: string } }[]; [key: string]: unknown };
}

async function post(url: string, body: unknown, authorization?: string): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer['body'],
  };
}

describe('cache invalidation: tenant-scoped for org admins, everything for operators only', () => {
  let federation: Federation;
  let redis: PrivateRedis;
  let publicUrl: string;
  let admin: string;

  const readRobot = async (id: string) => {
    const response = await fetch(federation.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: ROBOT, variables: { id } }),
    });
    const body = (await response.json()) as { data?: { robot?: { status: string } } };
    return { cache: response.headers.get('x-cache'), status: body.data?.robot?.status };
  };
  /**
   * Reads until the response cache answers (stored on first use: RESPONSE_CACHE_MIN_USES=1). At
   * most a few reads: a read whose execution overlaps a purge is rightly not stored, and right
   * after start-up the router's first sight of a subgraph's policy fingerprint is such a purge
   * (`policy:<subgraph>` on this fresh Redis), which once made the second read a MISS in CI.
   */
  const cached = async (id: string) => {
    let read = await readRobot(id);
    for (let attempt = 0; attempt < 4 && read.cache !== 'HIT'; attempt++)
      read = await readRobot(id);
    assert.equal(read.cache, 'HIT', 'the read is served from the cache');
    return read;
  };

  before(async () => {
    redis = await startPrivateRedis();
    federation = await startFederation({
      REDIS_URL: redis.url,
      RESPONSE_CACHE_MIN_USES: '1',
      OPERATOR_TOKEN,
    });
    publicUrl = federation.url.replace(/\/graphql$/, '/cache/invalidate');
    admin = await tokenFor(federation.config, 0, 0, ['admin']);
  });
  after(async () => {
    await federation?.close();
    await redis?.stop();
  });

  it("when an org admin names another tenant's robot or one that does not exist, then both get the same 404", async () => {
    const auth = `Bearer ${admin}`;
    const foreign = await post(publicUrl, { typename: 'Robot', id: seedIds.robot(1, 0, 3) }, auth);
    const missing = await post(publicUrl, { typename: 'Robot', id: randomUUID() }, auth);
    const foreignFleet = await post(
      publicUrl,
      { typename: 'Fleet', id: seedIds.fleet(1, 0) },
      auth,
    );
    const missingFleet = await post(publicUrl, { typename: 'Fleet', id: randomUUID() }, auth);
    for (const answer of [foreign, missing, foreignFleet, missingFleet]) {
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    }
    assert.deepEqual(foreign.body, missing.body, 'same message and shape');
    assert.deepEqual(foreignFleet.body, missingFleet.body);
    assert.equal(foreign.headers.get('content-type'), missing.headers.get('content-type'));
  });

  it('when an org admin asks for a type-wide or full purge, then 403 FORBIDDEN says it is operator-only, and nothing is purged', async () => {
    const id = seedIds.robot(0, 1, 100);
    await cached(id);
    for (const body of [{ all: true }, { typename: 'Robot' }]) {
      const answer = await post(publicUrl, body, `Bearer ${admin}`);
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.match(answer.body.errors?.[0]?.message ?? '', /operator-only/);
    }
    assert.equal((await readRobot(id)).cache, 'HIT', 'the entry survived the refused purges');
  });

  it('when the operator token is presented on the operations listener, then every form purges; a wrong or missing token is 401', async () => {
    const opsUrl = `${federation.opsUrl}/cache/invalidate`;
    const refused = [
      await post(opsUrl, { all: true }),
      await post(opsUrl, { all: true }, `Bearer ${OPERATOR_TOKEN.slice(1)}x`),
      await post(opsUrl, { all: true }, `Bearer ${admin}`),
    ];
    for (const answer of refused) {
      assert.equal(answer.status, 401);
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    }
    const id = seedIds.robot(0, 1, 101);
    const operator = `Bearer ${OPERATOR_TOKEN}`;
    const forms: [unknown, string][] = [
      [{ typename: 'Robot', id }, `Robot:${id}`],
      [{ typename: 'Robot' }, 'type:Robot'],
      [{ all: true }, '*'],
    ];
    for (const [body, tag] of forms) {
      await cached(id);
      const answer = await post(opsUrl, body, operator);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { purged: true, tag });
      assert.notEqual((await readRobot(id)).cache, 'HIT', `${tag} purged the entry`);
    }
    // Any tenant's entity: the operator is not an organization's.
    const other = await post(opsUrl, { typename: 'Robot', id: seedIds.robot(1, 0, 3) }, operator);
    assert.equal(other.status, 200);
  });

  it('when an org admin purges their own robot after an out-of-band write, then the next read shows the write', async () => {
    const id = seedIds.robot(0, 1, 102);
    const before = await cached(id);
    const next = before.status === 'MAINTENANCE' ? 'IDLE' : 'MAINTENANCE';
    // Written behind the router's back (straight to the fleet subgraph): the cache cannot know.
    const write = await federation.subgraphs.fleet.request(UPDATE_STATUS, { id, status: next });
    assert.equal(write.status, 200, JSON.stringify(write.body));
    try {
      const stale = await readRobot(id);
      assert.deepEqual(stale, { cache: 'HIT', status: before.status }, 'stale until purged');
      const answer = await post(publicUrl, { typename: 'Robot', id }, `Bearer ${admin}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { purged: true, tag: `Robot:${id}` });
      const fresh = await readRobot(id);
      assert.notEqual(fresh.cache, 'HIT');
      assert.equal(fresh.status, next);
    } finally {
      await federation.subgraphs.fleet.request(UPDATE_STATUS, { id, status: before.status });
    }
  });

  it('when one caller sends more invalidations than the limit in a minute, then 429 RATE_LIMITED with Retry-After', async () => {
    // A caller of its own (the limit counts per caller and minute), so the tests above do not
    // share its budget.
    const caller = `Bearer ${await tokenFor(federation.config, 0, 1, ['admin'])}`;
    const limit = federation.config.ops?.invalidationsPerMinute ?? 30;
    const statuses: number[] = [];
    for (let i = 0; i < limit; i++)
      statuses.push((await post(publicUrl, { all: true }, caller)).status);
    assert.ok(!statuses.includes(429), `refused within the limit: ${statuses.join(',')}`);
    const over = await post(publicUrl, { typename: 'Robot', id: randomUUID() }, caller);
    assert.equal(over.status, 429, JSON.stringify(over.body));
    assert.equal(over.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    // Another caller is not limited by this one's requests.
    const other = await post(publicUrl, { typename: 'Robot', id: randomUUID() }, `Bearer ${admin}`);
    assert.notEqual(other.status, 429);
  });
});
