import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { rule } from 'graphql-shield';
import { seedIds } from '../../scripts/seed-ids.js';
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';
import { entity, valueOf } from '../../subgraphs/kit/authz/objects.js';
import { keyOnlyReference } from '../../subgraphs/kit/authz/references.js';
import { allow, hasRole, isAuthenticated } from '../../subgraphs/kit/authz/rules.js';
import { withAuthorization } from '../../subgraphs/kit/authz/shield.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { badUserInput } from '../../platform/contract/errors.js';
import type { Identity } from '../../platform/contract/identity.js';
import type { BaseContext, SubgraphDefinition } from '../../subgraphs/kit/server.js';
import { cassandraForTest } from '../support/stack.js';
import { ADMIN_OF_ORG0, startSubgraph, type RunningSubgraph } from '../support/subgraphs.js';

const ADMIN_OF_ORG1: Identity = {
  kind: 'user',
  userId: seedIds.user(1, 0),
  organizationId: seedIds.organization(1),
  roles: ['admin', 'operator', 'viewer'],
  sessionId: null,
};
const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename ';

type Entities = { _entities: (Record<string, unknown> | null)[] };

/** Statement and batch counter deltas of one request to one subgraph. */
async function counted<T>(
  subgraph: RunningSubgraph,
  tables: readonly string[],
  run: () => Promise<T>,
): Promise<{ result: T; reads: Record<string, number>; batches: number }> {
  const read = async () => ({
    batches: await subgraph.metric('fleetgraph_dataloader_batches_total'),
    ...Object.fromEntries(
      await Promise.all(
        tables.map(async (table) => [
          table,
          await subgraph.metric('fleetgraph_cassandra_partitions_read_total', { table }),
        ]),
      ),
    ),
  });
  const before: Record<string, number> = await read();
  const result = await run();
  const after: Record<string, number> = await read();
  return {
    result,
    batches: after['batches']! - before['batches']!,
    reads: Object.fromEntries(tables.map((table) => [table, after[table]! - before[table]!])),
  };
}

describe('authorization in the subgraphs: tenant isolation, entity resolution, composition', () => {
  let cassandra: CassandraClient;
  let users: RunningSubgraph;
  let sessions: RunningSubgraph;
  let fleet: RunningSubgraph;
  let missions: string[];
  before(async () => {
    cassandra = await cassandraForTest();
    users = await startSubgraph(usersSubgraph, cassandra);
    sessions = await startSubgraph(sessionsSubgraph, cassandra);
    fleet = await startSubgraph(fleetSubgraph, cassandra);
    const { body } = await fleet.request<{ robot: { missions: { nodes: { id: string }[] } } }>(
      `{ robot(id: "${seedIds.robot(0, 0, 1)}") { missions(first: 3) { nodes { id } } } }`,
    );
    missions = body.data!.robot.missions.nodes.map((mission) => mission.id);
    assert.equal(missions.length, 3);
  });
  after(async () => {
    for (const subgraph of [users, sessions, fleet]) await subgraph?.close();
    await cassandra.shutdown();
  });

  /**
   * The same `_entities` call as organization 0's admin (allowed) and as organization 1's admin
   * with a valid router signature (another tenant): the other tenant gets nulls, at no more
   * statements and batches than the allowed call — hiding reads nothing of its own.
   */
  async function acrossTenants(
    subgraph: RunningSubgraph,
    selection: string,
    representations: Record<string, unknown>[],
    tables: readonly string[],
  ) {
    const query = `${ENTITIES}${selection} } }`;
    const allowed = await counted(subgraph, tables, () =>
      subgraph.request<Entities>(query, { r: representations }, ADMIN_OF_ORG0),
    );
    const denied = await counted(subgraph, tables, () =>
      subgraph.request<Entities>(query, { r: representations }, ADMIN_OF_ORG1),
    );
    assert.equal(allowed.result.body.errors, undefined, JSON.stringify(allowed.result.body));
    assert.equal(denied.result.body.errors, undefined, JSON.stringify(denied.result.body));
    for (const table of tables)
      assert.ok(
        denied.reads[table]! <= allowed.reads[table]!,
        `${table}: ${denied.reads[table]} statements denying vs ${allowed.reads[table]} allowing`,
      );
    assert.ok(denied.batches <= allowed.batches, 'no loader batch of its own');
    return {
      allowed: allowed.result.body.data!._entities,
      denied: denied.result.body.data!._entities,
      reads: denied.reads,
      batches: denied.batches,
    };
  }

  it("when another tenant's admin calls users' _entities directly, then organization 0's users and organization are null, at the cost of the loader batch alone", async () => {
    const ids = Array.from({ length: 12 }, (_, u) => seedIds.user(0, u));
    const { allowed, denied, reads, batches } = await acrossTenants(
      users,
      '... on User { id displayName email } ... on Organization { id name }',
      [
        ...ids.map((id) => ({ __typename: 'User', id })),
        { __typename: 'Organization', id: seedIds.organization(0) },
      ],
      ['users_by_id', 'organizations'],
    );
    assert.ok(allowed.every((entity) => entity !== null));
    assert.deepEqual(denied, Array(13).fill(null));
    assert.deepEqual(reads, { users_by_id: 12, organizations: 1 });
    assert.equal(batches, 2, 'one userById and one organizationById batch');
  });

  it("when another tenant's admin calls fleet's _entities directly, then organization 0's fleets, robots, missions and organization are null and an operator's robots are none", async () => {
    const robots = Array.from({ length: 10 }, (_, r) => seedIds.robot(0, 0, r));
    const representations = [
      { __typename: 'Fleet', id: seedIds.fleet(0, 0) },
      { __typename: 'Fleet', id: seedIds.fleet(0, 1) },
      ...robots.map((id) => ({ __typename: 'Robot', id })),
      ...missions.map((id) => ({ __typename: 'Mission', id })),
      { __typename: 'Organization', id: seedIds.organization(0) },
    ];
    const { allowed, denied, reads } = await acrossTenants(
      fleet,
      '... on Fleet { id name } ... on Robot { id serial firmware } ... on Mission { id steps } ... on Organization { id fleets { id } }',
      representations,
      ['fleets_by_id', 'robots_by_id', 'missions_by_id', 'fleets_by_organization'],
    );
    assert.ok(allowed.every((entity) => entity !== null));
    assert.deepEqual(denied, Array(representations.length).fill(null));
    // The organization's fleets are not even listed for another tenant: its key is the tenant.
    assert.deepEqual(reads, {
      fleets_by_id: 2,
      robots_by_id: 10,
      missions_by_id: 3,
      fleets_by_organization: 0,
    });

    const operator = await acrossTenants(
      fleet,
      '... on User { id operatedRobots { id } }',
      [{ __typename: 'User', id: seedIds.user(0, 1) }],
      ['robots_by_operator', 'robots_by_id'],
    );
    assert.ok((operator.allowed[0]!['operatedRobots'] as unknown[]).length > 0);
    assert.deepEqual(operator.denied, [
      { __typename: 'User', id: seedIds.user(0, 1), operatedRobots: [] },
    ]);
  });

  it("when another tenant's admin calls sessions' _entities directly, then organization 0's sessions are null and its users show no sessions", async () => {
    const sessionIds = [3, 4, 5, 6].map((u) => seedIds.session(0, u, 0));
    const byId = await acrossTenants(
      sessions,
      '... on Session { id client { ipAddress } }',
      sessionIds.map((id) => ({ __typename: 'Session', id })),
      ['sessions_by_id'],
    );
    assert.ok(byId.allowed.every((entity) => entity !== null));
    assert.deepEqual(byId.denied, Array(4).fill(null));
    assert.deepEqual(byId.reads, { sessions_by_id: 4 });

    // A User key carries no organization here: for another user it is read from their newest
    // session's row — one sessions_by_id read per user, for the allowed caller as much as for
    // the denied one (the one read authorization makes, docs/authorization.md).
    const userIds = [3, 4, 5, 6].map((u) => seedIds.user(0, u));
    const ofUsers = await acrossTenants(
      sessions,
      '... on User { id activeSessionCount sessions(first: 5) { nodes { id } } }',
      userIds.map((id) => ({ __typename: 'User', id })),
      ['sessions_by_user', 'sessions_by_id'],
    );
    assert.ok(ofUsers.allowed.every((user) => (user!['activeSessionCount'] as number) > 0));
    assert.deepEqual(
      ofUsers.denied,
      userIds.map((id) => ({
        __typename: 'User',
        id,
        activeSessionCount: 0,
        sessions: { nodes: [] },
      })),
    );
    assert.deepEqual(ofUsers.reads, { sessions_by_user: 4, sessions_by_id: 4 });
  });

  it('when _service is asked for as anonymous or as a service, then every subgraph answers: deny by default does not break composition', async () => {
    for (const subgraph of [users, sessions, fleet]) {
      for (const identity of [
        { kind: 'anonymous' },
        { kind: 'service', service: 'composer' },
      ] as const) {
        const { body } = await subgraph.request<{ _service: { sdl: string } }>(
          '{ _service { sdl } }',
          {},
          identity,
        );
        assert.equal(body.errors, undefined, `${subgraph.server.name}: ${JSON.stringify(body)}`);
        assert.match(body.data!._service.sdl, /type Query/);
      }
    }
  });

  it('when the same list is served with shield on and off, then both read exactly the same statements', async () => {
    const unshielded = await startSubgraph(
      {
        ...fleetSubgraph,
        transformSchema: undefined,
      } as unknown as SubgraphDefinition<BaseContext>,
      cassandra,
    );
    try {
      const query = `{ fleet(id: "${seedIds.fleet(0, 0)}") { robots(first: 120) { nodes { id serial status firmware position { latitude } currentMission { id } } } } }`;
      const tables = [
        'fleets_by_id',
        'robots_by_fleet_page',
        'robots_by_fleet',
        'robots_by_id',
        'missions_by_id',
      ];
      const on = await counted(fleet, tables, () => fleet.request(query));
      const off = await counted(unshielded, tables, () => unshielded.request(query));
      assert.equal(on.result.body.errors, undefined);
      assert.deepEqual(on.result.body, off.result.body);
      assert.deepEqual(on.reads, off.reads);
      assert.equal(on.batches, off.batches);
      // The page is one partition of robots_by_fleet_page (issue 17), rows carrying every
      // field asked for here: 120 robots, with shield on and off alike.
      const nodes = (on.result.body.data as { fleet: { robots: { nodes: unknown[] } } }).fleet
        .robots.nodes;
      assert.equal(nodes.length, 120);
      assert.equal(on.reads['robots_by_fleet_page'], 1);
      assert.equal(on.reads['robots_by_id'], 0);
    } finally {
      await unshielded.close();
    }
  });

  describe('graphql-shield options', () => {
    let probe: RunningSubgraph;
    before(async () => {
      const byShield = rule('probeReadsParent', { cache: 'no_cache' })(() => true);
      const dir = mkdtempSync(join(tmpdir(), 'fg-authz-'));
      const sdl = join(dir, 'probe.graphql');
      writeFileSync(
        sdl,
        `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Thing @key(fields: "id") { id: ID! }
type Query { crash: String, crashAdmitted: String, badInput: String, badInputAdmitted: String, adminsOnly: String, thing: Thing }
`,
      );
      const thing = entity<{ id: string }>({ readers: { users: 'any' }, description: 'test' });
      const definition: SubgraphDefinition<BaseContext> = {
        name: 'probe',
        schemaFile: pathToFileURL(sdl),
        resolvers: {
          Query: {
            crash: () => {
              throw new Error('connect ECONNREFUSED 10.0.0.7:9042');
            },
            crashAdmitted: () => {
              throw new Error('connect ECONNREFUSED 10.0.0.7:9042');
            },
            badInput: () => {
              throw badUserInput('x', 'is wrong');
            },
            badInputAdmitted: () => {
              throw badUserInput('x', 'is wrong');
            },
            adminsOnly: () => 'secret',
            thing: () => ({ id: '1' }),
          },
          // An entity resolves references through the kit's guarded helper (coverage.ts).
          Thing: { __resolveReference: keyOnlyReference(thing) },
        },
        createContext: (base) => base,
        transformSchema: withAuthorization(
          'probe',
          {
            'Query._service': allow,
            'Query._entities': allow,
            // Rules shield evaluates itself (they read the parent), and identity-only rules
            // that admit up front: both paths must keep resolvers' errors as they are.
            'Query.crash': byShield,
            'Query.crashAdmitted': isAuthenticated,
            'Query.badInput': byShield,
            'Query.badInputAdmitted': isAuthenticated,
            'Query.adminsOnly': hasRole('admin'),
            'Query.thing': isAuthenticated,
          },
          {
            Thing: thing,
            _Service: valueOf('Query._service'),
          },
        ),
      };
      probe = await startSubgraph(definition, cassandra);
    });
    after(() => probe?.close());

    it('when a resolver behind a rule fails unexpectedly, then the error is masked as INTERNAL_SERVER_ERROR, never as shield\'s "Not Authorised!"', async () => {
      const { body } = await probe.request('{ crash crashAdmitted }');
      assert.deepEqual(
        body.errors
          ?.map((e) => [e.path, e.message, e.extensions?.['code']])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        [
          [['crash'], 'Internal server error', 'INTERNAL_SERVER_ERROR'],
          [['crashAdmitted'], 'Internal server error', 'INTERNAL_SERVER_ERROR'],
        ],
      );
    });

    it('when a resolver behind a rule throws its own error, then it passes with its code (allowExternalErrors)', async () => {
      const { body } = await probe.request('{ badInput badInputAdmitted }');
      assert.deepEqual(
        body.errors
          ?.map((e) => [e.path, e.message, e.extensions?.['code']])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        [
          [['badInput'], 'Argument "x" is wrong', 'BAD_USER_INPUT'],
          [['badInputAdmitted'], 'Argument "x" is wrong', 'BAD_USER_INPUT'],
        ],
      );
    });

    it('when a rule refuses, then FORBIDDEN (UNAUTHENTICATED for anonymous callers) without detail', async () => {
      const viewer: Identity = { ...ADMIN_OF_ORG0, roles: ['viewer'] } as Identity;
      const refused = await probe.request('{ adminsOnly }', {}, viewer);
      assert.deepEqual(
        refused.body.errors?.map((e) => [e.message, e.extensions?.['code']]),
        [['Not allowed', 'FORBIDDEN']],
      );
      const anonymous = await probe.request('{ adminsOnly }', {}, { kind: 'anonymous' });
      assert.equal(anonymous.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
      const admin = await probe.request<{ adminsOnly: string }>('{ adminsOnly }');
      assert.equal(admin.body.data?.adminsOnly, 'secret');
    });
  });
});
