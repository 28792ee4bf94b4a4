import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { seedIds, SCALES } from '../../scripts/seed-ids.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { cassandraForTest } from '../support/stack.js';
import {
  AUTH_SERVICE,
  ROUTER_SERVICE,
  startSubgraph,
  type RunningSubgraph,
} from '../support/subgraphs.js';

interface SessionFields {
  id: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
  revokedAt: string | null;
  active: boolean;
  client: { name: string | null; userAgent: string | null; ipAddress: string | null } | null;
  user: { id: string };
}

interface UserSessions {
  id: string;
  activeSessionCount: number;
  sessions: {
    nodes: { id: string; revokedAt: string | null }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const SESSION_FIELDS =
  'id createdAt expiresAt lastSeenAt revokedAt active client { name userAgent ipAddress } user { id }';
const START = `mutation($input: StartSessionInput!) { startSession(input: $input) { ${SESSION_FIELDS} } }`;
const USER_SESSIONS = `query($r: [_Any!]!, $first: Int, $after: String, $activeOnly: Boolean) {
  _entities(representations: $r) {
    ... on User {
      id
      activeSessionCount
      sessions(first: $first, after: $after, activeOnly: $activeOnly) {
        nodes { id revokedAt }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;
const ORGANIZATION = seedIds.organization(0);

describe('sessions subgraph over HTTP against the real Cassandra node', () => {
  let cassandra: CassandraClient;
  let sessions: RunningSubgraph;
  before(async () => {
    cassandra = await cassandraForTest();
    sessions = await startSubgraph(sessionsSubgraph, cassandra);
  });
  after(async () => {
    await sessions.close();
    await cassandra.shutdown();
  });

  async function startSession(input: Record<string, unknown>): Promise<SessionFields> {
    const { body } = await sessions.request<{ startSession: SessionFields }>(
      START,
      { input: { organizationId: ORGANIZATION, ...input } },
      AUTH_SERVICE,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.startSession;
  }

  async function mutateSession(
    mutation: 'touchSession' | 'revokeSession',
    id: string,
  ): Promise<SessionFields> {
    const { body } = await sessions.request<Record<string, SessionFields>>(
      `mutation($id: ID!) { ${mutation}(id: $id) { ${SESSION_FIELDS} } }`,
      { id },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data![mutation]!;
  }

  async function userSessions(
    userId: string,
    options: { first?: number; after?: string | null; activeOnly?: boolean } = {},
  ): Promise<UserSessions> {
    const { body } = await sessions.request<{ _entities: UserSessions[] }>(USER_SESSIONS, {
      r: [{ __typename: 'User', id: userId }],
      ...options,
    });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!._entities[0]!;
  }

  async function validity(id: string) {
    const { body } = await sessions.request<{
      sessionValidity: { sessionId: string; active: boolean; reason: string | null };
    }>(
      'query($id: ID!) { sessionValidity(id: $id) { sessionId active reason } }',
      { id },
      ROUTER_SERVICE,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.sessionValidity;
  }

  async function rowsOfUser(userId: string) {
    const result = await cassandra.execute(
      'SELECT session_id, last_seen_at, revoked_at FROM sessions_by_user WHERE user_id = ?',
      [userId],
      { prepare: true },
    );
    return result.rows;
  }

  async function rowOfSession(sessionId: string) {
    const result = await cassandra.execute(
      'SELECT last_seen_at, revoked_at, TTL(user_id) AS ttl FROM sessions_by_id WHERE session_id = ?',
      [sessionId],
      { prepare: true },
    );
    return result.first();
  }

  it("when _entities is called with 30 user representations asking for their sessions, then one sessionsByUser batch reads each user once and other organizations' users show none", async () => {
    // Users 3.. of every organization: the well-known demo identities (users 0–2) are left to
    // tests that may sign them out.
    const ids: string[] = [];
    for (let o = 0; o < SCALES.demo.organizations; o++) {
      for (let u = 3; u < SCALES.demo.usersPerOrganization; u++) ids.push(seedIds.user(o, u));
    }
    const representations = [...ids, ...ids.slice(0, 3)].map((id) => ({ __typename: 'User', id }));
    assert.equal(representations.length, 30);
    const batchesBefore = await sessions.metric('fleetgraph_dataloader_batches_total', {
      loader: 'sessionsByUser',
    });
    const readsBefore = await sessions.metric('fleetgraph_cassandra_partitions_read_total', {
      table: 'sessions_by_user',
    });
    const { body } = await sessions.request<{ _entities: UserSessions[] }>(USER_SESSIONS, {
      r: representations,
    });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const entities = body.data!._entities;
    assert.deepEqual(
      entities.map((user) => user.id),
      representations.map((r) => r.id),
    );
    for (const [index, user] of entities.entries()) {
      const o = Math.floor((index % ids.length) / 9);
      const u = 3 + ((index % ids.length) % 9);
      // Organization 0's admin sees its users' sessions; another organization's users look
      // like unknown ones: no sessions.
      const visible = o === 0;
      assert.equal(
        user.activeSessionCount,
        visible ? SCALES.demo.sessionsPerUser : 0,
        `user ${o}.${u}`,
      );
      assert.deepEqual(
        user.sessions.nodes.map((session) => session.id).sort(),
        visible
          ? Array.from({ length: SCALES.demo.sessionsPerUser }, (_, s) =>
              seedIds.session(o, u, s),
            ).sort()
          : [],
      );
    }
    assert.equal(
      (await sessions.metric('fleetgraph_dataloader_batches_total', {
        loader: 'sessionsByUser',
      })) - batchesBefore,
      1,
    );
    // 27 distinct users, each read once for both fields; the 3 repeats are not read again.
    assert.equal(
      (await sessions.metric('fleetgraph_cassandra_partitions_read_total', {
        table: 'sessions_by_user',
      })) - readsBefore,
      ids.length,
    );
  });

  it('when a session is started, touched and revoked, then the user sessions, count and validity follow', async () => {
    const userId = randomUUID();
    const earlier = await startSession({ userId, clientName: 'ios' });
    const countBefore = (await userSessions(userId)).activeSessionCount;
    assert.equal(countBefore, 1);
    await sleep(2);

    const started = await startSession({
      userId,
      clientName: 'web',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
      ipAddress: '2001:db8::1',
    });
    assert.equal(started.active, true);
    assert.equal(started.revokedAt, null);
    assert.equal(started.user.id, userId);
    assert.deepEqual(started.client, {
      name: 'web',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
      ipAddress: '2001:db8::1',
    });
    assert.equal(Date.parse(started.expiresAt) - Date.parse(started.createdAt), 604_800_000);
    assert.equal(started.lastSeenAt, started.createdAt);

    const listed = await userSessions(userId);
    assert.equal(listed.activeSessionCount, countBefore + 1);
    assert.deepEqual(
      listed.sessions.nodes.map((session) => session.id),
      [started.id, earlier.id],
      'newest first',
    );

    await sleep(5);
    const touched = await mutateSession('touchSession', started.id);
    assert.ok(Date.parse(touched.lastSeenAt) > Date.parse(started.lastSeenAt));
    assert.equal(touched.expiresAt, started.expiresAt);
    assert.equal(
      (await rowOfSession(started.id))['last_seen_at'].toISOString(),
      touched.lastSeenAt,
    );
    const touchedRow = (await rowsOfUser(userId)).find(
      (row) => String(row['session_id']) === started.id,
    );
    assert.equal(touchedRow?.['last_seen_at'].toISOString(), touched.lastSeenAt);

    const revoked = await mutateSession('revokeSession', started.id);
    assert.equal(revoked.active, false);
    assert.ok(revoked.revokedAt);
    assert.deepEqual(await validity(started.id), {
      sessionId: started.id,
      active: false,
      reason: 'revoked',
    });
    const afterRevoke = await userSessions(userId);
    assert.equal(afterRevoke.activeSessionCount, countBefore);
    assert.deepEqual(
      afterRevoke.sessions.nodes.map((session) => session.id),
      [earlier.id],
    );
    const everything = await userSessions(userId, { activeOnly: false });
    assert.deepEqual(everything.sessions.nodes, [
      { id: started.id, revokedAt: revoked.revokedAt },
      { id: earlier.id, revokedAt: null },
    ]);
    // Both tables carry the revocation; the by-id row still expires with the session.
    const row = await rowOfSession(started.id);
    assert.equal(row['revoked_at'].toISOString(), revoked.revokedAt);
    assert.ok(row['ttl'] > 604_700 && row['ttl'] <= 604_800, `TTL ${row['ttl']}`);

    const again = await mutateSession('revokeSession', started.id);
    assert.equal(again.revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');
    const { body } = await sessions.request('mutation($id: ID!) { touchSession(id: $id) { id } }', {
      id: started.id,
    });
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
  });

  it('when revokeAllSessions is called for a user, then it revokes each active session once and returns the count', async () => {
    const userId = randomUUID();
    const started = [];
    for (const clientName of ['web', 'ios', 'android']) {
      started.push(await startSession({ userId, clientName }));
    }
    await mutateSession('revokeSession', started[0]!.id);
    const revokeAll = 'mutation($userId: ID!) { revokeAllSessions(userId: $userId) }';

    const first = await sessions.request<{ revokeAllSessions: number }>(revokeAll, { userId });
    assert.equal(first.body.errors, undefined);
    assert.equal(first.body.data?.revokeAllSessions, 2);
    assert.equal((await userSessions(userId)).activeSessionCount, 0);
    for (const session of started) assert.equal((await validity(session.id)).reason, 'revoked');
    assert.ok((await rowsOfUser(userId)).every((row) => row['revoked_at'] !== null));

    const second = await sessions.request<{ revokeAllSessions: number }>(revokeAll, { userId });
    assert.equal(second.body.data?.revokeAllSessions, 0);
  });

  it('when a session is started with ttlSeconds 60, then its rows expire by TTL within 60 seconds', async () => {
    const userId = randomUUID();
    const started = await startSession({ userId, ttlSeconds: 60 });
    assert.equal(Date.parse(started.expiresAt) - Date.parse(started.createdAt), 60_000);
    const byId = await rowOfSession(started.id);
    assert.ok(byId['ttl'] > 0 && byId['ttl'] <= 60, `sessions_by_id TTL ${byId['ttl']}`);
    const byUser = await cassandra.execute(
      'SELECT TTL(expires_at) AS ttl FROM sessions_by_user WHERE user_id = ?',
      [userId],
      { prepare: true },
    );
    const userTtl = byUser.first()['ttl'] as number;
    assert.ok(userTtl > 0 && userTtl <= 60, `sessions_by_user TTL ${userTtl}`);

    // A revocation re-writes the rows but keeps their expiry.
    await mutateSession('revokeSession', started.id);
    const revokedTtl = (await rowOfSession(started.id))['ttl'] as number;
    assert.ok(revokedTtl > 0 && revokedTtl <= 60, `TTL after revoke ${revokedTtl}`);
  });

  it('when sessionValidity is asked about an unknown or a seeded session, then it says unknown or active', async () => {
    const unknown = randomUUID();
    assert.deepEqual(await validity(unknown), {
      sessionId: unknown,
      active: false,
      reason: 'unknown',
    });
    const seeded = seedIds.session(2, 5, 1);
    assert.deepEqual(await validity(seeded), { sessionId: seeded, active: true, reason: null });
    const { body } = await sessions.request<{ session: null }>(
      'query($id: ID!) { session(id: $id) { id } }',
      { id: unknown },
    );
    assert.equal(body.errors, undefined);
    assert.equal(body.data?.session, null);
  });

  it('when a user pages through their sessions, then every session appears once, newest first', async () => {
    const userId = randomUUID();
    const started: string[] = [];
    for (let i = 0; i < 5; i++) {
      started.push((await startSession({ userId })).id);
      await sleep(2); // distinct createdAt, so "newest first" is the order they were started in
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: UserSessions = await userSessions(userId, { first: 2, after: cursor });
      seen.push(...page.sessions.nodes.map((session) => session.id));
      if (!page.sessions.pageInfo.hasNextPage) {
        assert.equal(page.sessions.pageInfo.endCursor, null);
        break;
      }
      cursor = page.sessions.pageInfo.endCursor;
      // A session started between two pages sorts first, so it shifts no later page.
      if (guard === 0) await startSession({ userId });
    }
    assert.deepEqual(seen, [...started].reverse());
  });

  it('when a cursor is forged or replayed on another user or filter, then BAD_USER_INPUT names "after"', async () => {
    const userId = randomUUID();
    await startSession({ userId });
    await startSession({ userId });
    const cursor = (await userSessions(userId, { first: 1 })).sessions.pageInfo.endCursor;
    assert.ok(cursor);
    for (const [id, after, activeOnly] of [
      [randomUUID(), cursor, true],
      [userId, cursor, false],
      [userId, `${cursor.slice(0, -3)}abc`, true],
      [userId, 'not-a-cursor', true],
    ] as const) {
      const { body } = await sessions.request(USER_SESSIONS, {
        r: [{ __typename: 'User', id }],
        first: 1,
        after,
        activeOnly,
      });
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
      assert.match(body.errors![0]!.message, /^Argument "after" is not a valid cursor/);
    }
  });

  it('when arguments are malformed or out of range, then BAD_USER_INPUT names the argument and nothing is written', async () => {
    const userId = randomUUID();
    const start = (input: Record<string, unknown>) =>
      `mutation { startSession(input: { userId: "${userId}", organizationId: "${ORGANIZATION}"${Object.entries(
        input,
      )
        .map(([key, value]) => `, ${key}: ${JSON.stringify(value)}`)
        .join('')} }) { id } }`;
    const cases: [string, RegExp][] = [
      ['{ session(id: "42") { id } }', /^Argument "id" must be a UUID/],
      ['{ sessionValidity(id: "42") { active } }', /^Argument "id" must be a UUID/],
      ['mutation { touchSession(id: "nope") { id } }', /^Argument "id" must be a UUID/],
      ['mutation { revokeSession(id: "nope") { id } }', /^Argument "id" must be a UUID/],
      ['mutation { revokeAllSessions(userId: "nope") }', /^Argument "userId" must be a UUID/],
      [
        `mutation { startSession(input: { userId: "42", organizationId: "${ORGANIZATION}" }) { id } }`,
        /^Argument "input.userId" must be a UUID/,
      ],
      [start({ ttlSeconds: 59 }), /^Argument "input.ttlSeconds" must be between 60 and 2592000/],
      [start({ ttlSeconds: 2_592_001 }), /^Argument "input.ttlSeconds" must be between 60/],
      [start({ userAgent: 'x'.repeat(513) }), /^Argument "input.userAgent" must be at most 512/],
      [start({ clientName: '  ' }), /^Argument "input.clientName" must not be empty/],
      [start({ ipAddress: '10.0.0.300' }), /^Argument "input.ipAddress" must be an IPv4 or IPv6/],
      [
        `{ _entities(representations: [{ __typename: "User", id: "${userId}" }]) { ... on User { sessions(first: 501) { nodes { id } } } } }`,
        /^Argument "first" must be between 1 and 500/,
      ],
    ];
    for (const [query, message] of cases) {
      // As a service, which every field here admits: arguments are what is tested.
      const { body } = await sessions.request(query, {}, AUTH_SERVICE);
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT', query);
      assert.match(body.errors![0]!.message, message, query);
    }
    assert.equal((await rowsOfUser(userId)).length, 0, 'no rejected startSession wrote a row');
  });

  it('when an unknown session is touched or revoked, then NOT_FOUND is returned and nothing is written', async () => {
    const unknown = randomUUID();
    const writesBefore = await sessions.metric('fleetgraph_cassandra_statements_total', {
      kind: 'batch',
    });
    for (const mutation of ['touchSession', 'revokeSession']) {
      const { body } = await sessions.request(
        `mutation($id: ID!) { ${mutation}(id: $id) { id } }`,
        {
          id: unknown,
        },
      );
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'NOT_FOUND', mutation);
      assert.equal(body.errors![0]!.message, `Session ${unknown} was not found`);
    }
    assert.equal(
      await sessions.metric('fleetgraph_cassandra_statements_total', { kind: 'batch' }),
      writesBefore,
    );
    assert.equal(await rowOfSession(unknown), null);
  });

  it('when a user already holds 500 sessions, then startSession is refused with CONFLICT and writes nothing', async () => {
    const userId = randomUUID();
    const createdAt = Date.now() - 60_000;
    const rows = Array.from({ length: 500 }, (_, i) => [
      userId,
      new Date(createdAt - i),
      randomUUID(),
      new Date(createdAt + 3_600_000),
      120,
    ]);
    // One partition, so unlogged batches are one mutation each; a short TTL cleans them up.
    for (let i = 0; i < rows.length; i += 100) {
      await cassandra.batch(
        rows.slice(i, i + 100).map((params) => ({
          query:
            'INSERT INTO sessions_by_user (user_id, created_at, session_id, expires_at) VALUES (?, ?, ?, ?) USING TTL ?',
          params,
        })),
        { prepare: true, logged: false },
      );
    }
    const { body } = await sessions.request(
      START,
      { input: { userId, organizationId: ORGANIZATION } },
      AUTH_SERVICE,
    );
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
    assert.equal((await rowsOfUser(userId)).length, 500);
  });
});
