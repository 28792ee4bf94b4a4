import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';
import { rule } from 'graphql-shield';
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';
import {
  checkAuthorizationCoverage,
  type PermissionMap,
} from '../../subgraphs/kit/authz/coverage.js';
import { entity, valueOf, type ObjectChecks } from '../../subgraphs/kit/authz/objects.js';
import {
  admits,
  allow,
  hasRole,
  hasRoleAtLeast,
  hasScopeGranted,
  isAuthenticated,
  or,
} from '../../subgraphs/kit/authz/rules.js';
import type { Identity, Role } from '../../platform/contract/identity.js';
import { StartupError } from '../../platform/startup.js';

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Thing @key(fields: "id") { id: ID! name: String secret: String }
type Query { thing(id: ID!): Thing, things: [Thing!]! }
`;

/** Root fields get declared resolvers: middleware applied to declared resolvers needs them. */
const ROOT_RESOLVERS = { Query: { thing: () => null, things: () => [] } };

function schemaOf(sdl: string, resolvers: GraphQLResolverMap<unknown> = {}): GraphQLSchema {
  return buildSubgraphSchema([
    { typeDefs: parse(sdl), resolvers: { ...ROOT_RESOLVERS, ...resolvers } },
  ]);
}

const ROOTS: PermissionMap = {
  'Query._service': allow,
  'Query._entities': allow,
  'Query.thing': isAuthenticated,
  'Query.things': isAuthenticated,
};
const OBJECTS: ObjectChecks = {
  Thing: entity({ readers: { users: 'viewer' }, description: 'test' }),
  _Service: valueOf('Query._service'),
};

function without<T extends object>(map: T, key: keyof T): T {
  return Object.fromEntries(Object.entries(map).filter(([k]) => k !== key)) as T;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof StartupError, String(error));
    return error.message;
  }
  assert.fail('expected a StartupError');
}

describe('the start-up authorization coverage check (deny by default at build time)', () => {
  it('when every field is covered by a rule or its type’s object-level check, then it passes', () => {
    const coverage = checkAuthorizationCoverage(schemaOf(SDL), ROOTS, OBJECTS, 'test');
    assert.deepEqual([...coverage.ruled].sort(), Object.keys(ROOTS).sort());
    assert.deepEqual([...coverage.objectChecked].sort(), ['Thing', '_Service']);
  });

  it('when a type has neither an object-level check nor rules, then it refuses to serve, naming each uncovered field', () => {
    const withoutThing = without(OBJECTS, 'Thing');
    const message = refusal(() =>
      checkAuthorizationCoverage(schemaOf(SDL), ROOTS, withoutThing, 'test'),
    );
    assert.match(message, /^test subgraph: authorization is incomplete/);
    assert.match(
      message,
      /not covered by an object-level check or a rule: Thing\.id, Thing\.name, Thing\.secret/,
    );
  });

  it('when one field of an unchecked type lacks a rule, then only that field is named', () => {
    const withoutThing = without(OBJECTS, 'Thing');
    const message = refusal(() =>
      checkAuthorizationCoverage(
        schemaOf(SDL, {
          Thing: { id: (t: { id: string }) => t.id, name: (t: { name: string }) => t.name },
        }),
        { ...ROOTS, 'Thing.id': allow, 'Thing.name': allow },
        withoutThing,
        'test',
      ),
    );
    assert.match(message, /: Thing\.secret$/);
  });

  it('when a root field has no rule, then it is named even though nothing else is missing', () => {
    const withoutThings = without(ROOTS, 'Query.things');
    const message = refusal(() =>
      checkAuthorizationCoverage(schemaOf(SDL), withoutThings, OBJECTS, 'test'),
    );
    assert.match(message, /Query\.things \(root field without a rule\)/);
    const rootDeclared = refusal(() =>
      checkAuthorizationCoverage(schemaOf(SDL), withoutThings, { ...OBJECTS, Query: valueOf() }),
    );
    assert.match(rootDeclared, /Query is a root type: each of its fields needs a rule of its own/);
  });

  it('when a rule sits on a field that uses the default resolver, then it refuses: the rule would never run', () => {
    const message = refusal(() =>
      checkAuthorizationCoverage(schemaOf(SDL), { ...ROOTS, 'Thing.secret': allow }, OBJECTS),
    );
    assert.match(message, /Thing\.secret has a rule but uses the default resolver/);
    const root = refusal(() =>
      checkAuthorizationCoverage(
        buildSubgraphSchema([{ typeDefs: parse(SDL), resolvers: {} }]),
        ROOTS,
        OBJECTS,
      ),
    );
    assert.match(root, /Query\.thing has a rule but uses the default resolver/);
    // With a declared resolver the same rule is fine.
    checkAuthorizationCoverage(
      schemaOf(SDL, { Thing: { secret: (t: { secret: string }) => t.secret } }),
      { ...ROOTS, 'Thing.secret': allow },
      OBJECTS,
    );
  });

  it('when a rule uses the strict cache or an entry names no field, then it refuses', () => {
    const strict = rule('hashesParents', { cache: 'strict' })(() => true);
    const message = refusal(() =>
      checkAuthorizationCoverage(
        schemaOf(SDL),
        { ...ROOTS, 'Query.things': or(isAuthenticated, strict), 'Thing.nmae': allow },
        { ...OBJECTS, Thnig: valueOf() },
      ),
    );
    assert.match(message, /Query\.things's rule hashesParents uses the strict cache/);
    assert.match(message, /the permission for Thing\.nmae names no field of the schema/);
    assert.match(message, /the object-level check for Thnig names no object type/);
  });

  it('when the users, sessions and fleet subgraphs are built, then every field of each is covered', () => {
    for (const definition of [usersSubgraph, sessionsSubgraph, fleetSubgraph]) {
      const schema = schemaOf(
        readFileSync(definition.schemaFile, 'utf8'),
        definition.resolvers as GraphQLResolverMap<unknown>,
      );
      assert.ok(definition.transformSchema, `${definition.name} applies authorization`);
      assert.doesNotThrow(() => definition.transformSchema!(schema), definition.name);
    }
  });
});

describe('identity predicates behind the rules', () => {
  const user = (roles: Role[]): Identity => ({
    kind: 'user',
    userId: 'u',
    organizationId: 'o',
    roles,
    sessionId: null,
  });
  const partner = (scopes: string[]): Identity => ({
    kind: 'partner',
    apiKeyId: 'k',
    organizationId: 'o',
    scopes,
  });

  it('when roles are compared, then they are cumulative: admin ⊇ operator ⊇ viewer', () => {
    assert.ok(hasRoleAtLeast(user(['admin']), 'operator'));
    assert.ok(hasRoleAtLeast(user(['operator']), 'viewer'));
    assert.ok(!hasRoleAtLeast(user(['viewer']), 'operator'));
    assert.ok(!hasRoleAtLeast(user([]), 'viewer'));
    assert.ok(!hasRoleAtLeast(partner(['fleet:write']), 'viewer'));
  });

  it('when scopes are compared, then a write scope includes the read scope of its resource only', () => {
    assert.ok(hasScopeGranted(partner(['fleet:write']), 'fleet:read'));
    assert.ok(!hasScopeGranted(partner(['fleet:read']), 'fleet:write'));
    assert.ok(!hasScopeGranted(partner(['telemetry:write']), 'fleet:read'));
    assert.ok(!hasScopeGranted(user(['admin']), 'fleet:read'));
  });

  it('when an audience refuses, then anonymous callers hear UNAUTHENTICATED and others FORBIDDEN', () => {
    const audience = { users: 'viewer', scopes: ['fleet:read'] } as const;
    const anonymous = admits({ kind: 'anonymous' }, audience);
    assert.notEqual(anonymous, true);
    assert.equal(anonymous !== true && anonymous.extensions['code'], 'UNAUTHENTICATED');
    const service = admits({ kind: 'service', service: 'x' }, audience);
    assert.equal(service !== true && service.extensions['code'], 'FORBIDDEN');
    assert.equal(admits(partner(['fleet:read']), audience), true);
    assert.equal(admits(user(['viewer']), audience), true);
    assert.equal(hasRole('viewer'), hasRole('viewer'), 'one rule instance per name');
  });
});
