/** sessions subgraph: login sessions and their revocation. Schema: schema/subgraphs/sessions.graphql. */
import type { SubgraphDefinition } from '../shared/server.js';
import { createSessionsContext, type SessionsContext } from './context.js';
import { sessionsResolvers } from './resolvers.js';

export const sessionsSubgraph: SubgraphDefinition<SessionsContext> = {
  name: 'sessions',
  schemaFile: new URL('../../schema/subgraphs/sessions.graphql', import.meta.url),
  resolvers: sessionsResolvers,
  createContext: createSessionsContext,
};
