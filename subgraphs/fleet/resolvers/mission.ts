/** fleet subgraph: the Mission type's resolvers. */
import { entityReference } from '../../kit/authz/references.js';
import { loadOrNotFound } from '../../kit/loadOrNotFound.js';
import type { TypeResolvers } from '../../kit/server.js';
import type { FleetContext } from '../context.js';
import { missionCheck } from '../permissions.js';
import type { MissionModel } from '../repository/missions.js';

export const Mission: TypeResolvers<FleetContext> = {
  __resolveReference: entityReference(missionCheck, (ctx: FleetContext) => ctx.loaders.missionById),
  robot: (mission: MissionModel, _args, ctx: FleetContext) =>
    loadOrNotFound(ctx.loaders.robotById, 'Robot', mission.robotId),
  createdBy: (mission: MissionModel) => ({ __typename: 'User', id: mission.createdBy }),
};
