/**
 * sessions subgraph: the per-request context — identity plus a fresh set of DataLoaders.
 * Resolvers read sessions through `sessionById`, in which a session the caller may not see is
 * null, exactly like an unknown id (permissions.ts).
 */
import { guardedLoader, type GuardedLoader } from '../kit/authz/objects.js';
import { createLoaders, loaderTable, type LoadersOf } from '../kit/loaderTable.js';
import type { BaseContext } from '../kit/server.js';
import { sessionCheck } from './permissions.js';
import { sessionsRepository, type SessionModel } from './repository.js';

/**
 * Unchecked on purpose: authorization itself reads session rows (see `sessionRowById`), so the
 * check is applied by a guarded view of the loader rather than inside its batch.
 */
const sessionsLoaders = loaderTable({
  sessionById: { fetch: sessionsRepository.sessionsById },
  sessionsByUser: { fetch: sessionsRepository.sessionsOfUsers },
  activeSessionCounts: {
    fetch: (db, userIds) => sessionsRepository.activeSessionCounts(db, userIds, new Date()),
  },
});
type RawLoaders = LoadersOf<typeof sessionsLoaders>;

export interface SessionsContext extends BaseContext {
  readonly loaders: {
    /** Sessions by id as the caller may see them: the owner's, an admin's organization's. */
    readonly sessionById: GuardedLoader<SessionModel>;
    /**
     * The same rows unfiltered, for authorization only: a User key carries no organization,
     * so checking another user's sessions reads it from their newest session (resolvers.ts).
     * Shares its cache with sessionById.
     */
    readonly sessionRowById: RawLoaders['sessionById'];
    /**
     * A user's sessions (every state, newest first): User.sessions, revokeAllSessions and
     * startSession's per-user cap.
     */
    readonly sessionsByUser: RawLoaders['sessionsByUser'];
    /**
     * A user's active session count and their sessions' organization, from
     * active_sessions_by_user: User.activeSessionCount, N users in one statement. Unchecked: the
     * resolver decides what a caller may see of it.
     */
    readonly activeSessionCounts: RawLoaders['activeSessionCounts'];
  };
}

export function createSessionsContext(base: BaseContext): SessionsContext {
  const { sessionById, sessionsByUser, activeSessionCounts } = createLoaders(sessionsLoaders, base);
  return {
    ...base,
    loaders: {
      sessionById: guardedLoader(sessionById, base.identity, sessionCheck),
      sessionRowById: sessionById,
      sessionsByUser,
      activeSessionCounts,
    },
  };
}
