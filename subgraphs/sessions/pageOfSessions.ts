/**
 * sessions subgraph: one page of a user's sessions, cut from the list its sessionsByUser loader
 * already read rather than paged by Cassandra (why: below).
 */
import { badUserInput } from '../../platform/contract/errors.js';
import type { CursorCodec, Page } from '../kit/cassandra/pagination.js';
import { isActive, type SessionModel } from './repository.js';

/**
 * One page of a user's sessions, from the list the sessionsByUser loader read.
 *
 * @remarks
 * Why in memory rather than `pageAcrossBuckets` (kit/cassandra/pagination.ts) over
 * sessions_by_user: the partition is small and bounded (sessions expire by TTL, startSession
 * caps a user at `MAX_SESSIONS_PER_USER`, reads take at most `SESSIONS_READ_LIMIT`: both in
 * repository.ts), and the sessionsByUser loader reads it whole anyway (revokeAllSessions, the
 * cap, the authorization read of the newest session). So `sessions` of N users costs one
 * loader batch and one read per user, where driver paging would add one more statement per
 * user, outside any batch. (`activeSessionCount` no longer reads this partition: it reads
 * active_sessions_by_user, migration 009.) It also lets `activeOnly` filter before paging:
 * every page is full and hasNextPage is exact, where filtering pages read from Cassandra would
 * return short (even empty) pages.
 *
 * The cursor is the shared signed {@link CursorCodec} one (bucket 0, bound to
 * `user-sessions:<userId>:<activeOnly>`); its position is the last row's clustering key
 * (created_at, session_id) rather than an offset, so sessions started between two pages (they
 * sort first) neither repeat nor hide rows of the next page.
 */
export async function pageOfSessions(options: {
  readonly codec: CursorCodec;
  readonly userId: string;
  readonly activeOnly: boolean;
  readonly first: number;
  readonly after: string | null | undefined;
  readonly now: Date;
  /** The user's sessions; called after the cursor is checked, so a forged one costs no read. */
  readonly load: () => Promise<readonly SessionModel[]>;
}): Promise<Page<SessionModel>> {
  const { codec, first, now } = options;
  const fingerprint = `user-sessions:${options.userId}:${options.activeOnly}`;
  const position = options.after ? positionOf(codec.decode(fingerprint, options.after)) : null;
  const ordered = (await options.load())
    .filter((session) => !options.activeOnly || isActive(session, now))
    .sort(newestFirst);
  let start = 0;
  if (position) {
    start = ordered.findIndex((session) => newestFirst(session, position) > 0);
    if (start < 0) start = ordered.length;
  }
  const rows = ordered.slice(start, start + first);
  const hasNextPage = start + rows.length < ordered.length;
  const last = rows.at(-1);
  return {
    rows,
    hasNextPage,
    endCursor:
      hasNextPage && last
        ? codec.encode(fingerprint, { b: 0, p: `${last.createdAt.getTime()}_${last.id}` })
        : null,
  };
}

/** sessions_by_user's clustering order: created_at DESC, then session_id. */
function newestFirst(
  a: Pick<SessionModel, 'createdAt' | 'id'>,
  b: Pick<SessionModel, 'createdAt' | 'id'>,
): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function positionOf(state: {
  b: number;
  p: string | null;
}): Pick<SessionModel, 'createdAt' | 'id'> {
  const match = state.b === 0 && state.p ? /^(\d+)_([0-9a-f-]{36})$/.exec(state.p) : null;
  if (!match) throw badUserInput('after', 'is not a valid cursor');
  return { createdAt: new Date(Number(match[1])), id: match[2]! };
}
