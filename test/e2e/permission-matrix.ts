/**
 * The permission matrix: every query, every mutation and each sensitive field × the personas
 * the product has → the outcome a caller gets through the router. One data structure, used
 * twice: test/e2e/permissions.test.ts runs every cell end to end, and
 * scripts/permissions-doc.ts renders it as docs/permissions.md (test/unit checks the file is
 * up to date), so the documented policy is the tested one.
 */
import { seedIds } from '../../scripts/seed-ids.js';

export const PERSONAS = [
  { key: 'anonymous', label: 'anonymous' },
  { key: 'viewer', label: 'viewer' },
  { key: 'operator', label: 'operator' },
  { key: 'admin', label: 'admin' },
  { key: 'partnerRead', label: 'partner fleet:read + telemetry:read' },
  { key: 'partnerWrite', label: 'partner fleet:write + telemetry:write' },
  { key: 'partnerUsers', label: 'partner users:read' },
  { key: 'otherAdmin', label: 'admin of org 1' },
] as const;
export type Persona = (typeof PERSONAS)[number]['key'];

/**
 * - `allowed`: no error, and the value at the row's path is there (not null).
 * - `hidden`: no error, and the value is what an unknown id gives (null, or the row's
 *   `hiddenAs`): another tenant's object, or a field that is null for this kind of caller.
 * - `FORBIDDEN`, `UNAUTHENTICATED`, `NOT_FOUND`: the response carries errors, all with this
 *   code, and no value at the path.
 */
export type Outcome = 'allowed' | 'hidden' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'NOT_FOUND';

/** Objects the test creates for the matrix (organization 0), so mutations change only them. */
export interface Fixtures {
  /** Unique per run: serials and emails. */
  readonly runId: string;
  /** A fleet of organization 0 that only this test writes to. */
  readonly scratchFleet: string;
  /** Per persona: a robot of the scratch fleet for status, missions and telemetry. */
  readonly robotOf: Readonly<Record<Persona, string>>;
  /** Per persona: an IN_PROGRESS mission (of another scratch robot) to complete. */
  readonly missionOf: Readonly<Record<Persona, string>>;
  /** Any mission of organization 0 (to read). */
  readonly mission: string;
  /** A user of organization 0 created for the test: updateUser and setUserRoles change it. */
  readonly managedUser: string;
  /** Per persona: a user of organization 0 with two active sessions, for revokeAllSessions. */
  readonly sessionHolderOf: Readonly<Record<Persona, string>>;
  /** Per persona: two fresh sessions of the viewer (organization 0, user 2). */
  readonly viewerSessionsOf: Readonly<Record<Persona, { touch: string; revoke: string }>>;
}

export interface MatrixRow {
  /** The schema coordinate the row is about, e.g. `Query.robot` or `Robot.firmware`. */
  readonly subject: string;
  readonly kind: 'query' | 'mutation' | 'field';
  /** What is asked, in words (the target is organization 0's unless said). */
  readonly target: string;
  readonly document: string;
  readonly variables?: (fixtures: Fixtures, persona: Persona) => Record<string, unknown>;
  /** Where the subject's value is in `data`. */
  readonly path: readonly (string | number)[];
  /** What `hidden` looks like when it is not null (e.g. 0 sessions revoked). */
  readonly hiddenAs?: unknown;
  readonly expect: Readonly<Record<Persona, Outcome>>;
}

const A = 'allowed';
const H = 'hidden';
const F = 'FORBIDDEN';
const U = 'UNAUTHENTICATED';
const N = 'NOT_FOUND';

/** Outcomes in PERSONAS order: anonymous, viewer, operator, admin, pRead, pWrite, pUsers, other. */
function expect(...outcomes: Outcome[]): Record<Persona, Outcome> {
  if (outcomes.length !== PERSONAS.length) throw new Error('one outcome per persona');
  return Object.fromEntries(PERSONAS.map((p, i) => [p.key, outcomes[i]!])) as Record<
    Persona,
    Outcome
  >;
}

const ORG0 = seedIds.organization(0);
/** A viewer of organization 0 other than the personas. */
const COLLEAGUE = seedIds.user(0, 5);
/** An operator of organization 0 (operates seeded robots). */
const OPERATOR = seedIds.user(0, 1);
const FLEET = seedIds.fleet(0, 0);
const ROBOT = seedIds.robot(0, 0, 0);
/** A seeded session of the viewer persona (not the one their token carries). */
const VIEWER_SESSION = seedIds.session(0, 2, 1);
const DAY_MS = 86_400_000;

export const PERMISSION_MATRIX: readonly MatrixRow[] = [
  // ------------------------------------------------------------------------------- queries
  {
    subject: 'Query.__typename',
    kind: 'query',
    target: 'the only thing anonymous callers get',
    document: '{ __typename }',
    path: ['__typename'],
    expect: expect(A, A, A, A, A, A, A, A),
  },
  {
    subject: 'Query.me',
    kind: 'query',
    target: 'the caller themselves (null unless a user signed in)',
    document: '{ me { id } }',
    path: ['me'],
    expect: expect(H, A, A, A, H, H, H, A),
  },
  {
    subject: 'Query.user',
    kind: 'query',
    target: 'a colleague by id',
    document: `{ user(id: "${COLLEAGUE}") { id displayName } }`,
    path: ['user'],
    expect: expect(U, A, A, A, F, F, A, H),
  },
  {
    subject: 'Query.users',
    kind: 'query',
    target: 'colleagues by id (an element of the list)',
    document: `{ users(ids: ["${COLLEAGUE}"]) { id displayName } }`,
    path: ['users', 0],
    expect: expect(U, A, A, A, F, F, A, H),
  },
  {
    subject: 'Query.organization',
    kind: 'query',
    target: 'organization 0',
    document: `{ organization(id: "${ORG0}") { id name } }`,
    path: ['organization'],
    expect: expect(U, A, A, A, A, A, A, H),
  },
  {
    subject: 'Organization.users',
    kind: 'field',
    target: "organization 0's people",
    document: `{ organization(id: "${ORG0}") { users(first: 3) { nodes { id } } } }`,
    path: ['organization', 'users'],
    expect: expect(U, A, A, A, F, F, A, H),
  },
  {
    subject: 'Query.fleets',
    kind: 'query',
    target: "the caller's organization's fleets",
    document: '{ fleets { id } }',
    path: ['fleets'],
    expect: expect(U, A, A, A, A, A, F, A),
  },
  {
    subject: 'Query.fleet',
    kind: 'query',
    target: 'a fleet by id',
    document: `{ fleet(id: "${FLEET}") { id name } }`,
    path: ['fleet'],
    expect: expect(U, A, A, A, A, A, F, H),
  },
  {
    subject: 'Fleet.robots',
    kind: 'field',
    target: "a fleet's robots",
    document: `{ fleet(id: "${FLEET}") { robots(first: 3) { nodes { id status } } } }`,
    path: ['fleet', 'robots'],
    expect: expect(U, A, A, A, A, A, F, H),
  },
  {
    subject: 'Query.robot',
    kind: 'query',
    target: 'a robot by id',
    document: `{ robot(id: "${ROBOT}") { id serial status } }`,
    path: ['robot'],
    expect: expect(U, A, A, A, A, A, F, H),
  },
  {
    subject: 'Query.robots',
    kind: 'query',
    target: 'robots by id (an element of the list)',
    document: `{ robots(ids: ["${ROBOT}"]) { id } }`,
    path: ['robots', 0],
    expect: expect(U, A, A, A, A, A, F, H),
  },
  {
    subject: 'Query.mission',
    kind: 'query',
    target: 'a mission by id',
    document: 'query($id: ID!) { mission(id: $id) { id status } }',
    variables: (f) => ({ id: f.mission }),
    path: ['mission'],
    expect: expect(U, A, A, A, A, A, F, H),
  },
  {
    subject: 'Query.session',
    kind: 'query',
    target: "a session of the viewer's",
    document: `{ session(id: "${VIEWER_SESSION}") { id active } }`,
    path: ['session'],
    expect: expect(U, A, H, A, F, F, F, H),
  },
  {
    subject: 'Query.sessionValidity',
    kind: 'query',
    target: "the router's revocation check (services only)",
    document: `{ sessionValidity(id: "${VIEWER_SESSION}") { active } }`,
    path: ['sessionValidity'],
    expect: expect(U, F, F, F, F, F, F, F),
  },

  // ---------------------------------------------------------------------- sensitive fields
  {
    subject: 'User.email',
    kind: 'field',
    target: "a colleague's email",
    document: `{ user(id: "${COLLEAGUE}") { email } }`,
    path: ['user', 'email'],
    expect: expect(U, F, F, A, F, F, F, H),
  },
  {
    subject: 'User.email',
    kind: 'field',
    target: "the caller's own email (me)",
    document: '{ me { email } }',
    path: ['me', 'email'],
    expect: expect(H, A, A, A, H, H, H, A),
  },
  {
    subject: 'User.roles',
    kind: 'field',
    target: "a colleague's roles",
    document: `{ user(id: "${COLLEAGUE}") { roles } }`,
    path: ['user', 'roles'],
    expect: expect(U, A, A, A, F, F, F, H),
  },
  {
    subject: 'User.sessions',
    kind: 'field',
    target: "the caller's own sessions (me)",
    document: '{ me { sessions(first: 1) { nodes { id } } } }',
    path: ['me', 'sessions'],
    expect: expect(H, A, A, A, H, H, H, A),
  },
  {
    subject: 'User.sessions',
    kind: 'field',
    target: "a colleague's sessions",
    document: `{ user(id: "${COLLEAGUE}") { sessions(first: 1) { nodes { id } } } }`,
    path: ['user', 'sessions'],
    expect: expect(U, F, F, A, F, F, F, H),
  },
  {
    subject: 'User.activeSessionCount',
    kind: 'field',
    target: "a colleague's active session count",
    document: `{ user(id: "${COLLEAGUE}") { activeSessionCount } }`,
    path: ['user', 'activeSessionCount'],
    expect: expect(U, A, A, A, F, F, F, H),
  },
  {
    subject: 'Session.client',
    kind: 'field',
    target: "where the viewer's session signed in from",
    document: `{ session(id: "${VIEWER_SESSION}") { client { name ipAddress } } }`,
    path: ['session', 'client'],
    expect: expect(U, A, H, A, F, F, F, H),
  },
  {
    subject: 'User.operatedRobots',
    kind: 'field',
    target: "an operator's robots (users → fleet)",
    document: `{ user(id: "${OPERATOR}") { operatedRobots { id } } }`,
    path: ['user', 'operatedRobots'],
    expect: expect(U, A, A, A, F, F, F, H),
  },
  {
    subject: 'Robot.operator',
    kind: 'field',
    target: "a robot's operator's name (fleet → users)",
    document: `{ robot(id: "${ROBOT}") { operator { displayName } } }`,
    path: ['robot', 'operator'],
    expect: expect(U, A, A, A, F, F, F, H),
  },
  {
    subject: 'Robot.firmware',
    kind: 'field',
    target: "a robot's firmware version",
    document: `{ robot(id: "${ROBOT}") { firmware } }`,
    path: ['robot', 'firmware'],
    expect: expect(U, F, A, A, F, A, F, H),
  },
  {
    subject: 'Robot.position',
    kind: 'field',
    target: "a robot's last position",
    document: `{ robot(id: "${ROBOT}") { position { latitude longitude } } }`,
    path: ['robot', 'position'],
    expect: expect(U, A, A, A, A, A, F, H),
  },
  {
    subject: 'Robot.telemetry',
    kind: 'field',
    target: "a robot's telemetry",
    document:
      'query($id: ID!, $from: DateTime!, $to: DateTime!) { robot(id: $id) { telemetry(from: $from, to: $to, limit: 5) { recordedAt } } }',
    variables: () => ({
      id: ROBOT,
      from: new Date(Date.now() - 3 * DAY_MS).toISOString(),
      to: new Date().toISOString(),
    }),
    path: ['robot', 'telemetry'],
    expect: expect(U, A, A, A, A, A, F, H),
  },

  // ----------------------------------------------------------------------------- mutations
  {
    subject: 'Mutation.createUser',
    kind: 'mutation',
    target: 'a new user in organization 0',
    document: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id displayName } }',
    variables: (f, persona) => ({
      input: {
        organizationId: ORG0,
        email: `perm-${f.runId}-${persona}@example.com`,
        displayName: `Matrix ${persona}`,
        roles: ['VIEWER'],
      },
    }),
    path: ['createUser'],
    expect: expect(U, F, F, A, F, F, F, N),
  },
  {
    subject: 'Mutation.updateUser',
    kind: 'mutation',
    target: 'a user of organization 0 made for the test',
    document: 'mutation($input: UpdateUserInput!) { updateUser(input: $input) { id } }',
    variables: (f, persona) => ({ input: { id: f.managedUser, displayName: `By ${persona}` } }),
    path: ['updateUser'],
    expect: expect(U, F, F, A, F, F, F, N),
  },
  {
    subject: 'Mutation.setUserRoles',
    kind: 'mutation',
    target: 'a user of organization 0 made for the test',
    document: 'mutation($id: ID!) { setUserRoles(userId: $id, roles: [VIEWER]) { id roles } }',
    variables: (f) => ({ id: f.managedUser }),
    path: ['setUserRoles'],
    expect: expect(U, F, F, A, F, F, F, N),
  },
  {
    subject: 'Mutation.registerRobot',
    kind: 'mutation',
    target: 'a new robot in a fleet of organization 0',
    document: 'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }',
    variables: (f, persona) => ({
      input: { fleetId: f.scratchFleet, serial: `PERM-${f.runId}-${persona}`, model: 'AMR-200' },
    }),
    path: ['registerRobot'],
    expect: expect(U, F, F, A, F, A, F, N),
  },
  {
    subject: 'Mutation.updateRobotStatus',
    kind: 'mutation',
    target: 'a robot of organization 0 made for the test',
    document:
      'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: IDLE, batteryPercent: 80) { id status } }',
    variables: (f, persona) => ({ id: f.robotOf[persona] }),
    path: ['updateRobotStatus'],
    expect: expect(U, F, A, A, F, A, F, N),
  },
  {
    subject: 'Mutation.assignMission',
    kind: 'mutation',
    target: 'a robot of organization 0 made for the test (missions are assigned by people)',
    document:
      'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["matrix"] }) { id status } }',
    variables: (f, persona) => ({ id: f.robotOf[persona] }),
    path: ['assignMission'],
    expect: expect(U, F, A, A, F, F, F, N),
  },
  {
    subject: 'Mutation.completeMission',
    kind: 'mutation',
    target: 'a mission of organization 0 made for the test',
    document: 'mutation($id: ID!) { completeMission(missionId: $id) { id status } }',
    variables: (f, persona) => ({ id: f.missionOf[persona] }),
    path: ['completeMission'],
    expect: expect(U, F, A, A, F, A, F, N),
  },
  {
    subject: 'Mutation.reportTelemetry',
    kind: 'mutation',
    target: 'a robot of organization 0 made for the test',
    document:
      'mutation($id: ID!, $at: DateTime!) { reportTelemetry(robotId: $id, samples: [{ recordedAt: $at, batteryPercent: 50 }]) { accepted } }',
    variables: (f, persona) => ({ id: f.robotOf[persona], at: new Date().toISOString() }),
    path: ['reportTelemetry'],
    expect: expect(U, F, A, A, F, A, F, N),
  },
  {
    subject: 'Mutation.startSession',
    kind: 'mutation',
    target: 'a session (the auth service starts them)',
    document: 'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
    variables: (f, persona) => ({
      input: { userId: f.sessionHolderOf[persona], organizationId: ORG0, ttlSeconds: 60 },
    }),
    path: ['startSession'],
    expect: expect(U, F, F, F, F, F, F, F),
  },
  {
    subject: 'Mutation.touchSession',
    kind: 'mutation',
    target: "a session of the viewer's",
    document: 'mutation($id: ID!) { touchSession(id: $id) { id } }',
    variables: (f, persona) => ({ id: f.viewerSessionsOf[persona].touch }),
    path: ['touchSession'],
    expect: expect(U, A, N, A, F, F, F, N),
  },
  {
    subject: 'Mutation.revokeSession',
    kind: 'mutation',
    target: "a session of the viewer's",
    document: 'mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }',
    variables: (f, persona) => ({ id: f.viewerSessionsOf[persona].revoke }),
    path: ['revokeSession'],
    expect: expect(U, A, N, A, F, F, F, N),
  },
  {
    subject: 'Mutation.revokeAllSessions',
    kind: 'mutation',
    target: 'every session of another user of organization 0',
    document: 'mutation($id: ID!) { revokeAllSessions(userId: $id) }',
    variables: (f, persona) => ({ id: f.sessionHolderOf[persona] }),
    path: ['revokeAllSessions'],
    hiddenAs: 0,
    expect: expect(U, F, F, A, F, F, F, H),
  },
];
