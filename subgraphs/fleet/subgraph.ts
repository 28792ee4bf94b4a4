/** fleet subgraph: fleets, robots, missions and telemetry. Schema: schema/subgraphs/fleet.graphql. */
import { withAuthorization } from '../kit/authz/shield.js';
import type { SubgraphDefinition } from '../kit/server.js';
import { createFleetContext, type FleetContext } from './context.js';
import { openFleetEvents } from './events.js';
import { fleetObjectChecks, fleetPermissions } from './permissions.js';
import { fleetResolvers } from './resolvers/index.js';

export const fleetSubgraph: SubgraphDefinition<FleetContext, 'fleet'> = {
  name: 'fleet',
  schemaFile: new URL('../../schema/subgraphs/fleet.graphql', import.meta.url),
  resolvers: fleetResolvers,
  createContext: createFleetContext,
  // Redis, for the change events the mutations publish and the event fields read (events.ts).
  open: openFleetEvents,
  // Refuses to start unless every field is covered (coverage.ts), then applies the rules.
  transformSchema: withAuthorization('fleet', fleetPermissions, fleetObjectChecks),
};
