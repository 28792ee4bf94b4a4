/** fleet subgraph: the Query type's resolvers. */
import type { Identity } from '../../../platform/contract/identity.js';
import { byIdQuery, byIdsQuery } from '../../kit/byIdQuery.js';
import type { TypeResolvers } from '../../kit/server.js';
import { isUuid } from '../../kit/validate.js';
import type { FleetContext } from '../context.js';
import { requireMissionId } from '../inputs.js';
import { eventQueries } from './events.js';
import { fleetsOfOrganization } from './organization.js';

/** The organization whose fleets `fleets` lists: users' and partner keys' own. */
function organizationOf(identity: Identity): string | null {
  if (identity.kind !== 'user' && identity.kind !== 'partner') return null;
  return isUuid(identity.organizationId) ? identity.organizationId.toLowerCase() : null;
}

export const Query: TypeResolvers<FleetContext> = {
  fleet: byIdQuery((ctx: FleetContext) => ctx.loaders.fleetById),
  fleets(_root, _args, ctx) {
    const organizationId = organizationOf(ctx.identity);
    return organizationId ? fleetsOfOrganization(ctx, organizationId) : [];
  },
  robot: byIdQuery((ctx: FleetContext) => ctx.loaders.robotById),
  robots: byIdsQuery((ctx: FleetContext) => ctx.loaders.robotById),
  mission: byIdQuery((ctx: FleetContext) => ctx.loaders.missionById, requireMissionId),
  // robotEvent, missionEvent, telemetryEvent: with the rest of the change events (events.ts).
  ...eventQueries,
};
