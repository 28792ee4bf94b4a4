/**
 * users subgraph: the per-request context — identity plus a fresh set of DataLoaders. The
 * by-id loaders are tenant-scoped: a user or organization of another organization loads as
 * null, exactly like an unknown id (permissions.ts).
 */
import type DataLoader from 'dataloader';
import { tenantScoped } from '../kit/authz/objects.js';
import { createLoader } from '../kit/loaders.js';
import type { BaseContext } from '../kit/server.js';
import { organizationCheck, userCheck } from './permissions.js';
import { usersRepository, type OrganizationModel, type UserModel } from './repository.js';

export interface UsersContext extends BaseContext {
  readonly loaders: {
    readonly userById: DataLoader<string, UserModel | null>;
    readonly organizationById: DataLoader<string, OrganizationModel | null>;
  };
}

export function createUsersContext(base: BaseContext): UsersContext {
  const { db, metrics, identity } = base;
  return {
    ...base,
    loaders: {
      userById: createLoader(
        'userById',
        metrics,
        tenantScoped(identity, userCheck, (ids) => usersRepository.usersById(db, ids)),
      ),
      organizationById: createLoader(
        'organizationById',
        metrics,
        tenantScoped(identity, organizationCheck, (ids) =>
          usersRepository.organizationsById(db, ids),
        ),
      ),
    },
  };
}
