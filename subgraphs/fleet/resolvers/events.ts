/**
 * fleet subgraph: the change events' fields — the event query fields the router answers each
 * subscription event through (contract.ts SUBSCRIPTIONS), the Subscription fields themselves
 * (a stream follower per subscriber, for clients of this subgraph and its tests), and the
 * event types.
 *
 * @remarks
 * Tenant isolation is the queries': the fleet or robot asked for is loaded through the
 * tenant-scoped loaders first (another organization's is null — the query field answers null,
 * a subscription NOT_FOUND), the event must be of that fleet or robot and organization, and the
 * event's robot or mission is loaded through the same loaders. The stream is only a list of
 * what changed; every value comes from Cassandra, read for the caller.
 */
import type { GraphQLFieldResolver } from 'graphql';
import {
  deliversEvent,
  type FleetEvent,
  type SubscriptionField,
} from '../../../platform/events/contract.js';
import { requireAudience } from '../../kit/authz/objects.js';
import { loadOrNotFound } from '../../kit/loadOrNotFound.js';
import type { TypeResolvers } from '../../kit/server.js';
import { requireUuid } from '../../kit/validate.js';
import type { FleetContext } from '../context.js';
import { MAX_TELEMETRY_LIMIT, optionalResumeId, requireEventId } from '../inputs.js';
import { FLEET_READERS, TELEMETRY_READERS } from '../permissions.js';
import type { RobotModel } from '../repository/robots.js';
import { telemetryRepository } from '../repository/telemetry.js';

/** The event `eventId` of the robot's fleet stream, when `field` delivers it for this robot. */
async function eventOfRobot(
  ctx: FleetContext,
  field: SubscriptionField,
  robot: RobotModel,
  eventId: string,
): Promise<FleetEvent | null> {
  const event = await ctx.events.read(robot.fleetId, eventId);
  if (!event || event.organizationId !== robot.organizationId) return null;
  return deliversEvent(field, robot.id, event) ? event : null;
}

export const eventQueries = {
  async robotEvent(_root, args: { fleetId: string; eventId: string }, ctx: FleetContext) {
    const fleetId = requireUuid('fleetId', args.fleetId);
    const eventId = requireEventId('eventId', args.eventId);
    // The event is read from Redis while the fleet is read from Cassandra: the router waits on
    // this field for every subscription event, and one hop fewer on its path is one Cassandra
    // read's latency less per delivery under write load. Nothing of the event is used unless the
    // fleet is the caller's (a failed read is then not the caller's concern either).
    const eventRead = ctx.events.read(fleetId, eventId);
    eventRead.catch(() => undefined);
    const fleet = await ctx.loaders.fleetById.load(fleetId);
    if (!fleet) return null;
    const event = await eventRead;
    if (!event || event.organizationId !== fleet.organizationId) return null;
    if (!deliversEvent('robotChanged', fleet.id, event)) return null;
    // RobotEvent.robot is non-null: a robot the caller cannot see makes the event unknown.
    return (await ctx.loaders.robotById.load(event.robotId)) ? event : null;
  },

  async missionEvent(_root, args: { robotId: string; eventId: string }, ctx: FleetContext) {
    const robotId = requireUuid('robotId', args.robotId);
    const eventId = requireEventId('eventId', args.eventId);
    const robot = await ctx.loaders.robotById.load(robotId);
    if (!robot) return null;
    const event = await eventOfRobot(ctx, 'missionChanged', robot, eventId);
    if (!event?.missionId) return null;
    return (await ctx.loaders.missionById.load(event.missionId)) ? event : null;
  },

  async telemetryEvent(_root, args: { robotId: string; eventId: string }, ctx: FleetContext) {
    const robotId = requireUuid('robotId', args.robotId);
    const eventId = requireEventId('eventId', args.eventId);
    const robot = await ctx.loaders.robotById.load(robotId);
    if (!robot) return null;
    return eventOfRobot(ctx, 'telemetryReported', robot, eventId);
  },
} satisfies TypeResolvers<FleetContext>;

/**
 * One subscription's context lives as long as the subscription: what an event names is read
 * afresh for it, not from the loaders' cache of an earlier event.
 */
const freshEvent: GraphQLFieldResolver<FleetEvent, FleetContext> = (event, _args, ctx) => {
  ctx.loaders.robotById.clear(event.robotId);
  if (event.missionId) ctx.loaders.missionById.clear(event.missionId);
  return event;
};

/**
 * The Subscription fields. Their permission rules (permissions.ts) wrap `resolve`, which runs
 * per event (graphql-middleware wraps `subscribe` only when there is no `resolve`), so
 * `subscribe` admits the same audience itself before it opens the stream.
 */
export const Subscription: TypeResolvers<FleetContext> = {
  robotChanged: {
    async subscribe(_root: unknown, args: { fleetId: string; after?: string | null }, ctx) {
      const context = ctx as FleetContext;
      requireAudience(context.identity, FLEET_READERS);
      const fleetId = requireUuid('fleetId', args.fleetId);
      const after = optionalResumeId('after', args.after);
      const fleet = await loadOrNotFound(context.loaders.fleetById, 'Fleet', fleetId);
      return context.events.follow('robotChanged', fleet.id, fleet.id, after);
    },
    resolve: freshEvent,
  },
  missionChanged: {
    async subscribe(_root: unknown, args: { robotId: string; after?: string | null }, ctx) {
      const context = ctx as FleetContext;
      requireAudience(context.identity, FLEET_READERS);
      const robotId = requireUuid('robotId', args.robotId);
      const after = optionalResumeId('after', args.after);
      const robot = await loadOrNotFound(context.loaders.robotById, 'Robot', robotId);
      return context.events.follow('missionChanged', robot.fleetId, robot.id, after);
    },
    resolve: freshEvent,
  },
  telemetryReported: {
    async subscribe(_root: unknown, args: { robotId: string; after?: string | null }, ctx) {
      const context = ctx as FleetContext;
      requireAudience(context.identity, FLEET_READERS);
      requireAudience(context.identity, TELEMETRY_READERS);
      const robotId = requireUuid('robotId', args.robotId);
      const after = optionalResumeId('after', args.after);
      const robot = await loadOrNotFound(context.loaders.robotById, 'Robot', robotId);
      return context.events.follow('telemetryReported', robot.fleetId, robot.id, after);
    },
    resolve: freshEvent,
  },
};

const robotOf = (event: FleetEvent, _args: unknown, ctx: FleetContext) =>
  loadOrNotFound(ctx.loaders.robotById, 'Robot', event.robotId);

export const RobotEvent: TypeResolvers<FleetContext> = { robot: robotOf };

export const MissionEvent: TypeResolvers<FleetContext> = {
  mission: (event: FleetEvent, _args, ctx: FleetContext) =>
    loadOrNotFound(ctx.loaders.missionById, 'Mission', event.missionId ?? ''),
};

export const TelemetryEvent: TypeResolvers<FleetContext> = {
  robot: robotOf,
  /** The call's samples, read back by their time range (the event carries no values). */
  samples(event: FleetEvent, _args, ctx: FleetContext) {
    if (!event.sampleTime || !event.sampleCount) return [];
    const to = new Date(event.sampleTime);
    const from = new Date(event.sampleFrom ?? event.sampleTime);
    const limit = Math.min(event.sampleCount, MAX_TELEMETRY_LIMIT);
    return telemetryRepository.samplesOfRobot(ctx.db, event.robotId, from, to, limit);
  },
};
