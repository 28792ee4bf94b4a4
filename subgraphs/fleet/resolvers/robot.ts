/** fleet subgraph: the Robot type's resolvers. */
import type { GraphQLResolveInfo } from 'graphql';
import { entityReference } from '../../kit/authz/references.js';
import { asksOnly } from '../../kit/selection.js';
import { connection, type PageArgs } from '../../kit/connection.js';
import { loadOrNotFound } from '../../kit/loadOrNotFound.js';
import { present } from '../../kit/present.js';
import type { TypeResolvers } from '../../kit/server.js';
import { requirePageSize } from '../../kit/validate.js';
import type { FleetContext } from '../context.js';
import { requireTelemetryQuery } from '../inputs.js';
import { robotCheck } from '../permissions.js';
import { missionsRepository } from '../repository/missions.js';
import type { ListedRobot } from '../repository/robotPages.js';
import type { RobotModel } from '../repository/robots.js';
import { telemetryRepository } from '../repository/telemetry.js';

/** The Mission fields a robots_by_fleet_page row answers. */
const SUMMARY = new Set(['__typename', 'id', 'status']);

export const Robot: TypeResolvers<FleetContext> = {
  __resolveReference: entityReference(robotCheck, (ctx: FleetContext) => ctx.loaders.robotById),
  // Declared (not the default resolver) because it carries a rule: middleware applied to
  // declared resolvers would silently skip a default one.
  firmware: (robot: RobotModel) => robot.firmware,
  fleet: (robot: RobotModel, _args, ctx: FleetContext) =>
    loadOrNotFound(ctx.loaders.fleetById, 'Fleet', robot.fleetId),
  position: (robot: RobotModel) =>
    robot.latitude !== null && robot.longitude !== null
      ? { latitude: robot.latitude, longitude: robot.longitude, heading: robot.heading }
      : null,
  operator: (robot: RobotModel) =>
    robot.operatorId ? { __typename: 'User', id: robot.operatorId } : null,
  currentMission(
    robot: RobotModel | ListedRobot,
    _args,
    ctx: FleetContext,
    info: GraphQLResolveInfo,
  ) {
    if (!robot.currentMissionId) return null;
    // A listed robot's row carries its current mission's status (robots_by_fleet_page): when
    // that is all the query asks of the mission, it is not read. The mission is the robot's
    // organization's (assignMission), which the listing has checked.
    if ('currentMissionStatus' in robot && robot.currentMissionStatus && asksOnly(info, SUMMARY))
      return { id: robot.currentMissionId, status: robot.currentMissionStatus };
    return ctx.loaders.missionById.load(robot.currentMissionId);
  },
  telemetry(robot: RobotModel, args: { from: Date; to: Date; limit?: number | null }, ctx) {
    const { from, to, limit } = requireTelemetryQuery(args);
    return telemetryRepository.samplesOfRobot(ctx.db, robot.id, from, to, limit);
  },
  async missions(robot: RobotModel, args: PageArgs, ctx: FleetContext) {
    const page = await missionsRepository.missionIdsOfRobot(
      ctx.db,
      ctx.cursors,
      robot,
      requirePageSize('first', args.first),
      args.after,
    );
    return connection(present(await ctx.loaders.missionById.loadMany(page.rows)), page);
  },
};
