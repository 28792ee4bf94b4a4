/**
 * The product's operations, as the benchmark sends them over the real stack (subgraphs over
 * Cassandra), each as {@link RequestSource}s that rotate identities and variables per request.
 *
 * Data: the seeded organization 0 of the benchmark's keyspace. Reads use its fleets and users;
 * writes go to its *last* fleet — never fleet (0, 0), whose robots and statuses tests count in
 * the development keyspace (and which the bench keeps read-only in its own keyspace too).
 */
import { readFileSync } from 'node:fs';
import { SCALES, seedIds, type SeedScale } from '../scripts/seed-ids.js';
import type { PartnerKeys, TokenPool } from './lib/identities.js';
import type { RequestSource } from './lib/load.js';
import type { TargetId } from './lib/results.js';

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** What the scenario exercises, for the Markdown report. */
  readonly description: string;
  readonly targets: readonly TargetId[];
  readonly sources: readonly RequestSource[];
}

export interface ScenarioInputs {
  readonly scale: SeedScale;
  readonly tokens: TokenPool;
  readonly partner: PartnerKeys;
}

const DAY_MS = 86_400_000;
export const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'] as const;

export const DASHBOARD = readFileSync(
  new URL('../schema/operations/fleet-console/FleetDashboard.graphql', import.meta.url),
  'utf8',
);

const ROBOT_DETAIL = `query RobotDetail($id: ID!, $from: DateTime!, $to: DateTime!) {
  robot(id: $id) {
    id serial model status batteryPercent firmware lastHeartbeatAt registeredAt
    position { latitude longitude heading }
    fleet { id name }
    operator { id displayName }
    currentMission { id status createdAt steps }
    telemetry(from: $from, to: $to, limit: 100) {
      recordedAt batteryPercent latitude longitude speedMps temperatureC status
    }
    missions(first: 10) { nodes { id status createdAt completedAt } pageInfo { hasNextPage endCursor } }
  }
}`;

const USER_PROFILE = `query UserProfile($id: ID!) {
  user(id: $id) {
    id displayName email
    organization { id name }
    sessions(first: 10) { nodes { id createdAt } }
    activeSessionCount
  }
}`;

const PARTNER_ROBOTS = `query PartnerRobots($ids: [ID!]!) {
  robots(ids: $ids) { id serial status batteryPercent }
}`;

export const UPDATE_STATUS = `mutation UpdateRobotStatus($robotId: ID!, $status: RobotStatus!, $battery: Float) {
  updateRobotStatus(robotId: $robotId, status: $status, batteryPercent: $battery) { id status batteryPercent }
}`;

export const REPORT_TELEMETRY = `mutation ReportTelemetry($robotId: ID!, $samples: [TelemetrySampleInput!]!) {
  reportTelemetry(robotId: $robotId, samples: $samples) { accepted }
}`;

const READ_TARGETS: readonly TargetId[] = [
  'router',
  'router-stock-executor',
  'router-cache',
  'bare-gateway',
  'bare-http',
];
const WRITE_TARGETS: readonly TargetId[] = [
  'router',
  'router-stock-executor',
  'bare-gateway',
  'bare-http',
];

function bearer(tokens: TokenPool): Record<string, string> {
  return { authorization: `Bearer ${tokens.next()}` };
}

/** Rotates through `values` (so consecutive requests ask for different entities). */
function rotation<T>(values: readonly T[]): () => T {
  let index = 0;
  return () => values[index++ % values.length]!;
}

export function realStackScenarios(inputs: ScenarioInputs): Scenario[] {
  const shape = SCALES[inputs.scale];
  const organization = 0;
  const robotsOf = (fleet: number) =>
    Array.from({ length: shape.robotsPerFleet }, (_, r) => seedIds.robot(organization, fleet, r));
  const readRobots = Array.from({ length: shape.fleetsPerOrganization }, (_, f) =>
    robotsOf(f),
  ).flat();
  const writeFleet = shape.fleetsPerOrganization - 1;
  if (writeFleet === 0) throw new Error('the write mix needs a second fleet besides fleet (0, 0)');
  const writeRobots = robotsOf(writeFleet);
  const users = Array.from({ length: shape.usersPerOrganization }, (_, u) =>
    seedIds.user(organization, u),
  );
  // A fixed window (so a request's bytes depend only on the robot): the seed's telemetry spans
  // the last `telemetryDays` UTC days.
  const to = new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS).toISOString();
  const from = new Date(Date.parse(to) - (shape.telemetryDays + 1) * DAY_MS).toISOString();

  const dashboardBody = JSON.stringify({
    query: DASHBOARD,
    operationName: 'FleetDashboard',
    variables: { fleetId: seedIds.fleet(organization, 0), first: 100 },
  });
  const nextReadRobot = rotation(readRobots);
  const nextUser = rotation(users);
  // Windows of 100 consecutive robot ids, each request starting 37 further on.
  let batchStart = 0;
  const nextBatch = () => {
    const ids = Array.from(
      { length: 100 },
      (_, i) => readRobots[(batchStart + i) % readRobots.length]!,
    );
    batchStart = (batchStart + 37) % readRobots.length;
    return ids;
  };
  const nextWriteRobot = rotation(writeRobots);
  const nextStatus = rotation(STATUSES);
  let writes = 0;

  return [
    {
      id: 'dashboard',
      title: 'Fleet dashboard',
      description:
        'FleetDashboard.graphql for fleet (0, 0), first: 100: robots (fleet) → operator (users) → activeSessionCount (sessions) and currentMission (fleet).',
      targets: [
        'router',
        'router-stock-executor',
        'router-cache',
        'router-naive',
        'bare-gateway',
        'bare-http',
      ],
      sources: [
        {
          responseKey: 'dashboard',
          next: () => ({ headers: bearer(inputs.tokens), body: dashboardBody }),
        },
      ],
    },
    {
      id: 'robot-detail',
      title: 'Robot detail with telemetry',
      description: `robot(id) with position, fleet, operator, current mission, telemetry(from, to, limit: 100) and missions(first: 10); ${readRobots.length} robots in rotation.`,
      targets: READ_TARGETS,
      sources: [
        {
          responseKey: 'robot-detail',
          next: () => ({
            headers: bearer(inputs.tokens),
            body: JSON.stringify({
              query: ROBOT_DETAIL,
              operationName: 'RobotDetail',
              variables: { id: nextReadRobot(), from, to },
            }),
          }),
        },
      ],
    },
    {
      id: 'user-profile',
      title: 'User profile with sessions',
      description: `user(id) { displayName email organization { name } sessions(first: 10) activeSessionCount } over the organization's ${users.length} seeded users, each request from a distinct caller.`,
      targets: READ_TARGETS,
      sources: [
        {
          responseKey: 'user-profile',
          next: () => ({
            headers: bearer(inputs.tokens),
            body: JSON.stringify({
              query: USER_PROFILE,
              operationName: 'UserProfile',
              variables: { id: nextUser() },
            }),
          }),
        },
      ],
    },
    {
      id: 'partner-batch',
      title: 'Partner batch lookup (100 robots)',
      description: `robots(ids: [100 ids]) { id serial status batteryPercent } with partner API keys (scopes fleet:read, telemetry:read; ${inputs.partner.tokens.length} keys in rotation).`,
      targets: READ_TARGETS,
      sources: [
        {
          responseKey: 'partner-batch',
          next: () => ({
            headers: { 'x-api-key': inputs.partner.next() },
            body: JSON.stringify({
              query: PARTNER_ROBOTS,
              operationName: 'PartnerRobots',
              variables: { ids: nextBatch() },
            }),
          }),
        },
      ],
    },
    {
      id: 'write-mix',
      title: 'Write mix',
      description: `Alternating updateRobotStatus and reportTelemetry (20 samples) on the ${writeRobots.length} robots of fleet (0, ${writeFleet}).`,
      targets: WRITE_TARGETS,
      sources: [
        {
          responseKey: 'write-status',
          next: () => ({
            headers: bearer(inputs.tokens),
            body: JSON.stringify({
              query: UPDATE_STATUS,
              operationName: 'UpdateRobotStatus',
              variables: {
                robotId: nextWriteRobot(),
                status: nextStatus(),
                battery: (writes++ % 1000) / 10,
              },
            }),
          }),
        },
        {
          responseKey: 'write-telemetry',
          next: () => {
            const now = Date.now();
            const samples = Array.from({ length: 20 }, (_, i) => ({
              recordedAt: new Date(now - (20 - i) * 1000).toISOString(),
              batteryPercent: 50 + (i % 10),
              latitude: 52.5 + i / 10_000,
              longitude: 13.4 + i / 10_000,
              speedMps: (i % 5) / 2,
              temperatureC: 25 + (i % 3),
              status: 'ACTIVE',
            }));
            return {
              headers: bearer(inputs.tokens),
              body: JSON.stringify({
                query: REPORT_TELEMETRY,
                operationName: 'ReportTelemetry',
                variables: { robotId: nextWriteRobot(), samples },
              }),
            };
          },
        },
      ],
    },
  ];
}
