/**
 * sessions subgraph: every CQL statement it runs (those of active_sessions_by_user are in
 * activeSessions.ts; the in-memory paging of a user's sessions is in pageOfSessions.ts). Rows
 * come back as plain models, one value/null/Error per key in key order (the DataLoader
 * contract).
 *
 * @remarks
 * Sessions expire by TTL: every write of a session row carries `USING TTL <seconds left until
 * expires_at>`, so a row vanishes at its expiry without a sweeper. Writes are INSERTs of the
 * row (an UPDATE would give only the cells it sets a TTL, and no row marker), and both tables
 * are written in one logged batch so sessions_by_id and sessions_by_user stay in step.
 *
 * Absent optional values are bound as `unset`, never null: a null would write a tombstone, and
 * for revoked_at it would be a race — a touchSession that read the row just before a
 * revokeSession would otherwise write revoked_at = null after it and bring the session back.
 * With `unset`, a re-write keeps whatever revoked_at the row already has.
 *
 * active_sessions_by_user (migration 009) holds one row per active session and nothing else,
 * for `User.activeSessionCount`: inserted by startSession, deleted by every revocation, in the
 * same logged batch as the session rows; expired by its TTL and by the read's
 * `expires_at > now`. Its statements and their explicit write times are in activeSessions.ts;
 * touchSession does not write it. The full argument: schema/cql/009_active_sessions_by_user.cql.
 */
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import { cqlTypes } from '../../platform/cassandra/client.js';
import type { Db } from '../kit/cassandra/db.js';
import { activeRowDelete, activeRowInsert, activeSessionCounts } from './activeSessions.js';

export interface SessionModel {
  readonly id: string;
  readonly userId: string;
  /** Null when read from sessions_by_user, which does not keep it. */
  readonly organizationId: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastSeenAt: Date;
  readonly clientName: string | null;
  readonly userAgent: string | null;
  readonly ipAddress: string | null;
  readonly revokedAt: Date | null;
}

export type SessionState = 'active' | 'revoked' | 'expired';

/**
 * The most rows one user's sessions_by_user partition is read with. It must exceed
 * {@link MAX_SESSIONS_PER_USER} by a margin, so that concurrent sign-ins that overshoot the cap
 * still leave every row within one read — revokeAllSessions must see them all.
 */
export const SESSIONS_READ_LIMIT = 1000;
/** startSession refuses a user holding this many unexpired sessions (revoked ones included). */
export const MAX_SESSIONS_PER_USER = 500;
/** Sessions revoked per logged batch by revokeAllSessions (three statements each). */
export const REVOKE_BATCH_SESSIONS = 50;
/**
 * Bytes of session data one logged batch may carry: below Cassandra's default
 * batch_size_fail_threshold (50 KiB), which 50 sessions with long user agents would exceed.
 */
const BATCH_BYTES_BUDGET = 40 * 1024;

const SESSION_COLUMNS =
  'session_id, user_id, organization_id, created_at, expires_at, last_seen_at, client_name, user_agent, ip_address, revoked_at';
const USER_SESSION_COLUMNS =
  'user_id, created_at, session_id, expires_at, last_seen_at, client_name, user_agent, ip_address, revoked_at';

const SELECT_SESSION = `SELECT ${SESSION_COLUMNS} FROM sessions_by_id WHERE session_id IN ?`;
const SELECT_SESSIONS_OF_USER = `SELECT ${USER_SESSION_COLUMNS} FROM sessions_by_user WHERE user_id IN ? PER PARTITION LIMIT ${SESSIONS_READ_LIMIT}`;
const INSERT_SESSION = `INSERT INTO sessions_by_id (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`;
const INSERT_USER_SESSION = `INSERT INTO sessions_by_user (${USER_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`;
const SELECT_TOKEN_REVOCATION =
  'SELECT revoked_before FROM token_revocations_by_user WHERE user_id = ? AND organization_id = ?';
const INSERT_TOKEN_REVOCATION =
  'INSERT INTO token_revocations_by_user (user_id, organization_id, revoked_before) VALUES (?, ?, ?)';

function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function toSession(row: cassandra.types.Row): SessionModel {
  return {
    id: String(row['session_id']),
    userId: String(row['user_id']),
    organizationId: nullableString(row['organization_id']),
    createdAt: row['created_at'],
    expiresAt: row['expires_at'],
    lastSeenAt: row['last_seen_at'],
    clientName: row['client_name'] ?? null,
    userAgent: row['user_agent'] ?? null,
    ipAddress: row['ip_address'] ?? null,
    revokedAt: row['revoked_at'] ?? null,
  };
}

export function stateOf(session: SessionModel, now: Date): SessionState {
  if (session.revokedAt) return 'revoked';
  return session.expiresAt.getTime() > now.getTime() ? 'active' : 'expired';
}

export function isActive(session: SessionModel, now: Date): boolean {
  return stateOf(session, now) === 'active';
}

/** Seconds until the session expires, at least 1 (a TTL of 0 would mean "never expires"). */
export function ttlUntilExpiry(expiresAt: Date, now: Date): number {
  // Rounded down: the row vanishes up to a second early rather than outliving its expiry.
  return Math.max(1, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
}

function orUnset<T>(value: T | null): T | object {
  return value ?? cqlTypes.unset;
}

/** The two INSERTs that (re-)write one session in both tables, expiring at its expiresAt. */
function writesOf(session: SessionModel, now: Date): { query: string; params: unknown[] }[] {
  const ttl = ttlUntilExpiry(session.expiresAt, now);
  const client = [
    orUnset(session.clientName),
    orUnset(session.userAgent),
    orUnset(session.ipAddress),
  ];
  return [
    {
      query: INSERT_SESSION,
      params: [
        session.id,
        session.userId,
        orUnset(session.organizationId),
        session.createdAt,
        session.expiresAt,
        session.lastSeenAt,
        ...client,
        orUnset(session.revokedAt),
        ttl,
      ],
    },
    {
      query: INSERT_USER_SESSION,
      params: [
        session.userId,
        session.createdAt,
        session.id,
        session.expiresAt,
        session.lastSeenAt,
        ...client,
        orUnset(session.revokedAt),
        ttl,
      ],
    },
  ];
}

/** The statements that revoke a session: both rows re-written, the active row deleted. */
function revocationOf(session: SessionModel, now: Date): { query: string; params: unknown[] }[] {
  return [...writesOf({ ...session, revokedAt: now }, now), activeRowDelete(session, now)];
}

/** A generous estimate of the bytes a session's revocation adds to a batch. */
function batchBytesOf(session: SessionModel): number {
  const text = [session.clientName, session.userAgent, session.ipAddress].reduce(
    (sum, value) => sum + (value ? Buffer.byteLength(value) : 0),
    0,
  );
  // Per row: 3 uuids, 4 timestamps and ~10 cells' metadata are well under 400 bytes; the
  // active row's DELETE (a key and a timestamp) well under 100.
  return 2 * (400 + text) + 100;
}

/** Splits sessions into groups of at most `maxSessions` and {@link BATCH_BYTES_BUDGET} bytes. */
function batchGroups(sessions: readonly SessionModel[], maxSessions: number): SessionModel[][] {
  const groups: SessionModel[][] = [];
  let group: SessionModel[] = [];
  let bytes = 0;
  for (const session of sessions) {
    const size = batchBytesOf(session);
    if (group.length > 0 && (group.length >= maxSessions || bytes + size > BATCH_BYTES_BUDGET)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(session);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export const sessionsRepository = {
  /** Each user's active session count (activeSessions.ts: one statement per 100 users). */
  activeSessionCounts,

  /** Sessions by id (IN, Db.readOneIn); null for unknown (or expired away) ids. */
  async sessionsById(db: Db, ids: readonly string[]): Promise<(SessionModel | null | Error)[]> {
    return db.readOneIn(SELECT_SESSION, ids, (row) => String(row['session_id']), toSession);
  },

  /**
   * Each user's sessions_by_user partition (IN, Db.readIn; newest first, at most
   * {@link SESSIONS_READ_LIMIT} rows); a user without sessions gets an empty list.
   */
  async sessionsOfUsers(db: Db, userIds: readonly string[]): Promise<(SessionModel[] | Error)[]> {
    return db.readIn(
      SELECT_SESSIONS_OF_USER,
      userIds,
      (row) => String(row['user_id']),
      (row) => toSession(row),
    );
  },

  /**
   * Writes a new session to both tables and its active row; it expires `ttlSeconds` from now.
   * The repository takes any positive `ttlSeconds` (the resolver bounds it; tests use seconds).
   */
  async startSession(
    db: Db,
    input: {
      userId: string;
      organizationId: string;
      clientName: string | null;
      userAgent: string | null;
      ipAddress: string | null;
      ttlSeconds: number;
    },
    now: Date,
  ): Promise<SessionModel> {
    const session: SessionModel = {
      id: randomUUID(),
      userId: input.userId,
      organizationId: input.organizationId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
      lastSeenAt: now,
      clientName: input.clientName,
      userAgent: input.userAgent,
      ipAddress: input.ipAddress,
      revokedAt: null,
    };
    await db.batch([
      ...writesOf(session, now),
      activeRowInsert(session, ttlUntilExpiry(session.expiresAt, now)),
    ]);
    return session;
  },

  /**
   * Re-writes the session with last_seen_at = now; it keeps its expiry. Not the active row:
   * a touch racing a revocation would re-insert it after the revocation's DELETE.
   */
  async touchSession(db: Db, current: SessionModel, now: Date): Promise<SessionModel> {
    const session = { ...current, lastSeenAt: now };
    await db.batch(writesOf(session, now));
    return session;
  },

  /** Re-writes the session with revoked_at = now (it keeps its expiry) and deletes its active row. */
  async revokeSession(db: Db, current: SessionModel, now: Date): Promise<SessionModel> {
    await db.batch(revocationOf(current, now));
    return { ...current, revokedAt: now };
  },

  /**
   * Revokes many sessions: one logged batch per at most {@link REVOKE_BATCH_SESSIONS}
   * sessions (fewer when their text would make the batch too large), one batch at a time.
   * Each batch keeps the three tables of its sessions in step; a failure part-way leaves earlier
   * batches applied, and a retry revokes the rest (revoked sessions are skipped by callers).
   */
  async revokeSessions(db: Db, sessions: readonly SessionModel[], now: Date): Promise<number> {
    for (const group of batchGroups(sessions, REVOKE_BATCH_SESSIONS)) {
      await db.batch(group.flatMap((session) => revocationOf(session, now)));
    }
    return sessions.length;
  },

  /** When the user's tokens without a session were last revoked in an organization, or null. */
  async tokensRevokedBefore(db: Db, userId: string, organizationId: string): Promise<Date | null> {
    const result = await db.execute(SELECT_TOKEN_REVOCATION, [userId, organizationId]);
    return (result.first()?.['revoked_before'] as Date | null | undefined) ?? null;
  },

  /**
   * Revokes the user's tokens without a session issued up to `now`, in each organization.
   * A plain upsert (retried safely); a mark only moves forward, as `now` does.
   */
  async revokeTokensBefore(
    db: Db,
    userId: string,
    organizationIds: readonly string[],
    now: Date,
  ): Promise<void> {
    for (const organizationId of organizationIds)
      await db.execute(INSERT_TOKEN_REVOCATION, [userId, organizationId, now], {
        write: true,
        idempotent: true,
      });
  },
};
