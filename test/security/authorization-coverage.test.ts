/**
 * Tracker item 7: the start-up coverage check must not let an object-level check stand in for
 * a sensitive field's own rule, and must prove that every entity's `__resolveReference` is the
 * kit's guarded one. Then, against the real stack, a sensitive field's rule is enforced.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';
import { seedIds } from '../../scripts/seed-ids.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import type { Identity } from '../../platform/contract/identity.js';
import { StartupError } from '../../platform/startup.js';
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import type { BaseContext, SubgraphDefinition } from '../../subgraphs/kit/server.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import type { UsersContext } from '../../subgraphs/users/context.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';
import { cassandraForTest } from '../support/stack.js';
import { ADMIN_OF_ORG0, startSubgraph, type RunningSubgraph } from '../support/subgraphs.js';

type Definition = SubgraphDefinition<BaseContext> | typeof usersSubgraph;

/** The subgraph's schema as the server builds it, optionally edited, before authorization. */
function built(
  definition: Definition,
  edit: (sdl: string) => string = (sdl) => sdl,
  resolvers: GraphQLResolverMap<unknown> = definition.resolvers as GraphQLResolverMap<unknown>,
): GraphQLSchema {
  const sdl = edit(readFileSync(definition.schemaFile, 'utf8'));
  return buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]);
}

/** The StartupError withAuthorization throws for `schema`. */
function refusal(definition: Definition, schema: GraphQLSchema): string {
  try {
    definition.transformSchema!(schema);
  } catch (error) {
    assert.ok(error instanceof StartupError, String(error));
    return error.message;
  }
  assert.fail(`${definition.name} started although its authorization is incomplete`);
}

describe('the start-up check proves sensitive fields and entity references are guarded', () => {
  it('when User gains a sensitive field (phone) and the users map is unchanged, then start-up is refused naming User.phone', () => {
    const schema = built(usersSubgraph, (sdl) =>
      sdl.replace('  email: String!\n', '  email: String!\n  phone: String\n'),
    );
    assert.ok(schema.getType('User')?.toString(), 'the edited schema builds');
    assert.match(refusal(usersSubgraph, schema), /User\.phone/);
  });

  it("when an entity's __resolveReference bypasses the kit's guarded helper, then start-up is refused naming the type", () => {
    const own = usersSubgraph.resolvers as Record<string, Record<string, unknown>>;
    const bypass: GraphQLResolverMap<unknown> = {
      ...(own as GraphQLResolverMap<unknown>),
      User: {
        ...own['User'],
        __resolveReference: (ref: { id: string }, ctx: UsersContext) =>
          ctx.loaders.userById.load(ref.id),
      },
    };
    assert.match(
      refusal(usersSubgraph, built(usersSubgraph, undefined, bypass)),
      /\bUser\.__resolveReference\b/,
    );
    const withoutReference = { ...own['User'] };
    delete withoutReference['__resolveReference'];
    const missing = { ...own, User: withoutReference } as GraphQLResolverMap<unknown>;
    assert.match(
      refusal(usersSubgraph, built(usersSubgraph, undefined, missing)),
      /\bUser\b[^;]*__resolveReference/,
    );
  });

  it('when the users, sessions and fleet subgraphs are built, then they pass the check', () => {
    for (const definition of [usersSubgraph, sessionsSubgraph, fleetSubgraph] as Definition[])
      assert.doesNotThrow(() => definition.transformSchema!(built(definition)), definition.name);
  });
});

describe('a sensitive field’s rule against the real stack (fleet subgraph, Cassandra)', () => {
  const robot = seedIds.robot(0, 0, 1);
  const as = (roles: ('viewer' | 'operator')[]): Identity =>
    ({ ...ADMIN_OF_ORG0, roles }) as Identity;
  let cassandra: CassandraClient;
  let fleet: RunningSubgraph;
  before(async () => {
    cassandra = await cassandraForTest();
    fleet = await startSubgraph(fleetSubgraph, cassandra);
  });
  after(async () => {
    await fleet?.close();
    await cassandra?.shutdown();
  });

  it('when a viewer asks for Robot.firmware, directly or through _entities, then FORBIDDEN; an operator gets it', async () => {
    const direct = `{ robot(id: "${robot}") { id firmware } }`;
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Robot { firmware } } }`;
    const r = [{ __typename: 'Robot', id: robot }];
    for (const [query, variables] of [
      [direct, {}],
      [entities, { r }],
    ] as const) {
      const viewer = await fleet.request(query, variables, as(['viewer']));
      assert.deepEqual(
        viewer.body.errors?.map((e) => e.extensions?.['code']),
        ['FORBIDDEN'],
        query,
      );
      const operator = await fleet.request(query, variables, as(['operator', 'viewer']));
      assert.equal(operator.body.errors, undefined, query);
      assert.match(JSON.stringify(operator.body.data), /"firmware":"[^"]+"/, query);
    }
  });
});
