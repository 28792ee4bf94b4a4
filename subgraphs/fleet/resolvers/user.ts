/** fleet subgraph: the User type's resolvers (the users subgraph owns User). */
import { keyOnlyReference, type EntityRef } from '../../kit/authz/references.js';
import { present } from '../../kit/present.js';
import type { TypeResolvers } from '../../kit/server.js';
import type { FleetContext } from '../context.js';
import { operatorCheck } from '../permissions.js';

export const User: TypeResolvers<FleetContext> = {
  __resolveReference: keyOnlyReference(operatorCheck),
  async operatedRobots(user: EntityRef, _args, ctx: FleetContext) {
    const ids = (await ctx.loaders.robotsByOperator.load(user.id)) ?? [];
    const robots = present(await ctx.loaders.robotById.loadMany(ids));
    // robots_by_operator is an index; the robot's own row says who operates it.
    return robots.filter((robot) => robot.operatorId === user.id);
  },
};
