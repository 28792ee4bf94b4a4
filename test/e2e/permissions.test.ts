import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiKeyStore } from '../../router/auth/apiKeys.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { BUCKET_COUNT, utcDay } from '../../platform/cassandra/buckets.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { ADMIN_OF_ORG0, AUTH_SERVICE } from '../support/subgraphs.js';
import {
  PERMISSION_MATRIX,
  PERSONAS,
  type Fixtures,
  type MatrixRow,
  type Outcome,
  type Persona,
} from './permission-matrix.js';

const ORG0 = seedIds.organization(0);
const BUCKETS = Array.from({ length: BUCKET_COUNT }, (_, i) => i);
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'];
const DAY_MS = 86_400_000;
/** Sessions made for the test end by themselves shortly after it. */
const FIXTURE_SESSION_TTL = 300;

type Credentials = { token?: string; apiKey?: string };

/** The value at `path` in `data`; null when an object on the way is null, undefined if absent. */
function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let value: unknown = data;
  for (const key of path) {
    if (value === null || value === undefined) return value === undefined ? undefined : null;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** What a response amounts to, in the matrix's terms (or a description of what else it was). */
function observe(
  body: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] },
  row: MatrixRow,
): Outcome | string {
  const value = valueAt(body.data ?? null, row.path);
  const errors = body.errors ?? [];
  if (errors.length === 0) {
    if (value === undefined) return 'no value and no error';
    if (JSON.stringify(value) === JSON.stringify(row.hiddenAs ?? null)) return 'hidden';
    return 'allowed';
  }
  const codes = [...new Set(errors.map((error) => String(error.extensions?.['code'])))];
  if (codes.length !== 1) return `errors with codes ${codes.join(', ')}`;
  if (value !== null && value !== undefined) return `${codes[0]} next to a value`;
  return codes[0]!;
}

describe('authorization through the router: the permission matrix, end to end', () => {
  let federation: Federation;
  const credentials = {} as Record<Persona, Credentials>;
  let fixtures: Fixtures;
  const scratchFleet = randomUUID();
  const createdUsers: { id: string; email: string }[] = [];

  const cql = (query: string, params: unknown[] = []) =>
    federation.cassandra.execute(query, params, { prepare: true });

  /** A direct call to a subgraph as organization 0's admin or the auth service (set-up only). */
  async function setUp<T>(
    subgraph: 'users' | 'sessions' | 'fleet',
    query: string,
    variables: Record<string, unknown>,
    identity = ADMIN_OF_ORG0,
  ): Promise<T> {
    const { body } = await federation.subgraphs[subgraph].request<T>(query, variables, identity);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!;
  }

  async function scratchRobot(label: string): Promise<string> {
    const data = await setUp<{ registerRobot: { id: string } }>(
      'fleet',
      'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }',
      {
        input: { fleetId: scratchFleet, serial: `PERM-${randomUUID()}-${label}`, model: 'AMR-200' },
      },
    );
    return data.registerRobot.id;
  }

  async function missionOn(robotId: string): Promise<string> {
    const data = await setUp<{ assignMission: { id: string } }>(
      'fleet',
      'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["matrix fixture"] }) { id } }',
      { id: robotId },
    );
    return data.assignMission.id;
  }

  async function startSession(userId: string): Promise<string> {
    const data = await setUp<{ startSession: { id: string } }>(
      'sessions',
      'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
      {
        input: {
          userId,
          organizationId: ORG0,
          ttlSeconds: FIXTURE_SESSION_TTL,
          clientName: 'matrix',
        },
      },
      AUTH_SERVICE,
    );
    return data.startSession.id;
  }

  before(async () => {
    federation = await startFederation({
      // Every request must execute (the cache has its own tests), and no persona may be
      // slowed down by its rate-limit class.
      RESPONSE_CACHE: 'false',
      RATE_LIMITS:
        'user=100000,anonymous=100000,partner-standard=100000,partner-premium=100000,partner-trial=100000',
    });
    const config = federation.config;
    const apiKeys = new ApiKeyStore(federation.cassandra);
    const partner = async (scopes: string[]) =>
      (
        await apiKeys.create({
          organizationId: ORG0,
          name: `permission matrix ${scopes.join(' ')}`,
          scopes,
          rateClass: 'partner-standard',
          expiresAt: null,
        })
      ).token;
    Object.assign(credentials, {
      anonymous: {},
      viewer: { token: await tokenFor(config, 0, 2, ['viewer']) },
      operator: { token: await tokenFor(config, 0, 1, ['operator', 'viewer']) },
      admin: { token: await tokenFor(config, 0, 0) },
      partnerRead: { apiKey: await partner(['fleet:read', 'telemetry:read']) },
      partnerWrite: { apiKey: await partner(['fleet:write', 'telemetry:write']) },
      partnerUsers: { apiKey: await partner(['users:read']) },
      otherAdmin: { token: await tokenFor(config, 1, 0) },
    } satisfies Record<Persona, Credentials>);

    await cql(
      'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [scratchFleet, ORG0, 'Permission matrix', 'Test warehouse', 'UTC', new Date()],
    );
    await cql(
      'INSERT INTO fleets_by_organization (organization_id, fleet_id, name) VALUES (?, ?, ?)',
      [ORG0, scratchFleet, 'Permission matrix'],
    );
    const runId = randomUUID().slice(0, 8);
    const managedEmail = `perm-${runId}-managed@example.com`;
    const managed = await setUp<{ createUser: { id: string } }>(
      'users',
      'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      {
        input: {
          organizationId: ORG0,
          email: managedEmail,
          displayName: 'Managed',
          roles: ['VIEWER'],
        },
      },
    );
    createdUsers.push({ id: managed.createUser.id, email: managedEmail });

    const perPersona = async <T>(make: (persona: Persona) => Promise<T>) => {
      const entries: [Persona, T][] = [];
      for (const { key } of PERSONAS) entries.push([key, await make(key)]);
      return Object.fromEntries(entries) as Record<Persona, T>;
    };
    fixtures = {
      runId,
      scratchFleet,
      robotOf: await perPersona((persona) => scratchRobot(persona)),
      missionOf: await perPersona(async (persona) => missionOn(await scratchRobot(persona))),
      mission: await missionOn(await scratchRobot('read')),
      managedUser: managed.createUser.id,
      sessionHolderOf: await perPersona(async () => {
        const userId = randomUUID();
        await startSession(userId);
        await startSession(userId);
        return userId;
      }),
      viewerSessionsOf: await perPersona(async () => ({
        touch: await startSession(seedIds.user(0, 2)),
        revoke: await startSession(seedIds.user(0, 2)),
      })),
    };
  });

  after(async () => {
    if (!federation) return;
    // Everything the matrix and its set-up wrote: the scratch fleet's robots (with their
    // missions, telemetry and serials), the fleet, and the users made here.
    const robots = await cql(
      'SELECT robot_id FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?',
      [scratchFleet, BUCKETS],
    );
    const year = new Date().getUTCFullYear();
    const days = [0, 1].map((d) => utcDay(new Date(Date.now() - d * DAY_MS)));
    for (const row of robots.rows) {
      const robotId = String(row['robot_id']);
      const robot = (
        await cql('SELECT serial FROM robots_by_id WHERE robot_id = ?', [robotId])
      ).first();
      const missions = await cql(
        'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
        [robotId, year],
      );
      for (const mission of missions.rows)
        await cql('DELETE FROM missions_by_id WHERE mission_id = ?', [mission['mission_id']]);
      await cql('DELETE FROM missions_by_robot WHERE robot_id = ? AND year = ?', [robotId, year]);
      await cql('DELETE FROM telemetry_by_robot_day WHERE robot_id = ? AND day IN ?', [
        robotId,
        days,
      ]);
      if (robot) await cql('DELETE FROM robots_by_serial WHERE serial = ?', [robot['serial']]);
      await cql('DELETE FROM robots_by_id WHERE robot_id = ?', [robotId]);
    }
    await cql('DELETE FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [
      scratchFleet,
      BUCKETS,
    ]);
    await cql('DELETE FROM robots_by_fleet_page WHERE fleet_id = ?', [scratchFleet]);
    for (const status of STATUSES)
      await cql(
        'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?',
        [scratchFleet, status, BUCKETS],
      );
    await cql('DELETE FROM fleets_by_organization WHERE organization_id = ? AND fleet_id = ?', [
      ORG0,
      scratchFleet,
    ]);
    await cql('DELETE FROM fleets_by_id WHERE fleet_id = ?', [scratchFleet]);
    for (const user of createdUsers) {
      await cql('DELETE FROM users_by_id WHERE user_id = ?', [user.id]);
      await cql('DELETE FROM users_by_email WHERE email = ?', [user.email]);
      const buckets = await cql(
        'SELECT bucket FROM users_by_organization WHERE organization_id = ? AND bucket IN ? AND user_id = ?',
        [ORG0, BUCKETS, user.id],
      );
      for (const bucket of buckets.rows)
        await cql(
          'DELETE FROM users_by_organization WHERE organization_id = ? AND bucket = ? AND user_id = ?',
          [ORG0, bucket['bucket'], user.id],
        );
    }
    await federation.close();
  });

  for (const row of PERMISSION_MATRIX) {
    it(`${row.subject} (${row.target}): every persona gets the outcome the matrix says`, async () => {
      const mismatches: string[] = [];
      for (const { key: persona } of PERSONAS) {
        const variables = row.variables?.(fixtures, persona) ?? {};
        const { status, body } = await federation.query(
          row.document,
          variables,
          credentials[persona],
        );
        assert.equal(status, 200, `${persona}: ${JSON.stringify(body)}`);
        const observed = observe(body, row);
        if (observed !== row.expect[persona])
          mismatches.push(
            `${persona}: expected ${row.expect[persona]}, got ${observed} ${JSON.stringify(body)}`,
          );
        if (row.subject === 'Mutation.createUser' && observed === 'allowed') {
          const input = variables['input'] as { email: string };
          const created = valueAt(body.data, ['createUser', 'id']) as string;
          createdUsers.push({ id: created, email: input.email });
        }
      }
      assert.deepEqual(mismatches, []);
    });
  }

  it("when an admin of organization 1 lists fleets, then only organization 1's come back", async () => {
    const { body } = await federation.query<{ fleets: { id: string }[] }>(
      '{ fleets { id } }',
      {},
      credentials.otherAdmin,
    );
    assert.equal(body.errors, undefined);
    assert.deepEqual(
      body.data!.fleets.map((fleet) => fleet.id).sort(),
      [seedIds.fleet(1, 0), seedIds.fleet(1, 1)].sort(),
    );
  });

  it('when a denial happens, then the message says nothing about the object', async () => {
    const unknown = randomUUID();
    // Another organization's robot and an unknown id answer alike, to a query and a mutation.
    const other = credentials.otherAdmin;
    const robot = seedIds.robot(0, 0, 0);
    const query = 'query($id: ID!) { robot(id: $id) { id } }';
    const known = await federation.query(query, { id: robot }, other);
    const missing = await federation.query(query, { id: unknown }, other);
    assert.deepEqual(known.body, missing.body);
    const mutation = 'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: IDLE) { id } }';
    const changed = await federation.query(mutation, { id: robot }, other);
    const nothing = await federation.query(mutation, { id: unknown }, other);
    assert.equal(changed.body.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    assert.equal(
      changed.body.errors?.[0]?.message.replace(robot, '<id>'),
      nothing.body.errors?.[0]?.message.replace(unknown, '<id>'),
    );
    // A refusal by role is a FORBIDDEN without any detail.
    const refused = await federation.query(mutation, { id: robot }, credentials.viewer);
    assert.equal(refused.body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    assert.equal(refused.body.errors?.[0]?.message, 'Not allowed');
  });
});

describe('authorization and the router response cache', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation();
  });
  after(() => federation?.close());

  it("when a viewer's own email is served and cached, then another viewer asking the same never receives it", async () => {
    // The answer depends on who exactly asks (isSelf), not only on organization and roles,
    // which the cache keys shared entries by: the rule marks the response PRIVATE.
    const self = seedIds.user(0, 2);
    const alias = `u${randomUUID().replace(/-/g, '')}`;
    const query = `{ ${alias}: user(id: "${self}") { id email } }`;
    const owner = { token: await tokenFor(federation.config, 0, 2, ['viewer']) };
    const colleague = { token: await tokenFor(federation.config, 0, 5, ['viewer']) };
    for (let i = 0; i < 3; i++) {
      const own = await federation.query<Record<string, { email: string }>>(query, {}, owner);
      assert.equal(own.body.errors, undefined);
      assert.equal(own.body.data?.[alias]?.email, 'viewer2@org0.example.com');
      const other = await federation.query(query, {}, colleague);
      assert.equal(other.body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
      assert.equal(JSON.stringify(other.body).includes('viewer2@org0.example.com'), false);
    }
  });
});
