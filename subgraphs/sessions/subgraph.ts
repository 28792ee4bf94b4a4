/** sessions subgraph: login sessions and their revocation. Schema: schema/subgraphs/sessions.graphql. */
import { withAuthorization } from '../kit/authz/shield.js';
import type { SubgraphDefinition } from '../kit/server.js';
import { createSessionsContext, type SessionsContext } from './context.js';
import { sessionsObjectChecks, sessionsPermissions } from './permissions.js';
import { sessionsResolvers } from './resolvers.js';

export const sessionsSubgraph: SubgraphDefinition<SessionsContext, 'sessions'> = {
  name: 'sessions',
  schemaFile: new URL('../../schema/subgraphs/sessions.graphql', import.meta.url),
  resolvers: sessionsResolvers,
  createContext: createSessionsContext,
  // Refuses to start unless every field is covered (coverage.ts), then applies the rules.
  transformSchema: withAuthorization('sessions', sessionsPermissions, sessionsObjectChecks),
};
