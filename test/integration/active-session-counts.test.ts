/**
 * User.activeSessionCount as a maintained value (issue 17, migration 009): one
 * active_sessions_by_user row per active session, written with the session rows in one logged
 * batch, read as one COUNT row per user. Against the real Cassandra node and the development
 * keyspace (migrated; its seeded sessions copied by scripts/backfill-active-sessions.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Identity } from '../../platform/contract/identity.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { seedIds, SCALES } from '../../scripts/seed-ids.js';
import { Db } from '../../subgraphs/kit/cassandra/db.js';
import { createSubgraphMetrics } from '../../subgraphs/kit/metrics.js';
import { sessionsRepository } from '../../subgraphs/sessions/repository.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { cassandraForTest } from '../support/stack.js';
import {
  AUTH_SERVICE,
  ROUTER_SERVICE,
  startSubgraph,
  type RunningSubgraph,
} from '../support/subgraphs.js';

const ORGANIZATION = seedIds.organization(0);
const OTHER_ORGANIZATION = seedIds.organization(1);
const COUNTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id activeSessionCount } } }`;

/** A viewer of organization 0 who is none of the users counted here. */
const VIEWER_OF_ORG0: Identity = {
  kind: 'user',
  userId: seedIds.user(0, 2),
  organizationId: ORGANIZATION,
  roles: ['viewer'],
  sessionId: seedIds.session(0, 2, 0),
};

describe('active session counts against the real Cassandra node', () => {
  let cassandra: CassandraClient;
  let sessions: RunningSubgraph;
  /** The repository's gateway, for writes the API refuses (second-long TTLs, skewed clocks). */
  let db: Db;
  before(async () => {
    cassandra = await cassandraForTest();
    sessions = await startSubgraph(sessionsSubgraph, cassandra);
    db = new Db(cassandra, createSubgraphMetrics('sessions', { defaultMetrics: false }));
  });
  after(async () => {
    await sessions.close();
    await cassandra.shutdown();
  });

  async function startSession(
    userId: string,
    organizationId = ORGANIZATION,
  ): Promise<{ id: string }> {
    const { body } = await sessions.request<{ startSession: { id: string } }>(
      'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
      { input: { userId, organizationId } },
      AUTH_SERVICE,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.startSession;
  }

  async function mutate(mutation: 'touchSession' | 'revokeSession', id: string): Promise<void> {
    const { body } = await sessions.request(`mutation($id: ID!) { ${mutation}(id: $id) { id } }`, {
      id,
    });
    assert.equal(body.errors, undefined, `${mutation}: ${JSON.stringify(body.errors)}`);
  }

  async function revokeAll(userId: string): Promise<number> {
    const { body } = await sessions.request<{ revokeAllSessions: number }>(
      'mutation($userId: ID!) { revokeAllSessions(userId: $userId) }',
      { userId },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.revokeAllSessions;
  }

  async function counts(userIds: readonly string[], identity?: Identity): Promise<number[]> {
    const { body } = await sessions.request<{
      _entities: { id: string; activeSessionCount: number }[];
    }>(COUNTS, { r: userIds.map((id) => ({ __typename: 'User', id })) }, identity);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!._entities.map((user) => user.activeSessionCount);
  }

  const countOf = async (userId: string, identity?: Identity) =>
    (await counts([userId], identity))[0]!;

  /** The truth the router acts on: how many of these sessions sessionValidity calls active. */
  async function activeByValidity(ids: readonly string[]): Promise<number> {
    let active = 0;
    for (const id of ids) {
      const { body } = await sessions.request<{ sessionValidity: { active: boolean } }>(
        'query($id: ID!) { sessionValidity(id: $id) { active } }',
        { id },
        ROUTER_SERVICE,
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      if (body.data!.sessionValidity.active) active++;
    }
    return active;
  }

  /** Each user's sessions that are neither revoked nor expired, read from sessions_by_user. */
  async function activeInSessionsByUser(userIds: readonly string[]): Promise<number[]> {
    const result = await cassandra.execute(
      'SELECT user_id, expires_at, revoked_at FROM sessions_by_user WHERE user_id IN ?',
      [userIds],
      { prepare: true },
    );
    const now = Date.now();
    return userIds.map(
      (userId) =>
        result.rows.filter(
          (row) =>
            String(row['user_id']) === userId &&
            row['revoked_at'] === null &&
            (row['expires_at'] as Date).getTime() > now,
        ).length,
    );
  }

  async function activeRows(userId: string) {
    const result = await cassandra.execute(
      'SELECT session_id, TTL(organization_id) AS ttl FROM active_sessions_by_user WHERE user_id = ?',
      [userId],
      { prepare: true },
    );
    return result.rows;
  }

  it('when sessions are started, touched, revoked and all revoked, then the count follows each write at once', async () => {
    const userId = randomUUID();
    assert.equal(await countOf(userId), 0);
    const first = await startSession(userId);
    assert.equal(await countOf(userId), 1);
    const second = await startSession(userId);
    const third = await startSession(userId);
    assert.equal(await countOf(userId), 3);

    await mutate('touchSession', second.id);
    assert.equal(await countOf(userId), 3, 'a touch changes no count');
    await mutate('revokeSession', second.id);
    assert.equal(await countOf(userId), 2, 'revoked: not counted at once');
    await mutate('revokeSession', second.id);
    assert.equal(await countOf(userId), 2, 'revoking twice changes nothing');
    // Only the active sessions have a row, expiring with the session (7 days by default).
    const rows = await activeRows(userId);
    assert.deepEqual(
      rows.map((row) => String(row['session_id'])).sort(),
      [first.id, third.id].sort(),
    );
    for (const row of rows) assert.ok(row['ttl'] > 604_700 && row['ttl'] <= 604_800, row['ttl']);

    assert.equal(await revokeAll(userId), 2);
    assert.equal(await countOf(userId), 0);
    assert.equal((await activeRows(userId)).length, 0);
    assert.equal(await activeByValidity([first.id, second.id, third.id]), 0);
  });

  it('when a session expires by its TTL, then it is no longer counted and its row is gone', async () => {
    const userId = randomUUID();
    // The API's shortest session is a minute; the repository takes seconds.
    await sessionsRepository.startSession(db, sessionInput(userId, 2), new Date());
    await startSession(userId);
    assert.equal(await countOf(userId), 2);
    await sleep(3_000);
    assert.equal(await countOf(userId), 1);
    assert.equal((await activeRows(userId)).length, 1, 'the expired row vanished by TTL');
  });

  it("when a session's expiry has passed but Cassandra still holds its row, then it is not counted", async () => {
    const userId = randomUUID();
    // Started 58 s ago for 60 s: it expires in 2 s, but its rows were written with a 60 s TTL
    // (what a Cassandra clock behind ours would also give): only the read's slice leaves it out.
    const now = new Date();
    await sessionsRepository.startSession(
      db,
      sessionInput(userId, 60),
      new Date(now.getTime() - 58_000),
    );
    assert.equal(await countOf(userId), 1);
    await sleep(2_500);
    assert.equal((await activeRows(userId)).length, 1, 'the row is still there');
    assert.equal(await countOf(userId), 0);
  });

  it('when a session is revoked by a process whose clock is behind the one that started it, then the revocation still wins', async () => {
    const userId = randomUUID();
    const started = await sessionsRepository.startSession(
      db,
      sessionInput(userId, 600),
      new Date(),
    );
    await startSession(userId);
    assert.equal(await countOf(userId), 2);
    // Its clock a minute behind: a DELETE at that time would be older than the INSERT.
    await sessionsRepository.revokeSession(
      db,
      started,
      new Date(started.createdAt.getTime() - 60_000),
    );
    assert.equal(await countOf(userId), 1);
    // A late copy of the insert (a slow backfill that read it as active) does not bring it back.
    await cassandra.execute(
      'INSERT INTO active_sessions_by_user (user_id, expires_at, session_id, organization_id) VALUES (?, ?, ?, ?) USING TTL 600 AND TIMESTAMP ?',
      [userId, started.expiresAt, started.id, ORGANIZATION, started.createdAt.getTime() * 1000],
      { prepare: true },
    );
    assert.equal(await countOf(userId), 1);
  });

  it('when starts, touches, revocations and revokeAllSessions run concurrently, then the count equals the sessions that are active', async () => {
    for (let round = 0; round < 3; round++) {
      const userId = randomUUID();
      const earlier = await Promise.all(Array.from({ length: 12 }, () => startSession(userId)));
      const later: Promise<{ id: string }>[] = [];
      const inFlight: Promise<unknown>[] = [];
      for (let i = 0; i < 12; i++) {
        later.push(startSession(userId));
        // Each earlier session revoked while another request touches it, some revoked twice.
        if (i % 2 === 0) inFlight.push(mutate('touchSession', earlier[i]!.id).catch(() => 'late'));
        inFlight.push(mutate('revokeSession', earlier[i]!.id));
        if (i % 3 === 0) inFlight.push(mutate('revokeSession', earlier[i]!.id));
      }
      await Promise.all([...later, ...inFlight]);
      const started = [...earlier, ...(await Promise.all(later))].map((s) => s.id);
      assert.equal(await activeByValidity(started), 12, `round ${round}`);
      assert.equal(await countOf(userId), 12, `round ${round}: revoked ones are not counted`);

      // revokeAllSessions racing more starts: whatever it caught, the count is what is active.
      const racing = Array.from({ length: 8 }, () => startSession(userId));
      const [revoked] = await Promise.all([revokeAll(userId), ...racing]);
      const all = [...started, ...(await Promise.all(racing)).map((s) => s.id)];
      const active = await activeByValidity(all);
      assert.equal(active, 20 - revoked, `round ${round}: ${revoked} revoked of 20`);
      assert.equal(await countOf(userId), active, `round ${round}`);
    }
  });

  it('when 1, 10 or 60 users are counted, then it is one statement on active_sessions_by_user and no session partition is read', async () => {
    const users: string[] = [];
    for (let o = 0; o < SCALES.demo.organizations; o++)
      for (let u = 0; u < SCALES.demo.usersPerOrganization; u++) users.push(seedIds.user(o, u));
    const extra = Array.from({ length: 60 - users.length }, () => randomUUID());
    const everyone = [...users, ...extra];
    const metric = (name: string, labels: Record<string, string>) => sessions.metric(name, labels);
    for (const identity of [undefined, VIEWER_OF_ORG0, AUTH_SERVICE])
      for (const n of [1, 10, 60]) {
        const asked = everyone.slice(0, n);
        const before = {
          statements: await metric('fleetgraph_cassandra_statements_total', {}),
          counted: await metric('fleetgraph_cassandra_statements_total', {
            table: 'active_sessions_by_user',
          }),
          partitions: await metric('fleetgraph_cassandra_partitions_read_total', {
            table: 'active_sessions_by_user',
          }),
        };
        const answered = await counts(asked, identity);
        const after = {
          statements: await metric('fleetgraph_cassandra_statements_total', {}),
          counted: await metric('fleetgraph_cassandra_statements_total', {
            table: 'active_sessions_by_user',
          }),
          partitions: await metric('fleetgraph_cassandra_partitions_read_total', {
            table: 'active_sessions_by_user',
          }),
        };
        const who = `${identity?.kind ?? 'admin'} ${n} users`;
        assert.equal(after.statements - before.statements, 1, `${who}: statements`);
        assert.equal(after.counted - before.counted, 1, `${who}: the one is the count`);
        assert.equal(after.partitions - before.partitions, n, `${who}: one partition per user`);
        // The seeded users' active sessions, counted from sessions_by_user (other tests start
        // and revoke sessions of them): organization 0's are shown, others' only to a service.
        const truth = await activeInSessionsByUser(asked);
        answered.forEach((count, index) => {
          const o = Math.floor(index / SCALES.demo.usersPerOrganization);
          if (index >= users.length) assert.equal(count, 0, `${who}: unknown user ${index}`);
          else
            assert.equal(
              count,
              o === 0 || identity?.kind === 'service' ? truth[index] : 0,
              `${who}: user ${o}.${index % SCALES.demo.usersPerOrganization}`,
            );
        });
        // Users 3.. of each organization keep their seeded sessions (0–2 may be signed out).
        const seeded = truth.filter(
          (_, index) => index < users.length && index % SCALES.demo.usersPerOrganization >= 3,
        );
        assert.ok(
          seeded.every((active) => active >= SCALES.demo.sessionsPerUser),
          `${who}: ${JSON.stringify(truth)}`,
        );
      }
  });

  it('when a colleague is counted, then only users whose every active session is in the caller organization show a count', async () => {
    const colleague = randomUUID();
    await startSession(colleague);
    await startSession(colleague);
    const outsider = randomUUID();
    await startSession(outsider, OTHER_ORGANIZATION);
    const both = randomUUID();
    await startSession(both);
    await startSession(both, OTHER_ORGANIZATION);
    assert.deepEqual(await counts([colleague, outsider, both], VIEWER_OF_ORG0), [2, 0, 0]);
    assert.deepEqual(await counts([colleague, outsider, both], AUTH_SERVICE), [2, 1, 2]);
    // The user themselves sees every session of theirs.
    const self: Identity = {
      kind: 'user',
      userId: both,
      organizationId: ORGANIZATION,
      roles: ['viewer'],
      sessionId: randomUUID(),
    };
    assert.equal(await countOf(both, self), 2);
  });
});

function sessionInput(userId: string, ttlSeconds: number) {
  return {
    userId,
    organizationId: ORGANIZATION,
    clientName: 'test',
    userAgent: null,
    ipAddress: null,
    ttlSeconds,
  } satisfies Parameters<typeof sessionsRepository.startSession>[1];
}
