import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { seedIds, SCALES } from '../../scripts/seed-ids.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import type { Identity } from '../../platform/contract/identity.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';
import { cassandraForTest } from '../support/stack.js';
import { ADMIN_OF_ORG0, startSubgraph, type RunningSubgraph } from '../support/subgraphs.js';

interface UsersPage {
  organization: {
    users: {
      nodes: { id: string }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
}

describe('users subgraph over HTTP against the real Cassandra node', () => {
  let cassandra: CassandraClient;
  let users: RunningSubgraph;
  before(async () => {
    cassandra = await cassandraForTest();
    users = await startSubgraph(usersSubgraph, cassandra);
  });
  after(async () => {
    await users.close();
    await cassandra.shutdown();
  });

  it('when the signed-in user asks for me, then their user and organization come back', async () => {
    const { body } = await users.request<{
      me: { id: string; roles: string[]; organization: { name: string } };
    }>('{ me { id roles organization { name } } }');
    assert.equal(body.errors, undefined);
    assert.equal(body.data?.me.id, ADMIN_OF_ORG0.kind === 'user' ? ADMIN_OF_ORG0.userId : '');
    assert.deepEqual(body.data?.me.roles, ['ADMIN', 'OPERATOR', 'VIEWER']);
    assert.equal(body.data?.me.organization.name, 'Acme Robotics');
  });

  it("when _entities is called with 30 user representations, then one DataLoader batch reads them and another organization's users are null", async () => {
    const ids = Array.from({ length: 12 }, (_, u) => seedIds.user(0, u)).concat(
      Array.from({ length: 12 }, (_, u) => seedIds.user(1, u)),
    );
    const representations = [...ids, ...ids.slice(0, 6)].map((id) => ({ __typename: 'User', id }));
    const batchesBefore = await users.metric('fleetgraph_dataloader_batches_total', {
      loader: 'userById',
    });
    const selectsBefore = await users.metric('fleetgraph_cassandra_partitions_read_total', {
      table: 'users_by_id',
    });
    const { body } = await users.request<{ _entities: ({ id: string; email: string } | null)[] }>(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email } } }',
      { r: representations },
    );
    assert.equal(body.errors, undefined);
    // Organization 0's admin: its own users come back; organization 1's are null, like unknown ids.
    const sameOrganization = new Set(ids.slice(0, 12));
    assert.deepEqual(
      body.data?._entities.map((u) => u?.id ?? null),
      representations.map((r) => (sameOrganization.has(r.id) ? r.id : null)),
    );
    assert.equal(
      (await users.metric('fleetgraph_dataloader_batches_total', { loader: 'userById' })) -
        batchesBefore,
      1,
    );
    // 24 distinct keys: the 6 repeated representations are not read twice, and hiding
    // organization 1's users reads nothing more.
    assert.equal(
      (await users.metric('fleetgraph_cassandra_partitions_read_total', { table: 'users_by_id' })) -
        selectsBefore,
      24,
    );
  });

  it('when an organization pages through its users, then every user appears exactly once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 20; guard++) {
      const { body }: { body: { data?: UsersPage; errors?: unknown } } = await users.request<{
        organization: {
          users: {
            nodes: { id: string }[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        };
      }>(
        'query($id: ID!, $after: String) { organization(id: $id) { users(first: 5, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }',
        { id: seedIds.organization(0), after },
      );
      assert.equal(body.errors, undefined);
      const connection = body.data!.organization.users;
      seen.push(...connection.nodes.map((n) => n.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    const expected = Array.from({ length: SCALES.demo.usersPerOrganization }, (_, u) =>
      seedIds.user(0, u),
    );
    assert.ok(
      expected.every((id) => seen.includes(id)),
      'every seeded user of organization 0 is listed',
    );
    assert.equal(new Set(seen).size, seen.length, 'no user is listed twice');
  });

  it('when a cursor is forged or replayed on another organization, then BAD_USER_INPUT names "after"', async () => {
    const first = await users.request<{
      organization: { users: { pageInfo: { endCursor: string } } };
    }>('query($id: ID!) { organization(id: $id) { users(first: 2) { pageInfo { endCursor } } } }', {
      id: seedIds.organization(0),
    });
    const cursor = first.body.data!.organization.users.pageInfo.endCursor;
    const query =
      'query($id: ID!, $after: String) { organization(id: $id) { users(first: 2, after: $after) { nodes { id } } } }';
    // Replayed on organization 1 by its own admin (organization 0's admin cannot see it).
    const adminOfOrg1: Identity = {
      kind: 'user',
      userId: seedIds.user(1, 0),
      organizationId: seedIds.organization(1),
      roles: ['admin', 'operator', 'viewer'],
      sessionId: null,
    };
    for (const [id, after, identity] of [
      [seedIds.organization(1), cursor, adminOfOrg1],
      [seedIds.organization(0), `${cursor.slice(0, -3)}abc`, ADMIN_OF_ORG0],
      [seedIds.organization(0), 'not-a-cursor', ADMIN_OF_ORG0],
    ] as const) {
      const { body } = await users.request(query, { id, after }, identity);
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
      assert.match(body.errors![0]!.message, /^Argument "after" is not a valid cursor/);
    }
  });

  it('when arguments are malformed or out of range, then BAD_USER_INPUT names the argument', async () => {
    const cases: [string, RegExp][] = [
      ['{ user(id: "42") { id } }', /Argument "id" must be a UUID/],
      [
        `{ organization(id: "${seedIds.organization(0)}") { users(first: 501) { nodes { id } } } }`,
        /Argument "first" must be between 1 and 500/,
      ],
      [
        `{ users(ids: [${Array.from({ length: 501 }, () => `"${seedIds.user(0, 0)}"`).join(',')}]) { id } }`,
        /Argument "ids" accepts at most 500/,
      ],
    ];
    for (const [query, message] of cases) {
      const { body } = await users.request(query);
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT', query);
      assert.match(body.errors![0]!.message, message);
    }
  });

  it('when createUser reuses an email, then CONFLICT is returned and no user row is written', async () => {
    const email = `dup-${randomUUID()}@example.com`;
    const create =
      'mutation($input: CreateUserInput!) { createUser(input: $input) { id email roles } }';
    const input = {
      organizationId: seedIds.organization(0),
      email,
      displayName: 'First',
      roles: ['OPERATOR'],
    };
    const created = await users.request<{ createUser: { id: string; roles: string[] } }>(create, {
      input,
    });
    assert.equal(created.body.errors, undefined);
    assert.deepEqual(created.body.data?.createUser.roles, ['OPERATOR']);
    const before = await cassandra.execute(
      'SELECT count(*) FROM users_by_organization WHERE organization_id = ? AND bucket IN ?',
      [seedIds.organization(0), Array.from({ length: 16 }, (_, i) => i)],
      { prepare: true },
    );
    const duplicate = await users.request(create, { input: { ...input, displayName: 'Second' } });
    assert.equal(duplicate.body.errors?.[0]?.extensions?.['code'], 'CONFLICT');
    const afterCount = await cassandra.execute(
      'SELECT count(*) FROM users_by_organization WHERE organization_id = ? AND bucket IN ?',
      [seedIds.organization(0), Array.from({ length: 16 }, (_, i) => i)],
      { prepare: true },
    );
    assert.equal(String(afterCount.first()['count']), String(before.first()['count']));
  });

  it('when a request carries no signed identity, then it is refused with 401 UNAUTHENTICATED', async () => {
    const response = await fetch(users.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    assert.equal(body.errors[0]?.extensions.code, 'UNAUTHENTICATED');
  });
});
