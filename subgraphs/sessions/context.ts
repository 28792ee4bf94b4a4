/** sessions subgraph: the per-request context — identity plus a fresh set of DataLoaders. */
import type DataLoader from 'dataloader';
import { createLoader } from '../shared/loaders.js';
import type { BaseContext } from '../shared/server.js';
import { sessionsRepository, type SessionModel } from './repository.js';

export interface SessionsContext extends BaseContext {
  readonly loaders: {
    readonly sessionById: DataLoader<string, SessionModel | null>;
    /**
     * A user's sessions (every state, newest first). User.sessions and
     * User.activeSessionCount both read through it, so N users cost one batch.
     */
    readonly sessionsByUser: DataLoader<string, SessionModel[] | null>;
  };
}

export function createSessionsContext(base: BaseContext): SessionsContext {
  const { db, metrics } = base;
  return {
    ...base,
    loaders: {
      sessionById: createLoader('sessionById', metrics, (ids) =>
        sessionsRepository.sessionsById(db, ids),
      ),
      sessionsByUser: createLoader('sessionsByUser', metrics, (userIds) =>
        sessionsRepository.sessionsOfUsers(db, userIds),
      ),
    },
  };
}
