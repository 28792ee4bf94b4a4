/**
 * Migration 009 and its data step (scripts/backfill-active-sessions.ts, run by
 * scripts/migrate.ts's DATA_STEPS): sessions written before the table existed are counted
 * afterwards, active ones only, expiring with the session.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connectCassandra, type CassandraClient } from '../../platform/cassandra/client.js';
import { migrate, readMigrations } from '../../platform/cassandra/migrations.js';
import { backfillActiveSessions } from '../../scripts/backfill-active-sessions.js';
import { Db } from '../../subgraphs/kit/cassandra/db.js';
import { createSubgraphMetrics } from '../../subgraphs/kit/metrics.js';
import { sessionsRepository } from '../../subgraphs/sessions/repository.js';
import { cassandraForTest, testConfig } from '../support/stack.js';

// A throw-away keyspace: the development keyspace's history is left alone.
const keyspace = `fg_backfill_active_${process.pid}`;
const replication = { class: 'SimpleStrategy', replication_factor: '1' };
const CQL_DIR = fileURLToPath(new URL('../../schema/cql/', import.meta.url));
const ORGANIZATION = randomUUID();
const HOUR = 3_600_000;

interface Written {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

describe('migration 009: active_sessions_by_user filled from existing sessions', () => {
  let admin: CassandraClient;
  let cassandra: CassandraClient;
  let db: Db;
  const alice = randomUUID();
  const bob = randomUUID();
  const sessions: Record<string, Written> = {};

  /** A session as a sessions subgraph of the previous release writes it: the two tables only. */
  async function writeSession(
    name: string,
    userId: string,
    options: { expiresInMs: number; ttlSeconds: number; revoked?: boolean },
  ): Promise<Written> {
    const now = Date.now();
    const session = {
      id: randomUUID(),
      userId,
      createdAt: new Date(now - 60_000),
      expiresAt: new Date(now + options.expiresInMs),
    };
    const revokedAt = options.revoked ? new Date(now) : null;
    await cassandra.batch(
      [
        {
          query:
            'INSERT INTO sessions_by_id (session_id, user_id, organization_id, created_at, expires_at, last_seen_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?',
          params: [
            session.id,
            userId,
            ORGANIZATION,
            session.createdAt,
            session.expiresAt,
            session.createdAt,
            revokedAt,
            options.ttlSeconds,
          ],
        },
        {
          query:
            'INSERT INTO sessions_by_user (user_id, created_at, session_id, expires_at, last_seen_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?',
          params: [
            userId,
            session.createdAt,
            session.id,
            session.expiresAt,
            session.createdAt,
            revokedAt,
            options.ttlSeconds,
          ],
        },
      ],
      { prepare: true, logged: true },
    );
    sessions[name] = session;
    return session;
  }

  async function activeRows() {
    const result = await cassandra.execute(
      'SELECT user_id, session_id, expires_at, organization_id, TTL(organization_id) AS ttl, WRITETIME(organization_id) AS written FROM active_sessions_by_user WHERE user_id IN ?',
      [[alice, bob]],
      { prepare: true },
    );
    return new Map(
      result.rows.map((row) => [
        String(row['session_id']),
        {
          userId: String(row['user_id']),
          expiresAt: row['expires_at'] as Date,
          organizationId: String(row['organization_id']),
          ttl: row['ttl'] as number,
          written: Number(row['written']),
        },
      ]),
    );
  }

  async function counts(): Promise<number[]> {
    const answers = await sessionsRepository.activeSessionCounts(db, [alice, bob], new Date());
    return answers.map((answer) => {
      if (answer instanceof Error) throw answer;
      return answer.count;
    });
  }

  before(async () => {
    admin = await cassandraForTest({ withKeyspace: false });
    await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    // The schema as the previous release left it: 001–008.
    const report = await migrate(admin, {
      keyspace,
      replication,
      migrations: readMigrations(CQL_DIR).filter((m) => Number(m.version) < 9),
    });
    assert.equal(report.applied.at(-1), '008_robots_by_fleet_page.cql');
    cassandra = await connectCassandra({ cassandra: { ...testConfig.cassandra, keyspace } });
    db = new Db(cassandra, createSubgraphMetrics('sessions', { defaultMetrics: false }));
    await writeSession('aliceActive', alice, { expiresInMs: HOUR, ttlSeconds: 3600 });
    await writeSession('aliceRevoked', alice, {
      expiresInMs: HOUR,
      ttlSeconds: 3600,
      revoked: true,
    });
    // Its expiry has passed, its rows are still there (the TTL has not fired yet).
    await writeSession('aliceExpired', alice, { expiresInMs: -1000, ttlSeconds: 600 });
    await writeSession('bobActive', bob, { expiresInMs: 2 * HOUR, ttlSeconds: 7200 });
  });
  after(async () => {
    await cassandra?.shutdown();
    await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await admin.shutdown();
  });

  it('when npm run db:migrate applies 009, then its data step copies the active sessions only, each expiring with its session', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
      env: { ...process.env, FLEETGRAPH_ENV: 'test', CASSANDRA_KEYSPACE: keyspace },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /applied \d+ \(009_active_sessions_by_user\.cql[,)]/);
    assert.match(
      run.stdout,
      /009_active_sessions_by_user\.cql data step: \{"active_sessions_by_user":2,"revoked_removed":1\}/,
    );
  });

  it('then the copied rows are the active sessions, with their organization, remaining TTL and start time as write time', async () => {
    const rows = await activeRows();
    assert.deepEqual(
      [...rows.keys()].sort(),
      [sessions['aliceActive']!.id, sessions['bobActive']!.id].sort(),
    );
    for (const [name, lifetime] of [
      ['aliceActive', 3600],
      ['bobActive', 7200],
    ] as const) {
      const session = sessions[name]!;
      const row = rows.get(session.id)!;
      assert.equal(row.userId, session.userId);
      assert.equal(row.expiresAt.getTime(), session.expiresAt.getTime());
      assert.equal(row.organizationId, ORGANIZATION);
      assert.ok(row.ttl > lifetime - 60 && row.ttl <= lifetime, `${name} TTL ${row.ttl}`);
      assert.equal(row.written, session.createdAt.getTime() * 1000);
    }
    assert.deepEqual(await counts(), [1, 1]);
  });

  it('when the backfill runs again after a previous release started and revoked sessions, then it catches up and changes nothing else', async () => {
    const before = await activeRows();
    // During the deploy, the previous release revokes bob's session and starts one for alice:
    // neither writes active_sessions_by_user.
    await cassandra.execute(
      'UPDATE sessions_by_id SET revoked_at = ? WHERE session_id = ?',
      [new Date(), sessions['bobActive']!.id],
      { prepare: true },
    );
    const started = await writeSession('aliceLater', alice, {
      expiresInMs: HOUR,
      ttlSeconds: 3600,
    });
    assert.deepEqual(await counts(), [1, 1], 'stale until the backfill runs again');

    const written = await backfillActiveSessions(cassandra, keyspace);
    assert.deepEqual(written, { active_sessions_by_user: 2, revoked_removed: 2 });
    const rows = await activeRows();
    assert.deepEqual([...rows.keys()].sort(), [sessions['aliceActive']!.id, started.id].sort());
    const kept = rows.get(sessions['aliceActive']!.id)!;
    const was = before.get(sessions['aliceActive']!.id)!;
    assert.equal(kept.written, was.written, 'the same write: a re-run is a no-op');
    assert.ok(Math.abs(kept.ttl - was.ttl) <= 5, `TTL ${was.ttl} → ${kept.ttl}`);
    assert.deepEqual(await counts(), [2, 0]);
  });

  it('when a session is revoked by the new release and the backfill then copies a stale view of it, then it stays revoked', async () => {
    const session = await sessionsRepository.startSession(
      db,
      {
        userId: bob,
        organizationId: ORGANIZATION,
        clientName: null,
        userAgent: null,
        ipAddress: null,
        ttlSeconds: 600,
      },
      new Date(),
    );
    assert.deepEqual(await counts(), [2, 1]);
    await sessionsRepository.revokeSession(db, session, new Date());
    // What a backfill that read the session just before the revocation writes after it.
    await cassandra.execute(
      'INSERT INTO active_sessions_by_user (user_id, expires_at, session_id, organization_id) VALUES (?, ?, ?, ?) USING TTL 600 AND TIMESTAMP ?',
      [bob, session.expiresAt, session.id, ORGANIZATION, session.createdAt.getTime() * 1000],
      { prepare: true },
    );
    assert.deepEqual(await counts(), [2, 0]);
  });
});
