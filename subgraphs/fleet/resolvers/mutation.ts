/**
 * fleet subgraph: the Mutation type's resolvers. Each validates its arguments and loads what it
 * acts on (through the tenant-scoped loaders: another organization's object is NOT_FOUND)
 * before it writes, so a rejected mutation writes nothing.
 *
 * Each write that changes what a subscription shows then publishes a change event
 * (platform/events/contract.ts) — after Cassandra acknowledged it, so an event never announces
 * a write that did not happen, and a rejected mutation publishes nothing. Publishing waits for
 * Redis briefly and never fails the mutation (platform/events/publisher.ts).
 */
import { conflict, forbidden, unauthenticated } from '../../../platform/contract/errors.js';
import type { Identity } from '../../../platform/contract/identity.js';
import { loadOrNotFound } from '../../kit/loadOrNotFound.js';
import type { TypeResolvers } from '../../kit/server.js';
import { optionalText, requireNonEmpty, requireUuid } from '../../kit/validate.js';
import type { FleetContext } from '../context.js';
import {
  optionalUuid,
  requireBattery,
  requireMissionId,
  requireSamples,
  requireSteps,
  type TelemetrySampleInput,
} from '../inputs.js';
import type { MissionOutcome, RobotStatus } from '../repository/common.js';
import { missionsRepository, type MissionModel } from '../repository/missions.js';
import { robotsRepository } from '../repository/robots.js';
import { telemetryRepository } from '../repository/telemetry.js';

interface RegisterRobotInput {
  fleetId: string;
  serial: string;
  model: string;
  firmware?: string | null;
  operatorId?: string | null;
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

export const Mutation: TypeResolvers<FleetContext> = {
  async registerRobot(_root, { input }: { input: RegisterRobotInput }, ctx) {
    const fleetId = requireUuid('input.fleetId', input.fleetId);
    const serial = requireNonEmpty('input.serial', input.serial, 64);
    const model = requireNonEmpty('input.model', input.model, 100);
    const firmware = optionalText('input.firmware', input.firmware, 64);
    const operatorId = optionalUuid('input.operatorId', input.operatorId);
    const fleet = await loadOrNotFound(ctx.loaders.fleetById, 'Fleet', fleetId);
    const robot = await robotsRepository.registerRobot(ctx.db, {
      organizationId: fleet.organizationId,
      fleetId,
      serial,
      model,
      firmware,
      operatorId,
    });
    ctx.loaders.robotById.prime(robot.id, robot);
    await ctx.events.publish({
      kind: 'ROBOT_REGISTERED',
      organizationId: robot.organizationId,
      fleetId: robot.fleetId,
      robotId: robot.id,
    });
    return robot;
  },

  async updateRobotStatus(
    _root,
    args: { robotId: string; status: RobotStatus; batteryPercent?: number | null },
    ctx,
  ) {
    const battery =
      args.batteryPercent == null ? null : requireBattery('batteryPercent', args.batteryPercent);
    const current = await loadOrNotFound(ctx.loaders.robotById, 'Robot', args.robotId, {
      argument: 'robotId',
    });
    const robot = await robotsRepository.updateStatus(ctx.db, current, args.status, battery);
    ctx.loaders.robotById.clear(robot.id).prime(robot.id, robot);
    await ctx.events.publish({
      kind: 'ROBOT_STATUS_CHANGED',
      organizationId: robot.organizationId,
      fleetId: robot.fleetId,
      robotId: robot.id,
    });
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
    const robot = await loadOrNotFound(ctx.loaders.robotById, 'Robot', robotId);
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
      robot,
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
    await ctx.events.publish({
      kind: 'MISSION_ASSIGNED',
      organizationId: mission.organizationId,
      fleetId: robot.fleetId,
      robotId: robot.id,
      missionId: mission.id,
    });
    return mission;
  },

  /** The mission is ended first, then its robot released (only if still on this mission). */
  async completeMission(_root, args: { missionId: string; outcome?: MissionOutcome | null }, ctx) {
    const missionId = requireMissionId('missionId', args.missionId);
    const mission = await loadOrNotFound(ctx.loaders.missionById, 'Mission', missionId);
    if (!isRunning(mission))
      throw conflict(`Mission ${mission.id} has already ended (${mission.status})`);
    const finished = await missionsRepository.finishMission(
      ctx.db,
      mission,
      args.outcome ?? 'COMPLETED',
    );
    // The robot's fleet locates its page row (robots_by_fleet_page); a robot this caller cannot
    // see cannot be on this caller's mission.
    const robot = await ctx.loaders.robotById.load(mission.robotId);
    if (robot) await robotsRepository.releaseFromMission(ctx.db, robot, mission.id);
    ctx.loaders.missionById.clear(mission.id).prime(mission.id, finished);
    ctx.loaders.robotById.clear(mission.robotId);
    // The event goes to the robot's fleet's stream; a mission whose robot row is gone has no
    // fleet to announce it in (and no subscriber could resolve its robot).
    if (robot)
      await ctx.events.publish({
        kind: 'MISSION_COMPLETED',
        organizationId: finished.organizationId,
        fleetId: robot.fleetId,
        robotId: robot.id,
        missionId: finished.id,
      });
    return finished;
  },

  async reportTelemetry(_root, args: { robotId: string; samples: TelemetrySampleInput[] }, ctx) {
    const robotId = requireUuid('robotId', args.robotId);
    const samples = requireSamples(args.samples);
    const robot = await loadOrNotFound(ctx.loaders.robotById, 'Robot', robotId);
    if (samples.length === 0) return { accepted: 0 };
    await telemetryRepository.writeSamples(ctx.db, robot.id, samples);
    const newest = samples.reduce((a, b) => (b.recordedAt > a.recordedAt ? b : a));
    const oldest = samples.reduce((a, b) => (b.recordedAt < a.recordedAt ? b : a));
    // A late backlog of old samples must not move the heartbeat back in time.
    if (!robot.lastHeartbeatAt || newest.recordedAt > robot.lastHeartbeatAt) {
      const updated = await robotsRepository.recordHeartbeat(ctx.db, robot, newest);
      ctx.loaders.robotById.clear(robot.id).prime(robot.id, updated);
    }
    // The samples' range, so TelemetryEvent.samples reads them back (the event carries no values).
    await ctx.events.publish({
      kind: 'TELEMETRY_REPORTED',
      organizationId: robot.organizationId,
      fleetId: robot.fleetId,
      robotId: robot.id,
      sampleFrom: oldest.recordedAt.toISOString(),
      sampleTime: newest.recordedAt.toISOString(),
      sampleCount: samples.length,
    });
    return { accepted: samples.length };
  },
};
