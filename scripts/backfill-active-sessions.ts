/**
 * `node --import tsx scripts/backfill-active-sessions.ts`: fills active_sessions_by_user
 * (migration 009) from sessions_by_id — one row per active session, expiring with the session.
 * `npm run db:migrate` runs it when it applies migration 009; by hand, a re-run changes nothing
 * that is already right, so run it again after a deploy to catch up what sessions subgraphs of
 * the previous release (which do not know the table) started or revoked meanwhile.
 *
 * @remarks
 * sessions_by_id is the source: it is the table the router's revocation check reads, and the
 * only one that carries each session's organization. Per session:
 * - active (not revoked, expires_at after now): INSERT the row with its remaining TTL (rounded
 *   down, as startSession does) at the write time startSession gives it (its created_at,
 *   `activeRowWriteTime`): copying it again changes nothing;
 * - revoked and not yet expired: DELETE the row at a write time after that one
 *   (`activeRowDeleteTime`) — what a revocation by a previous release did not do;
 * - expired: nothing (the row, if any, has expired or is outside every read's slice).
 * Why this is safe against the live write path: a session revoked after this script read it as
 * active gets its revocation's DELETE, whose write time is later than this INSERT's, so the
 * INSERT is shadowed whichever lands last; a session started meanwhile is written by
 * startSession itself. The only window is a tombstone purged (gc_grace_seconds, 10 days) before a
 * stale INSERT lands, which no run lasts long enough to reach.
 */
import cassandra from 'cassandra-driver';
import { pathToFileURL } from 'node:url';
import { loadToolConfig } from '../platform/config/load.js';
import {
  connectCassandra,
  WRITE_PROFILE,
  type CassandraClient,
} from '../platform/cassandra/client.js';
import { runMain } from '../platform/startup.js';
import { activeRowDeleteTime, activeRowWriteTime } from '../subgraphs/sessions/activeSessions.js';
import { ttlUntilExpiry } from '../subgraphs/sessions/repository.js';

const PAGE_SIZE = 500;

/** What a run did: rows inserted (active sessions) and deleted (revoked ones). */
export type ActiveSessionsBackfill = {
  readonly active_sessions_by_user: number;
  readonly revoked_removed: number;
};

/** Copies the active sessions and removes the revoked ones; returns what it wrote. */
export async function backfillActiveSessions(
  client: CassandraClient,
  keyspace: string,
  now: () => Date = () => new Date(),
): Promise<ActiveSessionsBackfill> {
  const source = `SELECT session_id, user_id, organization_id, created_at, expires_at, revoked_at FROM ${keyspace}.sessions_by_id`;
  const insert = `INSERT INTO ${keyspace}.active_sessions_by_user (user_id, expires_at, session_id, organization_id) VALUES (?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?`;
  const remove = `DELETE FROM ${keyspace}.active_sessions_by_user USING TIMESTAMP ? WHERE user_id = ? AND expires_at = ? AND session_id = ?`;
  let inserted = 0;
  let removed = 0;
  let pageState: string | undefined;
  do {
    const page = await client.execute(source, [], {
      prepare: true,
      fetchSize: PAGE_SIZE,
      ...(pageState ? { pageState } : {}),
    });
    const at = now();
    const writes: { query: string; params: unknown[] }[] = [];
    for (const row of page.rows) {
      const createdAt = row['created_at'] as Date | null;
      const expiresAt = row['expires_at'] as Date | null;
      if (!createdAt || !expiresAt || row['user_id'] == null) continue;
      if (expiresAt.getTime() <= at.getTime()) continue;
      const key = [row['user_id'], expiresAt, row['session_id']];
      if (row['revoked_at'] != null) {
        writes.push({ query: remove, params: [activeRowDeleteTime({ createdAt }, at), ...key] });
        removed++;
      } else {
        writes.push({
          query: insert,
          params: [
            ...key,
            row['organization_id'] ?? cassandra.types.unset,
            ttlUntilExpiry(expiresAt, at),
            activeRowWriteTime({ createdAt }),
          ],
        });
        inserted++;
      }
    }
    await cassandra.concurrent.executeConcurrent(client, writes, {
      concurrencyLevel: 32,
      executionProfile: WRITE_PROFILE,
    });
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return { active_sessions_by_user: inserted, revoked_removed: removed };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  runMain(async () => {
    const config = loadToolConfig();
    const client = await connectCassandra(config);
    try {
      const written = await backfillActiveSessions(client, config.cassandra.keyspace);
      console.log(`[backfill] ${JSON.stringify(written)}`);
    } finally {
      await client.shutdown();
    }
  });
