/** fleet subgraph: the Fleet type's resolvers. */
import { isVisible } from '../../kit/authz/objects.js';
import { entityReference } from '../../kit/authz/references.js';
import { connection, type PageArgs } from '../../kit/connection.js';
import { present } from '../../kit/present.js';
import type { TypeResolvers } from '../../kit/server.js';
import { requirePageSize } from '../../kit/validate.js';
import type { FleetContext } from '../context.js';
import { fleetCheck, robotCheck } from '../permissions.js';
import type { RobotStatus } from '../repository/common.js';
import { fleetsRepository, type FleetModel } from '../repository/fleets.js';
import { robotPagesRepository } from '../repository/robotPages.js';

export const Fleet: TypeResolvers<FleetContext> = {
  __resolveReference: entityReference(fleetCheck, (ctx: FleetContext) => ctx.loaders.fleetById),
  organization: (fleet: FleetModel) => ({ __typename: 'Organization', id: fleet.organizationId }),
  async robots(
    fleet: FleetModel,
    args: PageArgs & { status?: RobotStatus | null },
    ctx: FleetContext,
  ) {
    const status = args.status ?? null;
    const first = requirePageSize('first', args.first);
    if (!status) {
      // The dashboard's path: one partition holds every robot's row (robotPages.ts). Rows are
      // checked like the robotById loader's, and primed into it for later fields of this request.
      const page = await robotPagesRepository.robotsOfFleet(
        ctx.db,
        ctx.cursors,
        fleet.id,
        first,
        args.after,
      );
      const visible = page.rows.filter((robot) => isVisible(ctx.identity, robotCheck, robot));
      for (const robot of visible) ctx.loaders.robotById.prime(robot.id, robot);
      return connection(visible, page);
    }
    const page = await fleetsRepository.robotIdsOfFleet(
      ctx.db,
      ctx.cursors,
      fleet.id,
      status,
      first,
      args.after,
    );
    const robots = present(await ctx.loaders.robotById.loadMany(page.rows));
    // The by-status row moves in the same logged batch as the status, but a logged batch is
    // atomic, not isolated: a read may see the new index row before the robot's row (or two
    // racing updates may leave a stale one). The robot's own row decides.
    return connection(
      robots.filter((robot) => robot.status === status),
      page,
    );
  },
};
