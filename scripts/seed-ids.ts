/**
 * The seed's deterministic ids and scales, shared with tests and benchmarks so they can name
 * seeded entities (e.g. "organization 0's first fleet") without querying for them.
 */
import { createHash } from 'node:crypto';

export type SeedScale = 'tiny' | 'demo' | 'large';

export interface SeedShape {
  readonly organizations: number;
  readonly usersPerOrganization: number;
  readonly sessionsPerUser: number;
  readonly fleetsPerOrganization: number;
  readonly robotsPerFleet: number;
  readonly missionsPerRobot: number;
  readonly telemetryPerRobot: number;
  readonly telemetryDays: number;
}

export const SCALES: Readonly<Record<SeedScale, SeedShape>> = {
  // tiny: unit-sized, for quick manual checks.
  tiny: {
    organizations: 2,
    usersPerOrganization: 4,
    sessionsPerUser: 1,
    fleetsPerOrganization: 1,
    robotsPerFleet: 10,
    missionsPerRobot: 1,
    telemetryPerRobot: 4,
    telemetryDays: 1,
  },
  // demo (default): enough for the dashboard (a fleet of 120 robots) and every test.
  demo: {
    organizations: 3,
    usersPerOrganization: 12,
    sessionsPerUser: 3,
    fleetsPerOrganization: 2,
    robotsPerFleet: 120,
    missionsPerRobot: 3,
    telemetryPerRobot: 48,
    telemetryDays: 3,
  },
  // large: benchmarks. 100,000 robots, 2,000,000 telemetry rows.
  large: {
    organizations: 20,
    usersPerOrganization: 50,
    sessionsPerUser: 2,
    fleetsPerOrganization: 5,
    robotsPerFleet: 1000,
    missionsPerRobot: 2,
    telemetryPerRobot: 20,
    telemetryDays: 2,
  },
};

function uuidFrom(...parts: (string | number)[]): string {
  const hex = createHash('sha256').update(parts.join(':')).digest('hex');
  // Shaped as a version-4 uuid (variant 10xx) so it is a valid `uuid` everywhere.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const seedIds = {
  organization: (o: number) => uuidFrom('org', o),
  user: (o: number, u: number) => uuidFrom('user', o, u),
  session: (o: number, u: number, s: number) => uuidFrom('session', o, u, s),
  fleet: (o: number, f: number) => uuidFrom('fleet', o, f),
  robot: (o: number, f: number, r: number) => uuidFrom('robot', o, f, r),
  /** 6-byte node id for a robot's mission timeuuids, so they are deterministic too. */
  node: (o: number, f: number, r: number) =>
    Buffer.from(uuidFrom('node', o, f, r).replace(/-/g, '').slice(0, 12), 'hex'),
  clock: (m: number) => Buffer.from([0, m & 0xff]),
};

/** Well-known development identities (organization 0 unless said otherwise). */
export const DEMO_USERS = {
  admin: { organization: 0, index: 0, email: 'admin0@org0.example.com' },
  operator: { organization: 0, index: 1, email: 'operator1@org0.example.com' },
  viewer: { organization: 0, index: 2, email: 'viewer2@org0.example.com' },
  otherOrgAdmin: { organization: 1, index: 0, email: 'admin0@org1.example.com' },
} as const;
