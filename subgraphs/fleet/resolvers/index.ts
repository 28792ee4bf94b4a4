/**
 * fleet subgraph resolvers, one file per GraphQL type: thin — validate arguments, then call a
 * loader or the repository. Every by-id field and every entity reference goes through a
 * per-request DataLoader.
 *
 * Authorization: root and sensitive fields have rules (permissions.ts); fleets, robots and
 * missions are checked once per object — in the tenant-scoped loaders (another organization's
 * is null, as if unknown; so a mutation on it is NOT_FOUND) and in `__resolveReference`, which
 * graphql-shield never wraps.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { DateTimeScalar } from '../../kit/scalars.js';
import type { FleetContext } from '../context.js';
import { MissionEvent, RobotEvent, Subscription, TelemetryEvent } from './events.js';
import { Fleet } from './fleet.js';
import { Mission } from './mission.js';
import { Mutation } from './mutation.js';
import { Organization } from './organization.js';
import { Query } from './query.js';
import { Robot } from './robot.js';
import { User } from './user.js';

export const fleetResolvers: GraphQLResolverMap<FleetContext> = {
  DateTime: DateTimeScalar,
  Query,
  Mutation,
  Subscription,
  Fleet,
  Organization,
  Robot,
  Mission,
  User,
  RobotEvent,
  MissionEvent,
  TelemetryEvent,
};
