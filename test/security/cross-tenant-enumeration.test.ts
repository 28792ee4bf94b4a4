/**
 * Security issue 16, item 6f: createUser/updateUser/registerRobot revealed that an email or a
 * serial existed in another tenant. Emails and serials were claimed in global tables, so an
 * admin of organization B asking for organization A's email or serial got CONFLICT ("already
 * used by another user", "already registered") where a free value succeeded: an oracle for who
 * is a user of which customer and which serials a competitor operates, and a way to squat A's
 * serials before A registered them.
 *
 * The fix scopes both to the organization (kit/cassandra/uniqueClaim.ts, migration 006): B's
 * answer for A's value is the answer for a free value — the object is created, in B, with
 * nothing of A in it — and A's rows are untouched. A duplicate inside the caller's own
 * organization is still a clear CONFLICT that writes nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { bucketOf } from '../../platform/cassandra/buckets.js';
import { seedIds } from '../../scripts/seed-ids.js';
import {
  startFederation,
  tokenFor,
  type Federation,
  type GraphQLResponse,
} from '../support/federation.js';

const A = seedIds.organization(0);
const B = seedIds.organization(1);
const RUN = randomUUID().slice(0, 8);
const EVERY_ROLE = ['admin', 'operator', 'viewer'];
const HIGH_LIMITS =
  'user=1000000,anonymous=1000000,partner-standard=1000000,partner-premium=1000000,partner-trial=1000000';

const CREATE_USER =
  'mutation($input: CreateUserInput!) { createUser(input: $input) { id email displayName organization { id } } }';
const UPDATE_USER =
  'mutation($input: UpdateUserInput!) { updateUser(input: $input) { id email organization { id } } }';
const REGISTER_ROBOT =
  'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id serial fleet { id } } }';

type Data = Record<string, Record<string, unknown> | null>;

/** What a caller can compare between two answers: codes, messages and the shape of data. */
function shapeOf(response: GraphQLResponse<Data>): unknown {
  const { data, errors } = response.body;
  return {
    status: response.status,
    errors: errors?.map((e) => ({ code: e.extensions?.['code'], message: e.message })),
    data:
      data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v && Object.keys(v)])),
  };
}

describe('uniqueness conflicts reveal nothing about other organizations (issue 16, 6f)', () => {
  let federation: Federation;
  const as: { a: string; b: string } = { a: '', b: '' };
  const fleets = { a: randomUUID(), b: randomUUID() };
  const users: { id: string; org: string; email: string }[] = [];
  const robots: { id: string; org: string; fleet: string; serial: string }[] = [];

  const cql = (query: string, params: unknown[]) =>
    federation.cassandra.execute(query, params, { prepare: true });

  async function createUser(who: 'a' | 'b', email: string) {
    const org = who === 'a' ? A : B;
    const input = { organizationId: org, email, displayName: `Enumeration ${RUN}` };
    const response = await federation.query<Data>(CREATE_USER, { input }, { token: as[who] });
    const id = response.body.data?.['createUser']?.['id'];
    if (typeof id === 'string') users.push({ id, org, email });
    return response;
  }

  async function registerRobot(who: 'a' | 'b', serial: string) {
    const fleet = fleets[who];
    const input = { fleetId: fleet, serial, model: 'AMR-200' };
    const response = await federation.query<Data>(REGISTER_ROBOT, { input }, { token: as[who] });
    const id = response.body.data?.['registerRobot']?.['id'];
    if (typeof id === 'string') robots.push({ id, org: who === 'a' ? A : B, fleet, serial });
    return response;
  }

  /** Every row of A's user or robot that a claim by B could have touched. */
  async function rowsOfA(kind: 'user' | 'robot', value: string): Promise<string> {
    const owned = kind === 'user' ? users : robots;
    const mine = owned.find((o) => o.org === A && ('email' in o ? o.email : o.serial) === value)!;
    const [table, column] =
      kind === 'user' ? ['users_by_id', 'user_id'] : ['robots_by_id', 'robot_id'];
    return JSON.stringify(
      (await cql(`SELECT * FROM ${table} WHERE ${column} = ?`, [mine.id])).rows,
    );
  }

  before(async () => {
    federation = await startFederation({ RATE_LIMITS: HIGH_LIMITS });
    as.a = await tokenFor(federation.config, 0, 0, EVERY_ROLE, { sessionId: null });
    as.b = await tokenFor(federation.config, 1, 0, EVERY_ROLE, { sessionId: null });
    // A fleet per organization for this file's robots (fleets_by_id only: listed nowhere).
    for (const [fleet, org] of [
      [fleets.a, A],
      [fleets.b, B],
    ] as const)
      await cql(
        'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [fleet, org, `enumeration-${RUN}`, `site-${RUN}`, 'UTC', new Date()],
      );
  });

  after(async () => {
    if (!federation) return;
    for (const user of users) {
      await cql('DELETE FROM users_by_id WHERE user_id = ?', [user.id]);
      await cql(
        'DELETE FROM users_by_organization WHERE organization_id = ? AND bucket = ? AND user_id = ?',
        [user.org, bucketOf(user.id), user.id],
      );
      await cql('DELETE FROM users_by_organization_email WHERE organization_id = ? AND email = ?', [
        user.org,
        user.email,
      ]).catch(() => undefined);
      await cql('DELETE FROM users_by_email WHERE email = ? IF user_id = ?', [user.email, user.id]);
    }
    for (const robot of robots) {
      await cql('DELETE FROM robots_by_id WHERE robot_id = ?', [robot.id]);
      await cql('DELETE FROM robots_by_fleet_page WHERE fleet_id = ? AND robot_id = ?', [
        robot.fleet,
        robot.id,
      ]);
      await cql('DELETE FROM robots_by_fleet WHERE fleet_id = ? AND bucket = ? AND robot_id = ?', [
        robot.fleet,
        bucketOf(robot.id),
        robot.id,
      ]);
      await cql(
        'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket = ? AND robot_id = ?',
        [robot.fleet, 'OFFLINE', bucketOf(robot.id), robot.id],
      );
      await cql(
        'DELETE FROM robots_by_organization_serial WHERE organization_id = ? AND serial = ?',
        [robot.org, robot.serial],
      ).catch(() => undefined);
      await cql('DELETE FROM robots_by_serial WHERE serial = ? IF robot_id = ?', [
        robot.serial,
        robot.id,
      ]);
    }
    for (const fleet of Object.values(fleets))
      await cql('DELETE FROM fleets_by_id WHERE fleet_id = ?', [fleet]);
    await federation.close();
  });

  it("when B's admin creates a user with A's email, then the answer is the one for a free email and A's user is untouched", async () => {
    const taken = `enum-a-${RUN}@example.com`;
    assert.equal((await createUser('a', taken)).body.errors, undefined, 'A has the email');
    const before = await rowsOfA('user', taken);

    const free = await createUser('b', `enum-free-${RUN}@example.com`);
    const crossTenant = await createUser('b', taken);
    assert.deepEqual(shapeOf(crossTenant), shapeOf(free), JSON.stringify(crossTenant.body));
    const created = crossTenant.body.data?.['createUser'];
    assert.deepEqual(created?.['organization'], { id: B });
    assert.equal(created?.['email'], taken);
    assert.equal(await rowsOfA('user', taken), before, "A's user row is unchanged");
  });

  it("when B's admin changes a user's email to A's email, then it succeeds like a free email", async () => {
    const taken = `enum-a-update-${RUN}@example.com`;
    assert.equal((await createUser('a', taken)).body.errors, undefined, 'A has the email');
    const bUser = (await createUser('b', `enum-b-update-${RUN}@example.com`)).body.data?.[
      'createUser'
    ]?.['id'] as string;
    const free = await federation.query<Data>(
      UPDATE_USER,
      { input: { id: bUser, email: `enum-b-free-${RUN}@example.com` } },
      { token: as.b },
    );
    const crossTenant = await federation.query<Data>(
      UPDATE_USER,
      { input: { id: bUser, email: taken } },
      { token: as.b },
    );
    // Recorded so the cleanup releases the claim of the email B's user ended with.
    users.push({ id: bUser, org: B, email: taken });
    assert.deepEqual(shapeOf(crossTenant), shapeOf(free), JSON.stringify(crossTenant.body));
    assert.equal(crossTenant.body.data?.['updateUser']?.['email'], taken);
  });

  it("when B's admin registers a robot with A's serial, then the answer is the one for a free serial and A's robot is untouched", async () => {
    const taken = `ENUM-A-${RUN}`;
    assert.equal((await registerRobot('a', taken)).body.errors, undefined, 'A has the serial');
    const before = await rowsOfA('robot', taken);

    const free = await registerRobot('b', `ENUM-FREE-${RUN}`);
    const crossTenant = await registerRobot('b', taken);
    assert.deepEqual(shapeOf(crossTenant), shapeOf(free), JSON.stringify(crossTenant.body));
    assert.deepEqual(crossTenant.body.data?.['registerRobot']?.['fleet'], { id: fleets.b });
    assert.equal(await rowsOfA('robot', taken), before, "A's robot row is unchanged");
  });

  it('when an admin repeats an email or serial of their own organization, then CONFLICT names it and nothing is written', async () => {
    const email = `enum-own-${RUN}@example.com`;
    const serial = `ENUM-OWN-${RUN}`;
    assert.equal((await createUser('b', email)).body.errors, undefined);
    assert.equal((await registerRobot('b', serial)).body.errors, undefined);
    const [usersBefore, robotsBefore] = [users.length, robots.length];

    const userAgain = await createUser('b', email);
    const robotAgain = await registerRobot('b', serial);
    for (const [response, value] of [
      [userAgain, email],
      [robotAgain, serial],
    ] as const) {
      const error = response.body.errors?.[0];
      assert.equal(error?.extensions?.['code'], 'CONFLICT', JSON.stringify(response.body));
      assert.ok(error?.message.includes(value), error?.message);
    }
    assert.deepEqual([users.length, robots.length], [usersBefore, robotsBefore], 'nothing created');
    const robotIds = await cql(
      'SELECT robot_id FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?',
      [fleets.b, Array.from({ length: 16 }, (_, i) => i)],
    );
    assert.equal(
      robotIds.rows.filter((row) => robots.some((r) => r.id === String(row['robot_id']))).length,
      robotIds.rowLength,
      "B's scratch fleet holds only the robots this file registered",
    );
  });

  it("when A's admin repeats a seeded user's email or robot's serial, then CONFLICT (data older than the per-organization claims is covered)", async () => {
    const email = String(
      (
        await cql('SELECT email FROM users_by_id WHERE user_id = ?', [seedIds.user(0, 1)])
      ).first()?.['email'],
    );
    const serial = String(
      (
        await cql('SELECT serial FROM robots_by_id WHERE robot_id = ?', [seedIds.robot(0, 0, 0)])
      ).first()?.['serial'],
    );
    for (const response of [await createUser('a', email), await registerRobot('a', serial)])
      assert.equal(response.body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
  });
});
