/** users subgraph: the per-request context — identity plus a fresh set of DataLoaders. */
import type DataLoader from 'dataloader';
import { createLoader } from '../shared/loaders.js';
import type { BaseContext } from '../shared/server.js';
import { usersRepository, type OrganizationModel, type UserModel } from './repository.js';

export interface UsersContext extends BaseContext {
  readonly loaders: {
    readonly userById: DataLoader<string, UserModel | null>;
    readonly organizationById: DataLoader<string, OrganizationModel | null>;
  };
}

export function createUsersContext(base: BaseContext): UsersContext {
  const { db, metrics } = base;
  return {
    ...base,
    loaders: {
      userById: createLoader('userById', metrics, (ids) => usersRepository.usersById(db, ids)),
      organizationById: createLoader('organizationById', metrics, (ids) =>
        usersRepository.organizationsById(db, ids),
      ),
    },
  };
}
