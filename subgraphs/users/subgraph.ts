/** users subgraph: organizations (tenants) and users. Schema: schema/subgraphs/users.graphql. */
import { withAuthorization } from '../kit/authz/shield.js';
import type { SubgraphDefinition } from '../kit/server.js';
import { createUsersContext, type UsersContext } from './context.js';
import { usersObjectChecks, usersPermissions } from './permissions.js';
import { usersResolvers } from './resolvers.js';

export const usersSubgraph: SubgraphDefinition<UsersContext, 'users'> = {
  name: 'users',
  schemaFile: new URL('../../schema/subgraphs/users.graphql', import.meta.url),
  resolvers: usersResolvers,
  createContext: createUsersContext,
  // Refuses to start unless every field is covered (coverage.ts), then applies the rules.
  transformSchema: withAuthorization('users', usersPermissions, usersObjectChecks),
};
