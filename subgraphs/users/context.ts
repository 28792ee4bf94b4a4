/**
 * users subgraph: the per-request context — identity plus a fresh set of DataLoaders. The
 * by-id loaders are tenant-scoped: a user or organization of another organization loads as
 * null, exactly like an unknown id (permissions.ts).
 */
import { loaderTable, withLoaders, type LoadersOf } from '../kit/loaderTable.js';
import type { BaseContext } from '../kit/server.js';
import { organizationCheck, userCheck } from './permissions.js';
import { usersRepository } from './repository.js';

const usersLoaders = loaderTable({
  userById: { check: userCheck, fetch: usersRepository.usersById },
  organizationById: { check: organizationCheck, fetch: usersRepository.organizationsById },
});

export interface UsersContext extends BaseContext {
  readonly loaders: LoadersOf<typeof usersLoaders>;
}

export const createUsersContext: (base: BaseContext) => UsersContext = withLoaders(usersLoaders);
