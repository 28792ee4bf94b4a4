/**
 * fleet subgraph resolvers: thin — validate arguments, then call a loader or the repository.
 * Every by-id field and every entity reference goes through a per-request DataLoader.
 * Authorization: root and sensitive fields have rules (permissions.ts); fleets, robots and
 * missions are checked once per object — in the tenant-scoped loaders (another organization's
 * is null, as if unknown; so a mutation on it is NOT_FOUND) and in `__resolveReference`, which
 * graphql-shield never wraps.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { resolveEntity } from '../kit/authz/objects.js';
import { conflict, forbidden, notFound, unauthenticated } from '../../platform/contract/errors.js';
import type { Identity } from '../../platform/contract/identity.js';
import { DateTimeScalar } from '../kit/scalars.js';
import {
  isUuid,
  requireNonEmpty,
  requirePageSize,
  requireUuid,
  requireUuids,
} from '../kit/validate.js';
import type { FleetContext } from './context.js';
import {
  fleetCheck,
  missionCheck,
  operatorCheck,
  organizationCheck,
  robotCheck,
} from './permissions.js';
import {
  optionalText,
  optionalUuid,
  requireBattery,
  requireMissionId,
  requireSamples,
  requireSteps,
  requireTelemetryQuery,
  type TelemetrySampleInput,
} from './inputs.js';
import type { MissionOutcome, RobotStatus } from './repository/common.js';
import { fleetsRepository, type FleetModel } from './repository/fleets.js';
import { missionsRepository, type MissionModel } from './repository/missions.js';
import { robotsRepository, type RobotModel } from './repository/robots.js';
import { telemetryRepository } from './repository/telemetry.js';

type PageArgs = { first?: number | null; after?: string | null };

/** Loaded values that exist; a failed key fails the field instead of silently vanishing. */
function present<T>(values: readonly (T | null | Error)[]): T[] {
  const found: T[] = [];
  for (const value of values) {
    if (value instanceof Error) throw value;
    if (value !== null) found.push(value);
  }
  return found;
}

async function loadRobotOrFail(
  ctx: FleetContext,
  argumentName: string,
  id: string,
): Promise<RobotModel> {
  const robot = await ctx.loaders.robotById.load(requireUuid(argumentName, id));
  if (!robot) throw notFound('Robot', id);
  return robot;
}

async function fleetsOfOrganization(ctx: FleetContext, organizationId: string) {
  const ids = (await ctx.loaders.fleetsByOrganization.load(organizationId)) ?? [];
  return present(await ctx.loaders.fleetById.loadMany(ids));
}

/** The organization whose fleets `fleets` lists: users' and partner keys' own. */
function organizationOf(identity: Identity): string | null {
  if (identity.kind !== 'user' && identity.kind !== 'partner') return null;
  return isUuid(identity.organizationId) ? identity.organizationId.toLowerCase() : null;
}

/**
 * Who a new mission is created by. Missions record a person (Mission.createdBy: User!), so only
 * signed-in users may assign them: anonymous callers are UNAUTHENTICATED, partner keys and
 * services FORBIDDEN (no argument could fix either, so not BAD_USER_INPUT).
 */
function creatorOf(identity: Identity): string {
  if (identity.kind === 'user') return identity.userId;
  if (identity.kind === 'anonymous') throw unauthenticated('Sign in to assign missions');
  throw forbidden('Missions are assigned by signed-in users, not by partner keys or services');
}

function isRunning(mission: MissionModel): boolean {
  return mission.status === 'IN_PROGRESS' || mission.status === 'PENDING';
}

function connection<T>(nodes: T[], page: { hasNextPage: boolean; endCursor: string | null }) {
  return { nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
}

export const fleetResolvers: GraphQLResolverMap<FleetContext> = {
  DateTime: DateTimeScalar,

  Query: {
    fleet: (_root, args: { id: string }, ctx) =>
      ctx.loaders.fleetById.load(requireUuid('id', args.id)),
    fleets(_root, _args, ctx) {
      const organizationId = organizationOf(ctx.identity);
      return organizationId ? fleetsOfOrganization(ctx, organizationId) : [];
    },
    robot: (_root, args: { id: string }, ctx) =>
      ctx.loaders.robotById.load(requireUuid('id', args.id)),
    robots: (_root, args: { ids: string[] }, ctx) =>
      ctx.loaders.robotById.loadMany(requireUuids('ids', args.ids)),
    mission: (_root, args: { id: string }, ctx) =>
      ctx.loaders.missionById.load(requireMissionId('id', args.id)),
  },

  Mutation: {
    async registerRobot(
      _root,
      {
        input,
      }: {
        input: {
          fleetId: string;
          serial: string;
          model: string;
          firmware?: string | null;
          operatorId?: string | null;
        };
      },
      ctx,
    ) {
      const fleetId = requireUuid('input.fleetId', input.fleetId);
      const serial = requireNonEmpty('input.serial', input.serial, 64);
      const model = requireNonEmpty('input.model', input.model, 100);
      const firmware = optionalText('input.firmware', input.firmware, 64);
      const operatorId = optionalUuid('input.operatorId', input.operatorId);
      const fleet = await ctx.loaders.fleetById.load(fleetId);
      if (!fleet) throw notFound('Fleet', fleetId);
      const robot = await robotsRepository.registerRobot(ctx.db, {
        organizationId: fleet.organizationId,
        fleetId,
        serial,
        model,
        firmware,
        operatorId,
      });
      ctx.loaders.robotById.prime(robot.id, robot);
      return robot;
    },

    async updateRobotStatus(
      _root,
      args: { robotId: string; status: RobotStatus; batteryPercent?: number | null },
      ctx,
    ) {
      const battery =
        args.batteryPercent == null ? null : requireBattery('batteryPercent', args.batteryPercent);
      const current = await loadRobotOrFail(ctx, 'robotId', args.robotId);
      const robot = await robotsRepository.updateStatus(ctx.db, current, args.status, battery);
      ctx.loaders.robotById.clear(robot.id).prime(robot.id, robot);
      return robot;
    },

    /**
     * The mission rows are written first, then the robot is claimed with a lightweight
     * transaction: so a robot's current mission always exists, and of two concurrent calls for
     * one robot exactly one wins (the loser's mission rows are removed again).
     */
    async assignMission(_root, { input }: { input: { robotId: string; steps: string[] } }, ctx) {
      const createdBy = creatorOf(ctx.identity);
      const robotId = requireUuid('input.robotId', input.robotId);
      const steps = requireSteps('input.steps', input.steps);
      const robot = await loadRobotOrFail(ctx, 'input.robotId', robotId);
      const inProgress = () =>
        conflict(`Robot ${robot.id} already has a mission in progress; complete it first`);
      // A current mission that has ended is one whose robot was never released (completeMission
      // failed between its two writes): it may be replaced.
      if (robot.currentMissionId) {
        const current = await ctx.loaders.missionById.load(robot.currentMissionId);
        if (current && isRunning(current)) throw inProgress();
      }
      const mission = await missionsRepository.createMission(ctx.db, {
        robotId: robot.id,
        organizationId: robot.organizationId,
        createdBy,
        steps,
      });
      const claimed = await robotsRepository.claimForMission(
        ctx.db,
        robot.id,
        mission.id,
        robot.currentMissionId,
      );
      if (!claimed) {
        await missionsRepository.deleteMission(ctx.db, mission);
        throw inProgress();
      }
      ctx.loaders.missionById.prime(mission.id, mission);
      ctx.loaders.robotById.clear(robot.id).prime(robot.id, {
        ...robot,
        currentMissionId: mission.id,
      });
      return mission;
    },

    /** The mission is ended first, then its robot released (only if still on this mission). */
    async completeMission(
      _root,
      args: { missionId: string; outcome?: MissionOutcome | null },
      ctx,
    ) {
      const missionId = requireMissionId('missionId', args.missionId);
      const mission = await ctx.loaders.missionById.load(missionId);
      if (!mission) throw notFound('Mission', missionId);
      if (!isRunning(mission))
        throw conflict(`Mission ${mission.id} has already ended (${mission.status})`);
      const finished = await missionsRepository.finishMission(
        ctx.db,
        mission,
        args.outcome ?? 'COMPLETED',
      );
      await robotsRepository.releaseFromMission(ctx.db, mission.robotId, mission.id);
      ctx.loaders.missionById.clear(mission.id).prime(mission.id, finished);
      ctx.loaders.robotById.clear(mission.robotId);
      return finished;
    },

    async reportTelemetry(_root, args: { robotId: string; samples: TelemetrySampleInput[] }, ctx) {
      const robotId = requireUuid('robotId', args.robotId);
      const samples = requireSamples(args.samples);
      const robot = await loadRobotOrFail(ctx, 'robotId', robotId);
      if (samples.length === 0) return { accepted: 0 };
      await telemetryRepository.writeSamples(ctx.db, robot.id, samples);
      const newest = samples.reduce((a, b) => (b.recordedAt > a.recordedAt ? b : a));
      // A late backlog of old samples must not move the heartbeat back in time.
      if (!robot.lastHeartbeatAt || newest.recordedAt > robot.lastHeartbeatAt) {
        const updated = await robotsRepository.recordHeartbeat(ctx.db, robot, newest);
        ctx.loaders.robotById.clear(robot.id).prime(robot.id, updated);
      }
      return { accepted: samples.length };
    },
  },

  Fleet: {
    __resolveReference: (ref: { id: string }, ctx: FleetContext) =>
      resolveEntity(ctx.identity, fleetCheck, () =>
        isUuid(ref.id) ? ctx.loaders.fleetById.load(ref.id.toLowerCase()) : null,
      ),
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
  },

  Organization: {
    __resolveReference: (ref: { id: string }, ctx: FleetContext) =>
      resolveEntity(ctx.identity, organizationCheck, () =>
        isUuid(ref.id) ? { id: ref.id.toLowerCase() } : null,
      ),
    fleets: (org: { id: string }, _args, ctx: FleetContext) => fleetsOfOrganization(ctx, org.id),
  },

  Robot: {
    __resolveReference: (ref: { id: string }, ctx: FleetContext) =>
      resolveEntity(ctx.identity, robotCheck, () =>
        isUuid(ref.id) ? ctx.loaders.robotById.load(ref.id.toLowerCase()) : null,
      ),
    // Declared (not the default resolver) because it carries a rule: middleware applied to
    // declared resolvers would silently skip a default one.
    firmware: (robot: RobotModel) => robot.firmware,
    async fleet(robot: RobotModel, _args, ctx: FleetContext) {
      const fleet = await ctx.loaders.fleetById.load(robot.fleetId);
      if (!fleet) throw notFound('Fleet', robot.fleetId);
      return fleet;
    },
    position: (robot: RobotModel) =>
      robot.latitude !== null && robot.longitude !== null
        ? { latitude: robot.latitude, longitude: robot.longitude, heading: robot.heading }
        : null,
    operator: (robot: RobotModel) =>
      robot.operatorId ? { __typename: 'User', id: robot.operatorId } : null,
    currentMission: (robot: RobotModel, _args, ctx: FleetContext) =>
      robot.currentMissionId ? ctx.loaders.missionById.load(robot.currentMissionId) : null,
    telemetry(
      robot: RobotModel,
      args: { from: Date; to: Date; limit?: number | null },
      ctx: FleetContext,
    ) {
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
  },

  Mission: {
    __resolveReference: (ref: { id: string }, ctx: FleetContext) =>
      resolveEntity(ctx.identity, missionCheck, () =>
        isUuid(ref.id) ? ctx.loaders.missionById.load(ref.id.toLowerCase()) : null,
      ),
    async robot(mission: MissionModel, _args, ctx: FleetContext) {
      const robot = await ctx.loaders.robotById.load(mission.robotId);
      if (!robot) throw notFound('Robot', mission.robotId);
      return robot;
    },
    createdBy: (mission: MissionModel) => ({ __typename: 'User', id: mission.createdBy }),
  },

  User: {
    __resolveReference: (ref: { id: string }, ctx: FleetContext) =>
      resolveEntity(ctx.identity, operatorCheck, () =>
        isUuid(ref.id) ? { id: ref.id.toLowerCase() } : null,
      ),
    async operatedRobots(user: { id: string }, _args, ctx: FleetContext) {
      const ids = (await ctx.loaders.robotsByOperator.load(user.id)) ?? [];
      const robots = present(await ctx.loaders.robotById.loadMany(ids));
      // robots_by_operator is an index; the robot's own row says who operates it.
      return robots.filter((robot) => robot.operatorId === user.id);
    },
  },
};
