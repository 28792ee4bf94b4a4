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
import { keyOnlyReference } from '../../subgraphs/kit/authz/references.js';
import { sensitivityOf, wordsOf } from '../../subgraphs/kit/authz/sensitivity.js';
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
type Thing @key(fields: "id") { id: ID! name: String notes: String }
type Query { thing(id: ID!): Thing, things: [Thing!]! }
`;

const THING = entity<{ id: string }>({ readers: { users: 'viewer' }, description: 'test' });

/**
 * Root fields get declared resolvers (middleware applied to declared resolvers needs them), and
 * the entity its guarded reference resolver.
 */
const ROOT_RESOLVERS_ONLY = { Query: { thing: () => null, things: () => [] } };
const ROOT_RESOLVERS = {
  ...ROOT_RESOLVERS_ONLY,
  Thing: { __resolveReference: keyOnlyReference(THING) },
};

function schemaOf(sdl: string, resolvers: GraphQLResolverMap<unknown> = {}): GraphQLSchema {
  return buildSubgraphSchema([
    {
      typeDefs: parse(sdl),
      resolvers: {
        ...ROOT_RESOLVERS,
        ...resolvers,
        Thing: { ...ROOT_RESOLVERS.Thing, ...(resolvers['Thing'] as object) },
      } as GraphQLResolverMap<unknown>,
    },
  ]);
}

const ROOTS: PermissionMap = {
  'Query._service': allow,
  'Query._entities': allow,
  'Query.thing': isAuthenticated,
  'Query.things': isAuthenticated,
};
const OBJECTS: ObjectChecks = {
  Thing: THING,
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
      /not covered by an object-level check or a rule: Thing\.id, Thing\.name, Thing\.notes/,
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
    assert.match(message, /: Thing\.notes$/);
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
      checkAuthorizationCoverage(schemaOf(SDL), { ...ROOTS, 'Thing.notes': allow }, OBJECTS),
    );
    assert.match(message, /Thing\.notes has a rule but uses the default resolver/);
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
      schemaOf(SDL, { Thing: { notes: (t: { notes: string }) => t.notes } }),
      { ...ROOTS, 'Thing.notes': allow },
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

  it('when a field is named or typed as sensitive, then it is recognized by whole words', () => {
    assert.deepEqual(wordsOf('ipAddress'), ['ip', 'address']);
    assert.deepEqual(wordsOf('API_KEY'), ['api', 'key']);
    assert.equal(sensitivityOf('ipAddress', 'String'), 'name: ip');
    assert.equal(sensitivityOf('emails', 'String'), 'name: emails');
    assert.equal(sensitivityOf('apiKey', 'String'), 'name: key');
    assert.equal(sensitivityOf('lastPosition', 'Position'), 'name: position');
    assert.equal(sensitivityOf('whereabouts', 'Position'), 'type: Position');
    assert.equal(sensitivityOf('description', 'String'), null);
    assert.equal(sensitivityOf('monkey', 'String'), null);
  });

  it('when a sensitive field has only its type’s object-level check, then it refuses naming the field; a rule of its own passes', () => {
    const sdl = SDL.replace('notes: String', 'notes: String phone: String');
    const message = refusal(() => checkAuthorizationCoverage(schemaOf(sdl), ROOTS, OBJECTS, 't'));
    assert.match(
      message,
      /sensitive fields need a rule of their own[^;]*: Thing\.phone \(name: phone\)$/,
    );
    checkAuthorizationCoverage(
      schemaOf(sdl, { Thing: { phone: (t: { phone: string }) => t.phone } }),
      { ...ROOTS, 'Thing.phone': hasRole('admin') },
      OBJECTS,
    );
  });

  it('when a value type’s sensitive field is reachable only through ruled fields, then it passes; through an unruled one, it refuses', () => {
    const sdl = SDL.replace('notes: String', 'contact: Contact').replace(
      'type Query',
      'type Contact { email: String }\ntype Query',
    );
    const contact = (t: { contact: unknown }) => t.contact;
    const objects = { ...OBJECTS, Contact: valueOf('Thing.contact') };
    checkAuthorizationCoverage(
      schemaOf(sdl, { Thing: { contact } }),
      { ...ROOTS, 'Thing.contact': hasRole('admin') },
      objects,
    );
    const message = refusal(() => checkAuthorizationCoverage(schemaOf(sdl), ROOTS, objects));
    assert.match(message, /Contact\.email \(name: email\)/);
  });

  it('when an entity’s __resolveReference is not guarded by the kit, is missing, uses another check, or the entity is declared a value, then it refuses naming the type', () => {
    const other = entity<{ id: string }>({ readers: { users: 'admin' }, description: 'other' });
    const cases: [GraphQLResolverMap<unknown>, ObjectChecks, RegExp][] = [
      [
        { Thing: { __resolveReference: (ref: unknown) => ref } },
        OBJECTS,
        /Thing\.__resolveReference is not built by/,
      ],
      [
        { Thing: { __resolveReference: keyOnlyReference(other) } },
        OBJECTS,
        /Thing\.__resolveReference applies another/,
      ],
      [{}, { ...OBJECTS, Thing: valueOf('Query.thing') }, /Thing is an entity \(@key\)/],
    ];
    for (const [resolvers, objects, expected] of cases)
      assert.match(
        refusal(() => checkAuthorizationCoverage(schemaOf(SDL, resolvers), ROOTS, objects)),
        expected,
      );
    const bare = buildSubgraphSchema([{ typeDefs: parse(SDL), resolvers: ROOT_RESOLVERS_ONLY }]);
    assert.match(
      refusal(() => checkAuthorizationCoverage(bare, ROOTS, OBJECTS)),
      /Thing\.__resolveReference is missing/,
    );
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
