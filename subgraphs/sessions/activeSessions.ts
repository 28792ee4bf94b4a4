/**
 * sessions subgraph: active_sessions_by_user (migration 009), the maintained value behind
 * `User.activeSessionCount` — one row per active session, written in the logged batches of
 * repository.ts (startSession inserts, every revocation deletes), read as one COUNT row per user.
 *
 * @remarks
 * Why rows rather than a counter, and why the count is exact under concurrent starts and
 * revocations and at expiry: schema/cql/009_active_sessions_by_user.cql. The two rules that
 * argument rests on are here: the explicit write times ({@link activeRowWriteTime},
 * {@link activeRowDeleteTime}: a revocation's DELETE is later than any INSERT of the row) and
 * the read's `expires_at > now`.
 */
import { cqlTypes } from '../../platform/cassandra/client.js';
import { IN_GROUP_SIZE, type Db } from '../kit/cassandra/db.js';
import type { SessionModel } from './repository.js';

/** A user's active sessions as active_sessions_by_user counts them. */
export interface ActiveSessionCount {
  readonly count: number;
  /**
   * The organization every counted session was started in; null when there are none, or when
   * they were started in different organizations (then no single organization may see them).
   */
  readonly organizationId: string | null;
}

const INSERT_ACTIVE_SESSION =
  'INSERT INTO active_sessions_by_user (user_id, expires_at, session_id, organization_id) VALUES (?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?';
const DELETE_ACTIVE_SESSION =
  'DELETE FROM active_sessions_by_user USING TIMESTAMP ? WHERE user_id = ? AND expires_at = ? AND session_id = ?';
// MIN = MAX tells whether all of a user's active sessions share one organization.
const COUNT_ACTIVE_SESSIONS =
  'SELECT user_id, COUNT(*) AS active, MIN(organization_id) AS min_organization_id, MAX(organization_id) AS max_organization_id FROM active_sessions_by_user WHERE user_id IN ? AND expires_at > ? GROUP BY user_id';

function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/**
 * The write time (microseconds) of a session's active_sessions_by_user row: its created_at, the
 * same for startSession and for the backfill, so that {@link activeRowDeleteTime} is later than
 * every insert of the row, however late or often one is applied.
 */
export function activeRowWriteTime(session: Pick<SessionModel, 'createdAt'>): number {
  return session.createdAt.getTime() * 1000;
}

/**
 * The write time (microseconds) of a revocation's DELETE of the active row: now, and at least
 * one microsecond after the insert, so a revoking process whose clock is behind the one that
 * started the session still shadows the row.
 */
export function activeRowDeleteTime(session: Pick<SessionModel, 'createdAt'>, now: Date): number {
  return Math.max(now.getTime() * 1000, activeRowWriteTime(session)) + 1;
}

/** The INSERT of a session's active_sessions_by_user row (startSession), expiring with it. */
export function activeRowInsert(
  session: Pick<SessionModel, 'id' | 'userId' | 'organizationId' | 'createdAt' | 'expiresAt'>,
  ttlSeconds: number,
): { query: string; params: unknown[] } {
  return {
    query: INSERT_ACTIVE_SESSION,
    params: [
      session.userId,
      session.expiresAt,
      session.id,
      session.organizationId ?? cqlTypes.unset,
      ttlSeconds,
      activeRowWriteTime(session),
    ],
  };
}

/** The DELETE of a session's active_sessions_by_user row (every revocation). */
export function activeRowDelete(
  session: Pick<SessionModel, 'id' | 'userId' | 'createdAt' | 'expiresAt'>,
  now: Date,
): { query: string; params: unknown[] } {
  return {
    query: DELETE_ACTIVE_SESSION,
    params: [activeRowDeleteTime(session, now), session.userId, session.expiresAt, session.id],
  };
}

/**
 * Each user's active session count and their sessions' organization: one row per user with
 * active sessions (none for the others), one statement per {@link IN_GROUP_SIZE} users.
 * Sessions whose expires_at is not after `now` are left out even while their row's TTL has
 * not fired yet (the TTL is whole seconds, Cassandra's clock may differ from ours).
 */
export async function activeSessionCounts(
  db: Db,
  userIds: readonly string[],
  now: Date,
): Promise<(ActiveSessionCount | Error)[]> {
  const outcome = new Map<string, ActiveSessionCount | Error>();
  const groups: string[][] = [];
  for (let i = 0; i < userIds.length; i += IN_GROUP_SIZE)
    groups.push(userIds.slice(i, i + IN_GROUP_SIZE));
  await Promise.all(
    groups.map(async (group) => {
      try {
        const result = await db.execute(COUNT_ACTIVE_SESSIONS, [group, now]);
        for (const row of result.rows) {
          const low = nullableString(row['min_organization_id']);
          const high = nullableString(row['max_organization_id']);
          outcome.set(String(row['user_id']), {
            count: Number(row['active']),
            organizationId: low !== null && low === high ? low : null,
          });
        }
      } catch (error) {
        for (const userId of group) outcome.set(userId.toLowerCase(), error as Error);
      }
    }),
  );
  return userIds.map(
    (userId) => outcome.get(userId.toLowerCase()) ?? { count: 0, organizationId: null },
  );
}
