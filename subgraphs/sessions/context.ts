/**
 * sessions subgraph: the per-request context — identity plus a fresh set of DataLoaders.
 * Resolvers read sessions through `sessionById`, in which a session the caller may not see is
 * null, exactly like an unknown id (permissions.ts).
 */
import type DataLoader from 'dataloader';
import { guardedLoader, type GuardedLoader } from '../kit/authz/objects.js';
import { createLoader } from '../kit/loaders.js';
import type { BaseContext } from '../kit/server.js';
import { sessionCheck } from './permissions.js';
import { sessionsRepository, type SessionModel } from './repository.js';

export interface SessionsContext extends BaseContext {
  readonly loaders: {
    /** Sessions by id as the caller may see them: the owner's, an admin's organization's. */
    readonly sessionById: GuardedLoader<SessionModel>;
    /**
     * The same rows unfiltered, for authorization only: a User key carries no organization,
     * so checking another user's sessions reads it from their newest session (resolvers.ts).
     * Shares its cache with sessionById.
     */
    readonly sessionRowById: DataLoader<string, SessionModel | null>;
    /**
     * A user's sessions (every state, newest first). User.sessions and
     * User.activeSessionCount both read through it, so N users cost one batch.
     */
    readonly sessionsByUser: DataLoader<string, SessionModel[] | null>;
  };
}

export function createSessionsContext(base: BaseContext): SessionsContext {
  const { db, metrics, identity } = base;
  const sessionRowById = createLoader('sessionById', metrics, (ids) =>
    sessionsRepository.sessionsById(db, ids),
  );
  return {
    ...base,
    loaders: {
      sessionById: guardedLoader(sessionRowById, identity, sessionCheck),
      sessionRowById,
      sessionsByUser: createLoader('sessionsByUser', metrics, (userIds) =>
        sessionsRepository.sessionsOfUsers(db, userIds),
      ),
    },
  };
}
