/** fleet subgraph: fleets, robots, missions and telemetry. Schema: schema/subgraphs/fleet.graphql. */
import type { SubgraphDefinition } from '../shared/server.js';
import { createFleetContext, type FleetContext } from './context.js';
import { fleetResolvers } from './resolvers.js';

export const fleetSubgraph: SubgraphDefinition<FleetContext> = {
  name: 'fleet',
  schemaFile: new URL('../../schema/subgraphs/fleet.graphql', import.meta.url),
  resolvers: fleetResolvers,
  createContext: createFleetContext,
};
