/**
 * fleet subgraph: who may read and change what — data only; the rules live in
 * kit/authz/rules.ts, the wiring in kit/authz/shield.ts, the policy in
 * docs/authorization.md.
 *
 * - Root fields and sensitive fields have rules (graphql-shield, applied to these fields only).
 * - Every other field is covered by its type's object-level check: fleets, robots and missions
 *   of another organization are null (as if unknown), checked once per object in the loaders
 *   (every row carries organization_id) and in `__resolveReference` (context.ts, resolvers.ts).
 */
import type { PermissionMap } from '../kit/authz/coverage.js';
import { entity, valueOf, type ObjectChecks } from '../kit/authz/objects.js';
import { and, audienceRule, hasRole, type Audience } from '../kit/authz/rules.js';
import type { FleetModel } from './repository/fleets.js';
import type { MissionModel } from './repository/missions.js';
import type { RobotModel } from './repository/robots.js';

/** Fleets, robots and missions: the organization's users and partner keys with fleet:read. */
export const FLEET_READERS: Audience = { users: 'viewer', scopes: ['fleet:read'] };
/** Where robots are and have been: the organization's users and telemetry:read keys. */
export const TELEMETRY_READERS: Audience = { users: 'viewer', scopes: ['telemetry:read'] };

export const fleetCheck = entity<FleetModel>({
  readers: FLEET_READERS,
  tenantOf: (fleet) => fleet.organizationId,
  description: "fleets_by_id's organization_id (fleetById loader, Fleet.__resolveReference)",
});

export const robotCheck = entity<RobotModel>({
  readers: FLEET_READERS,
  tenantOf: (robot) => robot.organizationId,
  description: "robots_by_id's organization_id (robotById loader, Robot.__resolveReference)",
});

export const missionCheck = entity<MissionModel>({
  readers: FLEET_READERS,
  tenantOf: (mission) => mission.organizationId,
  description: "missions_by_id's organization_id (missionById loader, Mission.__resolveReference)",
});

/** Organization as this subgraph knows it: its key, which is the tenant itself. */
export const organizationCheck = entity<{ id: string }>({
  readers: FLEET_READERS,
  tenantOf: (organization) => organization.id,
  description: 'the key is the tenant (Organization.__resolveReference)',
});

/** User as this subgraph knows it: only its key; operatedRobots lists through robotById. */
export const operatorCheck = entity<{ id: string }>({
  readers: FLEET_READERS,
  description:
    'a key-only stub: operatedRobots loads robots through the tenant-checked robotById loader',
});

export const fleetObjectChecks: ObjectChecks = {
  Fleet: fleetCheck,
  Robot: robotCheck,
  Mission: missionCheck,
  Organization: organizationCheck,
  User: operatorCheck,
  RobotConnection: valueOf('Fleet.robots'),
  MissionConnection: valueOf('Robot.missions'),
  PageInfo: valueOf('RobotConnection.pageInfo', 'MissionConnection.pageInfo'),
  Position: valueOf('Robot.position'),
  TelemetrySample: valueOf('Robot.telemetry', 'TelemetryEvent.samples'),
  ReportTelemetryResult: valueOf('Mutation.reportTelemetry'),
  // Change events: ids and a kind, produced by ruled root fields; what they name (robot,
  // mission) is loaded through the tenant-scoped loaders (resolvers/events.ts).
  RobotEvent: valueOf('Query.robotEvent', 'Subscription.robotChanged'),
  MissionEvent: valueOf('Query.missionEvent', 'Subscription.missionChanged'),
  TelemetryEvent: valueOf('Query.telemetryEvent', 'Subscription.telemetryReported'),
};

/** Operators (and admins) of the organization, or partner keys with `scope`. */
const operatorsOr = (scope: 'fleet:write' | 'telemetry:write') =>
  audienceRule({ users: 'operator', scopes: [scope] });

/**
 * Telemetry events: when a robot reports is telemetry (telemetry:read), and each event names
 * its robot (fleet:read). Users: viewers; partner keys: both scopes.
 */
const fleetAndTelemetryReaders = and(audienceRule(FLEET_READERS), audienceRule(TELEMETRY_READERS));

export const fleetPermissions: PermissionMap = {
  // Query._service and Query._entities are added by the kit (kit/authz/federation.ts).
  'Query.fleet': audienceRule(FLEET_READERS),
  'Query.fleets': audienceRule(FLEET_READERS),
  'Query.robot': audienceRule(FLEET_READERS),
  'Query.robots': audienceRule(FLEET_READERS),
  'Query.mission': audienceRule(FLEET_READERS),
  // The event fields the router answers subscription events through, and the subscriptions
  // themselves: the audience of what they deliver. A subscription's rule runs per event (it
  // wraps `resolve`); its `subscribe` admits the same audience before opening the stream
  // (resolvers/events.ts).
  'Query.robotEvent': audienceRule(FLEET_READERS),
  'Query.missionEvent': audienceRule(FLEET_READERS),
  'Query.telemetryEvent': fleetAndTelemetryReaders,
  'Subscription.robotChanged': audienceRule(FLEET_READERS),
  'Subscription.missionChanged': audienceRule(FLEET_READERS),
  'Subscription.telemetryReported': fleetAndTelemetryReaders,

  // Writes, each only on objects of the caller's organization (another organization's fleet,
  // robot or mission is NOT_FOUND, as if unknown).
  'Mutation.registerRobot': audienceRule({ users: 'admin', scopes: ['fleet:write'] }),
  'Mutation.updateRobotStatus': operatorsOr('fleet:write'),
  // Missions record the person who assigned them (Mission.createdBy: User!): users only.
  'Mutation.assignMission': hasRole('operator'),
  'Mutation.completeMission': operatorsOr('fleet:write'),
  'Mutation.reportTelemetry': operatorsOr('telemetry:write'),

  // Sensitive: a firmware version tells an attacker which known vulnerabilities apply —
  // operators, who maintain robots, and partner keys that manage them.
  'Robot.firmware': operatorsOr('fleet:write'),
  // Sensitive: where robots are and have been (site security) — telemetry readers only.
  'Robot.telemetry': audienceRule(TELEMETRY_READERS),
  'Robot.position': audienceRule(TELEMETRY_READERS),
  // Sensitive like Robot.telemetry: the same samples, delivered as they are recorded.
  'TelemetryEvent.samples': audienceRule(TELEMETRY_READERS),
};
