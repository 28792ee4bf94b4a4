/** fleet subgraph: the Organization type's resolvers (the users subgraph owns Organization). */
import { keyOnlyReference, type EntityRef } from '../../kit/authz/references.js';
import { present } from '../../kit/present.js';
import type { TypeResolvers } from '../../kit/server.js';
import type { FleetContext } from '../context.js';
import { organizationCheck } from '../permissions.js';

/** An organization's fleets (Query.fleets and Organization.fleets): one id list, one batch. */
export async function fleetsOfOrganization(ctx: FleetContext, organizationId: string) {
  const ids = (await ctx.loaders.fleetsByOrganization.load(organizationId)) ?? [];
  return present(await ctx.loaders.fleetById.loadMany(ids));
}

export const Organization: TypeResolvers<FleetContext> = {
  __resolveReference: keyOnlyReference(organizationCheck),
  fleets: (org: EntityRef, _args, ctx: FleetContext) => fleetsOfOrganization(ctx, org.id),
};
