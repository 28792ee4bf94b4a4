/** fleet subgraph: the Fleet type's resolvers. */
import { entityReference } from '../../kit/authz/references.js';
import { connection, type PageArgs } from '../../kit/connection.js';
import { present } from '../../kit/present.js';
import type { TypeResolvers } from '../../kit/server.js';
import { requirePageSize } from '../../kit/validate.js';
import type { FleetContext } from '../context.js';
import { fleetCheck } from '../permissions.js';
import type { RobotStatus } from '../repository/common.js';
import { fleetsRepository, type FleetModel } from '../repository/fleets.js';

export const Fleet: TypeResolvers<FleetContext> = {
  __resolveReference: entityReference(fleetCheck, (ctx: FleetContext) => ctx.loaders.fleetById),
  organization: (fleet: FleetModel) => ({ __typename: 'Organization', id: fleet.organizationId }),
  async robots(
    fleet: FleetModel,
    args: PageArgs & { status?: RobotStatus | null },
    ctx: FleetContext,
  ) {
    const status = args.status ?? null;
    const page = await fleetsRepository.robotIdsOfFleet(
      ctx.db,
      ctx.cursors,
      fleet.id,
      status,
      requirePageSize('first', args.first),
      args.after,
    );
    const robots = present(await ctx.loaders.robotById.loadMany(page.rows));
    // The by-status row moves in the same logged batch as the status, but a logged batch is
    // atomic, not isolated: a read may see the new index row before the robot's row (or two
    // racing updates may leave a stale one). The robot's own row decides.
    return connection(status ? robots.filter((robot) => robot.status === status) : robots, page);
  },
};
