/** users subgraph: organizations (tenants) and users. Schema: schema/subgraphs/users.graphql. */
import type { SubgraphDefinition } from '../shared/server.js';
import { createUsersContext, type UsersContext } from './context.js';
import { usersResolvers } from './resolvers.js';

export const usersSubgraph: SubgraphDefinition<UsersContext> = {
  name: 'users',
  schemaFile: new URL('../../schema/subgraphs/users.graphql', import.meta.url),
  resolvers: usersResolvers,
  createContext: createUsersContext,
};
