/**
 * Generators (fast-check arbitraries) of malformed and adversarial GraphQL-over-HTTP requests,
 * for test/e2e/hostile-input.test.ts. Each generated {@link HostileCase} is one HTTP request
 * described as data (method, query string, headers, body, whose credentials), so a failing
 * case can be printed and replayed from the seed.
 *
 * @remarks
 * The bulk is schema-driven: documents built from schema/api-schema.graphql with arguments that
 * are valid, nearly valid or hostile, inline or as variables; the rest are the classic attacks
 * (deep nesting, alias and fragment bombs, circular fragments, huge strings and lists, broken
 * UTF-8, wrong content types, batches, oversized bodies, introspection probes, forged cursors
 * and ids, odd methods and headers, persisted-query and directive abuse).
 *
 * Writes: the fuzz runs with an admin's token, so every mutation it generates names ids that
 * do not exist (random UUIDs, never seeded ones): each is refused (NOT_FOUND, BAD_USER_INPUT,
 * FORBIDDEN) before anything is written, and the demo data other tests rely on stays as it is.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { seedIds } from '../../scripts/seed-ids.js';

/** Who a case signs in as; the test turns it into headers (tokens are minted at run time). */
export type Persona = 'admin' | 'viewer' | 'anonymous' | 'otherAdmin';

export interface HostileCase {
  readonly category: Category;
  /**
   * `production`: the router started with FLEETGRAPH_ENV=production (introspection off; its
   * personas' JWTs come from the test's JWKS issuer, as production refuses HS256).
   */
  readonly target: 'router' | 'production';
  readonly persona: Persona;
  readonly method: string;
  /** The URL's query string (`?…`) or ''. */
  readonly search: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Text, raw bytes, or chunks sent with chunked transfer encoding. */
  readonly body?: string | Uint8Array | { readonly chunks: readonly string[] };
}

/** One HTTP request, before a persona and a target are chosen for it (or with its own). */
type RequestShape = Omit<HostileCase, 'category' | 'target' | 'persona'> & { persona?: Persona };

export const CATEGORIES = [
  'schema-documents',
  'schema-variables',
  'deep-nesting',
  'alias-bomb',
  'fragment-bomb',
  'circular-fragments',
  'huge-strings',
  'huge-lists',
  'invalid-utf8',
  'content-types',
  'batched',
  'oversized',
  'malformed-json',
  'syntax-garbage',
  'introspection-production',
  'forged-cursors',
  'forged-ids',
  'http-methods',
  'headers',
  'persisted-queries',
  'directives',
  'operations',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** What generators need from the running stack. */
export interface Fixtures {
  /** A real `Fleet.robots` cursor of organization 0's first fleet, issued by the router. */
  readonly realCursor: string;
  /**
   * The development router's JWT secret, to forge tokens signed with the right secret but the
   * wrong algorithm (the `router` target only).
   */
  readonly jwtSecret: string;
}

const schema = buildSchema(
  readFileSync(new URL('../../schema/api-schema.graphql', import.meta.url), 'utf8'),
);

const FLEET = seedIds.fleet(0, 0);
const ROBOT = seedIds.robot(0, 0, 0);
const ORG = seedIds.organization(0);
/** Seeded ids of organizations 0 and 1: reads of them are harmless, writes never name them. */
const REAL_IDS = [
  ORG,
  seedIds.organization(1),
  seedIds.user(0, 0),
  seedIds.user(0, 2),
  seedIds.user(1, 0),
  FLEET,
  seedIds.fleet(1, 0),
  ROBOT,
  seedIds.robot(1, 0, 0),
  seedIds.session(0, 0, 0),
  seedIds.session(1, 0, 0),
];
const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
/** What Apollo's CSRF prevention asks of a GET or a "simple" POST. */
const PREFLIGHT: Readonly<Record<string, string>> = { 'apollo-require-preflight': 'true' };

// ----------------------------------------------------------------------------- small helpers

/** `arb` with probability `p`, else undefined. */
function maybe<T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | undefined> {
  const weight = Math.round(p * 100);
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 100 - weight },
    { arbitrary: arb, weight },
  );
}

/** A GraphQL string literal (JSON's escapes are GraphQL's). */
const gqlString = (value: string) => JSON.stringify(value);

const json = (value: unknown) => JSON.stringify(value);

/** A string of `size` characters made of `unit` repeated (cheap even at megabytes). */
const repeated = (unit: string, size: number) =>
  unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Strings that are hostile in content: injections, control characters, odd Unicode. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    "' OR 1=1 --",
    "'); DROP TABLE robots_by_id; --",
    'robot_id IN (SELECT * FROM users_by_id)',
    '${jndi:ldap://127.0.0.1/a}',
    '<script>alert(1)</script>',
    '{{7*7}}',
    '%00',
    '\u0000',
    '\u0000\u0001\u001f',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u2066',
    '\ufeff',
    '\\',
    '"',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    'NaN',
    '1e400',
    '../../../../etc/passwd',
    'x'.repeat(300),
  ),
);

/** Ids: random UUIDs, near-UUIDs, hostile strings and, when `real`, seeded ids of two tenants. */
function idValue(real: boolean): fc.Arbitrary<string> {
  const forged = fc.oneof(
    fc.uuid(),
    fc.uuid().map((id) => id.toUpperCase()),
    fc.uuid().map((id) => `{${id}}`),
    fc.uuid().map((id) => `${id} `),
    fc.uuid().map((id) => `${id}\u0000`),
    fc.uuid().map((id) => id.replace(/-/g, '')),
    fc.uuid().map((id) => `${id.slice(0, 35)}g`),
    fc.constantFrom(
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      // A syntactically valid version-1 (time) UUID: missions' kind of id.
      'c0ffee00-0000-11ee-8000-000000000000',
    ),
    hostileString,
  );
  if (!real) return forged;
  return fc.oneof(
    { arbitrary: forged, weight: 3 },
    { arbitrary: fc.constantFrom(...REAL_IDS), weight: 2 },
    { arbitrary: fc.constantFrom(...REAL_IDS).map((id) => id.toUpperCase()), weight: 1 },
  );
}

const dateTimes = () => {
  const now = Date.now();
  return fc.oneof(
    fc.integer({ min: -40, max: 2 }).map((d) => new Date(now + d * 86_400_000).toISOString()),
    fc.constantFrom(
      'x',
      '',
      '2026-13-45T99:99:99Z',
      '+275760-09-13T00:00:00.001Z',
      '1970-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      'now',
      '1e400',
    ),
  );
};

// -------------------------------------------------------------- schema-driven inline literals

interface Context {
  /** Whether seeded ids may appear (queries yes, mutations never). */
  readonly realIds: boolean;
}

/** A GraphQL literal for an input type: usually fitting, sometimes not. */
function literalFor(type: GraphQLInputType, ctx: Context, depth = 0): fc.Arbitrary<string> {
  if (isNonNullType(type))
    return fc.oneof(
      { arbitrary: literalFor(type.ofType, ctx, depth), weight: 19 },
      { arbitrary: fc.constant('null'), weight: 1 },
    );
  if (isListType(type)) {
    const item = literalFor(type.ofType, ctx, depth + 1);
    return fc.oneof(
      { arbitrary: fc.array(item, { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`), weight: 8 },
      { arbitrary: item, weight: 1 },
      { arbitrary: fc.constant('[]'), weight: 1 },
    );
  }
  const named = getNamedType(type);
  const junk = fc.constantFrom('null', '{}', '[]', '"x"', '0', 'true', 'ENUM', '$undefined');
  let fitting: fc.Arbitrary<string>;
  if (isEnumType(named)) {
    fitting = fc.oneof(
      fc.constantFrom(...named.getValues().map((v) => v.name)),
      fc.constantFrom('NOPE', 'idle', '"IDLE"', '__proto__'),
    );
  } else if (isInputObjectType(named)) {
    if (depth > 3) return fc.constant('{}');
    const fields = Object.values(named.getFields());
    fitting = fc
      .tuple(
        ...fields.map((field) =>
          (isNonNullType(field.type)
            ? literalFor(field.type, ctx, depth + 1)
            : maybe(literalFor(field.type, ctx, depth + 1), 0.5)
          ).map((value) => (value === undefined ? '' : `${field.name}: ${value}`)),
        ),
        maybe(fc.constantFrom('bogus: 1', '__proto__: { id: "x" }', 'id: "a", id: "b"'), 0.1),
      )
      .map((parts) => `{ ${parts.filter(Boolean).join(', ')} }`);
  } else {
    switch (named.name) {
      case 'ID':
        fitting = fc.oneof(
          { arbitrary: idValue(ctx.realIds).map(gqlString), weight: 9 },
          { arbitrary: fc.integer().map(String), weight: 1 },
        );
        break;
      case 'Int':
        fitting = fc.constantFrom(
          '0',
          '1',
          '-1',
          '20',
          '500',
          '501',
          '2147483647',
          '2147483648',
          '-2147483649',
          '1.5',
          '1e3',
          '"1"',
        );
        break;
      case 'Float':
        fitting = fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
          fc.constantFrom('0', '50', '100.0001', '-0.1', '1e308', '1e309', 'NaN', '"NaN"'),
        );
        break;
      case 'Boolean':
        fitting = fc.constantFrom('true', 'false', '"true"', '1');
        break;
      case 'DateTime':
        fitting = fc.oneof(dateTimes().map(gqlString), fc.constantFrom('0', '1e15', '[]'));
        break;
      default:
        fitting = hostileString.map(gqlString);
    }
  }
  return fc.oneof({ arbitrary: fitting, weight: 9 }, { arbitrary: junk, weight: 1 });
}

/** A selection set on `type`, `depth` levels deep at most. */
function selectionFor(type: GraphQLObjectType, depth: number, ctx: Context): fc.Arbitrary<string> {
  const fields = type.getFields();
  const names = Object.keys(fields);
  return fc
    .uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 3 })
    .chain((chosen) =>
      fc.tuple(
        ...chosen.map((name) => fieldFor(type, name, depth, ctx)),
        maybe(fc.constant('__typename'), 0.1),
      ),
    )
    .map((parts) => `{ ${parts.filter(Boolean).join(' ')} }`);
}

function fieldFor(
  type: GraphQLObjectType,
  name: string,
  depth: number,
  ctx: Context,
): fc.Arbitrary<string> {
  const field = type.getFields()[name]!;
  const args = fc
    .tuple(
      ...field.args.map((arg) =>
        (isNonNullType(arg.type)
          ? maybe(literalFor(arg.type, ctx), 0.95)
          : maybe(literalFor(arg.type, ctx), 0.4)
        ).map((value) => (value === undefined ? '' : `${arg.name}: ${value}`)),
      ),
    )
    .map((parts) => parts.filter(Boolean))
    .map((parts) => (parts.length ? `(${parts.join(', ')})` : ''));
  const named = getNamedType(field.type);
  const selection = isObjectType(named)
    ? depth > 0
      ? selectionFor(named, depth - 1, ctx)
      : fc.constant('{ __typename }')
    : // A selection on a leaf is invalid: now and then, ask for one.
      fc.oneof(
        { arbitrary: fc.constant(''), weight: 19 },
        { arbitrary: fc.constant('{ id }'), weight: 1 },
      );
  return fc
    .tuple(maybe(fc.constantFrom('a', 'b', 'x1', '_'), 0.2), args, selection)
    .map(([alias, a, s]) => `${alias ? `${alias}: ` : ''}${name}${a} ${s}`);
}

const queryType = schema.getQueryType()!;
const mutationType = schema.getMutationType()!;

/** A whole operation built from the schema, arguments inline. */
const schemaDocument: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc
      .integer({ min: 0, max: 4 })
      .chain((depth) => selectionFor(queryType, depth, { realIds: true })),
    weight: 4,
  },
  {
    arbitrary: fc
      .integer({ min: 0, max: 2 })
      .chain((depth) => selectionFor(mutationType, depth, { realIds: false }))
      .map((selection) => `mutation ${selection}`),
    weight: 1,
  },
);

// ------------------------------------------------------- schema-driven operations with variables

/** A JSON value for an input type: usually fitting, sometimes not. */
function valueFor(type: GraphQLInputType, ctx: Context, depth = 0): fc.Arbitrary<unknown> {
  const junk = fc.oneof(
    fc.constantFrom(null, {}, [], 'x', 0, -1, true, 1e308, JSON.parse('{"__proto__":{"id":"x"}}')),
    fc.jsonValue({ maxDepth: 2 }),
  );
  if (isNonNullType(type)) return valueFor(type.ofType, ctx, depth);
  if (isListType(type)) {
    const item = valueFor(type.ofType, ctx, depth + 1);
    return fc.oneof(
      { arbitrary: fc.array(item, { maxLength: 4 }), weight: 8 },
      { arbitrary: item, weight: 1 },
      { arbitrary: junk, weight: 1 },
    );
  }
  const named = getNamedType(type);
  let fitting: fc.Arbitrary<unknown>;
  if (isEnumType(named)) {
    fitting = fc.oneof(
      fc.constantFrom(...named.getValues().map((v) => v.name)),
      fc.constantFrom('NOPE', 'idle', 1),
    );
  } else if (isInputObjectType(named)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(named.getFields());
    fitting = fc
      .tuple(
        ...fields.map((field) =>
          maybe(valueFor(field.type, ctx, depth + 1), isNonNullType(field.type) ? 0.95 : 0.5).map(
            (value) => [field.name, value] as const,
          ),
        ),
        maybe(fc.constantFrom(['bogus', 1] as const, ['__proto__', { id: 'x' }] as const), 0.1),
      )
      .map((entries) =>
        Object.fromEntries(
          entries.filter((entry): entry is readonly [string, unknown] => entry?.[1] !== undefined),
        ),
      );
  } else {
    switch (named.name) {
      case 'ID':
        fitting = fc.oneof(
          { arbitrary: idValue(ctx.realIds), weight: 9 },
          { arbitrary: fc.integer(), weight: 1 },
        );
        break;
      case 'Int':
        fitting = fc.oneof(
          fc.integer({ min: -5, max: 600 }),
          fc.constantFrom(2147483648, -2147483649, 1.5, '1', Number.MAX_SAFE_INTEGER),
        );
        break;
      case 'Float':
        fitting = fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.constantFrom('NaN', 1e308),
        );
        break;
      case 'Boolean':
        fitting = fc.constantFrom(true, false, 'true', 1);
        break;
      case 'DateTime':
        fitting = fc.oneof(dateTimes(), fc.constantFrom(0, 1e15, {}, []));
        break;
      default:
        fitting = hostileString;
    }
  }
  return fc.oneof({ arbitrary: fitting, weight: 9 }, { arbitrary: junk, weight: 1 });
}

/** One root field, every argument a variable: `{ query, variables }`. */
const schemaOperationWithVariables: fc.Arbitrary<{ query: string; variables: unknown }> = fc
  .tuple(fc.boolean(), fc.nat())
  .chain(([isMutation, pick]) => {
    const root = isMutation && pick % 5 === 0 ? mutationType : queryType;
    const ctx = { realIds: root === queryType };
    const fields = Object.values(root.getFields()).filter((field) => field.args.length > 0);
    const field = fields[pick % fields.length]!;
    const named = getNamedType(field.type);
    const selection = isObjectType(named) ? selectionFor(named, 1, ctx) : fc.constant('');
    return fc
      .tuple(
        selection,
        fc.tuple(...field.args.map((arg) => maybe(valueFor(arg.type, ctx), 0.9))),
        // Now and then a variable is declared with another type than the argument's.
        maybe(fc.constantFrom('String', 'Int', '[ID]', 'Robot', 'DateTime!'), 0.1),
      )
      .map(([sel, values, wrongType]) => {
        const definitions = field.args
          .map((arg, i) => `$v${i}: ${i === 0 && wrongType ? wrongType : String(arg.type)}`)
          .join(', ');
        const uses = field.args.map((arg, i) => `${arg.name}: $v${i}`).join(', ');
        const variables = Object.fromEntries(
          values.flatMap((value, i) => (value === undefined ? [] : [[`v${i}`, value]])),
        );
        return {
          query: `${root === mutationType ? 'mutation' : 'query'} Op(${definitions}) { ${field.name}(${uses}) ${sel} }`,
          variables,
        };
      });
  });

// ------------------------------------------------------------------------- classic attacks

const post = (
  body: string | Uint8Array,
  headers: Readonly<Record<string, string>> = JSON_HEADERS,
): RequestShape => ({
  method: 'POST',
  search: '',
  headers,
  body,
});
const postQuery = (query: string, variables?: unknown, extra: Record<string, unknown> = {}) =>
  post(json({ query, ...(variables === undefined ? {} : { variables }), ...extra }));

/** Cyclic paths through the schema, nested `levels` times. */
const deepNesting = fc.oneof(
  fc
    .integer({ min: 3, max: 120 })
    .map((levels) =>
      postQuery(
        `{ fleet(id: "${FLEET}") ${'{ robots(first: 2) { nodes { fleet '.repeat(levels)}{ id }${' } } }'.repeat(levels)} }`,
      ),
    ),
  fc
    .integer({ min: 3, max: 150 })
    .map((levels) =>
      postQuery(
        `{ me ${'{ organization { users(first: 2) { nodes '.repeat(levels)}{ id }${' } } }'.repeat(levels)} }`,
      ),
    ),
  fc
    .integer({ min: 10, max: 1400 })
    .map((levels) =>
      postQuery(`{ robots(ids: ${'['.repeat(levels)}"x"${']'.repeat(levels)}) { id } }`),
    ),
  fc
    .integer({ min: 10, max: 700 })
    .map((levels) =>
      postQuery(`{ ${'... on Query { '.repeat(levels)}__typename${' }'.repeat(levels)} }`),
    ),
  fc
    .integer({ min: 10, max: 900 })
    .map((levels) =>
      postQuery(
        `mutation { updateUser(input: ${'{ id: '.repeat(levels)}"x"${' }'.repeat(levels)}) { id } }`,
      ),
    ),
  // Deep JSON the GraphQL document never sees: variables, extensions, unknown members.
  fc
    .tuple(fc.integer({ min: 10, max: 400_000 }), fc.constantFrom('variables', 'extensions', 'zz'))
    .map(([levels, where]) =>
      post(
        `{"query":"query($ids: [ID!]) { robots(ids: $ids) { id } }","${where}":{"ids":${'['.repeat(levels)}${']'.repeat(levels)}}}`,
      ),
    ),
  fc
    .integer({ min: 10, max: 300_000 })
    .map((levels) =>
      post(
        `{"query":"query($i: UpdateUserInput!) { updateUser(input: $i) { id } }","variables":{"i":${'{"id":'.repeat(levels)}"x"${'}'.repeat(levels)}}}`,
      ),
    ),
);

const aliasBomb = fc
  .tuple(
    fc.integer({ min: 10, max: 2500 }),
    fc.constantFrom(
      'me { id }',
      '__typename',
      `robot(id: "${ROBOT}") { id serial }`,
      'fleets { id }',
    ),
  )
  .map(([count, field]) =>
    postQuery(`{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`),
  );

/** "Billion laughs": each fragment spreads the next one `fanOut` times. */
const fragmentBomb = fc
  .tuple(
    fc.integer({ min: 2, max: 40 }),
    fc.integer({ min: 2, max: 5 }),
    fc.constantFrom('User', 'Query'),
  )
  .map(([levels, fanOut, on]) => {
    const leaf = on === 'User' ? 'id displayName' : 'me { id }';
    const fragments = Array.from(
      { length: levels },
      (_, i) =>
        `fragment F${i} on ${on} { ${Array.from({ length: fanOut }, (__, j) => `...F${i + 1} f${j}: __typename`).join(' ')} }`,
    ).join(' ');
    const root = on === 'User' ? '{ me { ...F0 } }' : '{ ...F0 }';
    return postQuery(`${root} ${fragments} fragment F${levels} on ${on} { ${leaf} }`);
  });

const circularFragments = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((length) => {
    const fragments = Array.from(
      { length },
      (_, i) => `fragment C${i} on User { id ...C${(i + 1) % length} }`,
    ).join(' ');
    return postQuery(`{ me { ...C0 } } ${fragments}`);
  }),
  fc.integer({ min: 1, max: 4 }).map((length) => {
    const fragments = Array.from(
      { length },
      (_, i) =>
        `fragment N${i} on User { organization { users { nodes { ...N${(i + 1) % length} } } } }`,
    ).join(' ');
    return postQuery(`{ me { ...N0 } } ${fragments}`);
  }),
  fc.constantFrom(
    postQuery('{ me { ...Missing } }'),
    postQuery('{ me { id } } fragment Unused on User { id }'),
    postQuery('{ me { ...A } } fragment A on User { id } fragment A on User { displayName }'),
    postQuery('{ me { ...A } } fragment A on Robot { id }'),
    postQuery('{ me { ...A } } fragment A on Nope { id }'),
    postQuery('{ ...Q } fragment Q on Query { ...Q }'),
    postQuery('fragment A on Query { ...B } fragment B on Query { ...A }'),
  ),
);

/** Sizes for huge values: mostly up to 100 kB, sometimes megabytes (bounded by 4 MB). */
const hugeSize = fc.oneof(
  { arbitrary: fc.integer({ min: 1_000, max: 100_000 }), weight: 8 },
  { arbitrary: fc.integer({ min: 100_000, max: 1_000_000 }), weight: 2 },
  { arbitrary: fc.integer({ min: 1_000_000, max: 3_900_000 }), weight: 1 },
);

const hugeStrings = fc
  .tuple(hugeSize, fc.constantFrom('x', 'é', '\u0000', '\\"', '🤖', ' '), fc.nat(6))
  .map(([size, unit, where]) => {
    const big = repeated(unit, size);
    switch (where) {
      case 0:
        return postQuery(`{ robot(id: ${gqlString(big)}) { id } }`);
      case 1:
        return postQuery('query($id: ID!) { robot(id: $id) { id } }', { id: big });
      case 2:
        return postQuery(
          'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
          {
            input: {
              organizationId: '00000000-0000-4000-8000-000000000000',
              email: `${big}@example.com`,
              displayName: big,
            },
          },
        );
      case 3:
        return postQuery('{ __typename }', undefined, { operationName: big });
      case 4:
        return postQuery(`{ ${repeated('a', size)} }`);
      case 5:
        return postQuery(`# ${big.replace(/\n/g, ' ')}\n{ __typename }`);
      default:
        return postQuery(`{${repeated(' ', size)}__typename }`);
    }
  });

const hugeLists = fc
  .tuple(
    fc.oneof(fc.integer({ min: 501, max: 5_000 }), fc.integer({ min: 5_000, max: 150_000 })),
    fc.nat(3),
  )
  .map(([count, where]) => {
    switch (where) {
      case 0:
        return postQuery('query($ids: [ID!]!) { robots(ids: $ids) { id } }', {
          ids: Array.from({ length: count }, (_, i) => (i % 2 ? ROBOT : 'x')),
        });
      case 1:
        return postQuery('query($ids: [ID!]!) { users(ids: $ids) { id } }', {
          ids: new Array<string>(count).fill(seedIds.user(0, 1)),
        });
      case 2:
        return postQuery(
          'mutation($input: AssignMissionInput!) { assignMission(input: $input) { id } }',
          {
            input: {
              robotId: '00000000-0000-4000-8000-000000000000',
              steps: new Array<string>(Math.min(count, 20_000)).fill('go'),
            },
          },
        );
      default:
        return postQuery(
          'mutation($samples: [TelemetrySampleInput!]!) { reportTelemetry(robotId: "00000000-0000-4000-8000-000000000000", samples: $samples) { accepted } }',
          {
            samples: new Array(Math.min(count, 20_000)).fill({
              recordedAt: new Date().toISOString(),
              batteryPercent: 50,
            }),
          },
        );
    }
  });

const VALID_BODIES = [
  json({ query: '{ me { id displayName } }' }),
  json({ query: `{ robot(id: "${ROBOT}") { id serial } }` }),
  json({ query: 'query($id: ID!) { fleet(id: $id) { name } }', variables: { id: FLEET } }),
  json({ query: '{ __typename }' }),
];

/** Bytes that are not UTF-8 (or not the UTF-8 they look like). */
const BAD_BYTES = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0xf0, 0x9f], // truncated emoji
  [0x00],
  [0xc3],
];

const invalidUtf8 = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...VALID_BODIES),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(...BAD_BYTES)), { minLength: 1, maxLength: 5 }),
    )
    .map(([text, insertions]) => {
      let bytes = Buffer.from(text, 'utf8');
      for (const [at, bad] of insertions) {
        const i = at % (bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]);
      }
      return post(bytes);
    }),
  fc.constantFrom(...VALID_BODIES).map((text) => post(Buffer.from(text, 'utf16le'))),
  fc
    .constantFrom(...VALID_BODIES)
    .map((text) => post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))),
  fc
    .constantFrom('\\ud800', '\\udfff', '\\u0000', '\\ud83e\\udd16', '\\uffff', '\\uZZZZ')
    .chain((escape) =>
      fc.constantFrom(
        post(`{"query":"{ robot(id: \\"${escape}\\") { id } }"}`),
        post(
          `{"query":"query($id: ID!) { robot(id: $id) { id } }","variables":{"id":"${escape}"}}`,
        ),
        post(`{"query":"{ me { id } }","operationName":"${escape}"}`),
      ),
    ),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => post(bytes)),
);

const contentTypes = fc
  .tuple(
    fc.constantFrom(...VALID_BODIES),
    fc.constantFrom(
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/graphql',
      'application/xml',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'application/json;;;',
      'application/graphql-response+json',
      '*/*',
      'json',
      '',
      'x'.repeat(2000),
    ),
    fc.boolean(),
  )
  .map(([body, type, preflight]) =>
    post(body, {
      ...(type ? { 'content-type': type } : {}),
      ...(preflight ? { 'apollo-require-preflight': 'true' } : {}),
    }),
  );

const batched = fc
  .array(
    fc.oneof(
      fc.constantFrom(...VALID_BODIES).map((text) => JSON.parse(text) as unknown),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constant([]),
    ),
    { maxLength: 30 },
  )
  .map((operations) => post(json(operations)));

const oversized = fc
  .tuple(fc.integer({ min: 4_000_001, max: 4_300_000 }), fc.nat(2))
  .map(([size, shape]) => {
    if (shape === 0)
      return post(`{"query":"{ __typename }","variables":{"pad":"${repeated('a', size)}"}}`);
    if (shape === 1) return post(repeated('[', size));
    // Chunked transfer encoding: no Content-Length to refuse the body by.
    const chunk = repeated('x', 256_000);
    return {
      method: 'POST',
      search: '',
      headers: JSON_HEADERS,
      body: { chunks: new Array<string>(Math.ceil(size / chunk.length)).fill(chunk) },
    };
  });

const malformedJson = fc.oneof(
  fc
    .tuple(fc.constantFrom(...VALID_BODIES), fc.nat())
    .map(([text, cut]) => post(text.slice(0, cut % text.length))),
  fc.jsonValue().map((value) => post(json(value))),
  fc
    .tuple(
      fc.constantFrom('query', 'variables', 'operationName', 'extensions'),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('{}', '"{\\"id\\":1}"')),
    )
    .map(([key, value]) => post(json({ query: '{ me { id } }', [key]: value }))),
  fc.constantFrom(
    post('{"query":"{ me { id } }","query":"{ __typename }"}'),
    post('{"query":"{ me { id } }"} trailing'),
    post("{'query':'{ me { id } }'}"),
    post('{"query":"{ me { id } }", /* comment */ "variables": {}}'),
    post('{"query":"{ me { id } }","variables":NaN}'),
    post('{"__proto__":{"query":"{ me { email } }"},"query":"{ me { id } }"}'),
    post('{"constructor":{"prototype":{"polluted":true}},"query":"{ __typename }"}'),
    post('{"query":"{ me { id } }","variables":{"__proto__":{"isAdmin":true}}}'),
    post(
      '{"query":"query($id: ID!) { user(id: $id) { id } }","variables":{"__proto__":{"id":"x"}}}',
    ),
    post(''),
    post(' '),
    post('\u0000'),
  ),
);

const GRAPHQL_TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '!',
  '$',
  '@',
  '...',
  '=',
  '|',
  '&',
  '"',
  '"""',
  '#',
  ',',
  'query',
  'mutation',
  'subscription',
  'fragment',
  'on',
  'me',
  'robot',
  'id',
  'fleets',
  '__typename',
  '__schema',
  'null',
  '1',
  '-',
  '.',
  '\n',
];

const syntaxGarbage = fc.oneof(
  fc
    .array(fc.constantFrom(...GRAPHQL_TOKENS), { minLength: 1, maxLength: 60 })
    .map((tokens) => postQuery(tokens.join(' '))),
  fc.string({ maxLength: 80 }).map((text) => postQuery(text)),
  fc.string({ unit: 'binary', maxLength: 80 }).map((text) => postQuery(text)),
  fc.constantFrom(
    postQuery('{'),
    postQuery('}'),
    postQuery('"""'),
    postQuery('{ me { id } '),
    postQuery('{ me { id } } }'),
    postQuery('{ "me" }'),
    postQuery('{ me(id:) { id } }'),
    postQuery('{ me { id }'.repeat(50)),
  ),
);

/** Introspection in every disguise, against the production router (where it is off). */
const introspection = fc.oneof(
  fc
    .constantFrom(
      '{ __schema { types { name } } }',
      '{ __type(name: "Robot") { fields { name } } }',
      '{ a: __schema { b: queryType { c: name } } }',
      'query { ... on Query { __schema { types { name } } } }',
      '{ ...F } fragment F on Query { __schema { directives { name } } }',
      'fragment T on __Type { name fields { name } } { __schema { types { ...T } } }',
      '{ __schema @include(if: true) { types { name } } }',
      'query A { __typename } query B { __schema { types { name } } }',
      '{ __type(name: "User") { name } me { id } }',
      '{ __schema { mutationType { fields { name args { name } } } } }',
      'query IntrospectionQuery { __schema { queryType { name } } }',
    )
    .chain((query) =>
      fc.oneof(
        fc.constant(postQuery(query)),
        fc.constant(postQuery(query, undefined, { operationName: 'B' })),
        fc.constant({
          method: 'GET',
          search: `?query=${encodeURIComponent(query)}`,
          headers: { 'apollo-require-preflight': 'true' },
        }),
        fc.constant(
          postQuery(query, undefined, {
            extensions: {
              persistedQuery: {
                version: 1,
                sha256Hash: createHash('sha256').update(query).digest('hex'),
              },
            },
          }),
        ),
      ),
    ),
  // Field suggestions also describe the schema: typos must not be answered with a name.
  fc
    .constantFrom('{ robto(id: "x") { id } }', '{ me { emial } }', '{ flets { id } }')
    .map((query) => postQuery(query)),
);

/** Paginated fields, each with the id of an object of organization 0. */
const PAGINATED = [
  `fleet(id: "${FLEET}") { robots(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } }`,
  `organization(id: "${ORG}") { users(first: 2, after: $after) { nodes { id } } }`,
  'me { sessions(first: 2, after: $after) { nodes { id } } }',
  `robot(id: "${ROBOT}") { missions(first: 2, after: $after) { nodes { id } } }`,
];

function forgedCursor(fixtures: Fixtures): fc.Arbitrary<string> {
  const real = fixtures.realCursor;
  const [body = '', signature = ''] = real.split('.');
  const b64 = (value: unknown) => Buffer.from(json(value)).toString('base64url');
  return fc.oneof(
    hostileString,
    fc.constantFrom(
      '.',
      '..',
      'a.b',
      `${body}.`,
      `.${signature}`,
      `${signature}.${body}`,
      real + real,
    ),
    fc.nat().map((i) => {
      const at = i % real.length;
      const flipped = real[at] === 'A' ? 'B' : 'A';
      return `${real.slice(0, at)}${flipped}${real.slice(at + 1)}`;
    }),
    fc
      .record({
        b: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constantFrom(1.5, '0', null, 1e308)),
        p: fc.oneof(
          fc.constant(null),
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 80 }),
          fc.constantFrom('zz', '00'),
        ),
        t: fc.constantFrom(Date.now(), 0, Date.now() + 1e12, 'x'),
      })
      .chain((state) =>
        fc.constantFrom(`${b64(state)}.${signature}`, `${b64(state)}.${'A'.repeat(32)}`),
      ),
    // A cursor of another connection (organization 0's second fleet) on this one.
    fc.constant(real.replace(/^[^.]*/, b64({ b: 3, p: null, t: Date.now() }))),
  );
}

function forgedCursors(fixtures: Fixtures) {
  return fc
    .tuple(fc.constantFrom(...PAGINATED), forgedCursor(fixtures), fc.boolean())
    .map(([field, cursor, inline]) =>
      inline
        ? postQuery(`{ ${field.replace('$after', gqlString(cursor))} }`)
        : postQuery(`query($after: String) { ${field} }`, { after: cursor }),
    );
}

const ID_FIELDS = [
  'user(id: $id) { id displayName email roles }',
  'organization(id: $id) { id name }',
  'fleet(id: $id) { id name robots(first: 1) { nodes { id } } }',
  'robot(id: $id) { id serial firmware operator { id } }',
  'mission(id: $id) { id status }',
  'session(id: $id) { id active }',
  'sessionValidity(id: $id) { active }',
];

const forgedIds = fc.oneof(
  fc
    .tuple(fc.constantFrom(...ID_FIELDS), idValue(true), fc.boolean())
    .map(([field, id, inline]) =>
      inline
        ? postQuery(`{ ${field.replace('$id', gqlString(id))} }`)
        : postQuery(`query($id: ID!) { ${field} }`, { id }),
    ),
  fc
    .array(idValue(true), { maxLength: 20 })
    .chain((ids) =>
      fc.constantFrom(
        postQuery('query($ids: [ID!]!) { robots(ids: $ids) { id serial } }', { ids }),
        postQuery('query($ids: [ID!]!) { users(ids: $ids) { id displayName } }', { ids }),
      ),
    ),
);

const httpMethods: fc.Arbitrary<RequestShape> = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        schemaDocument,
        fc.constantFrom('{ me { id } }', 'mutation { revokeAllSessions(userId: "x") }'),
      ),
      maybe(
        fc.oneof(fc.jsonValue({ maxDepth: 2 }).map(json), fc.constantFrom('{', '%', 'null')),
        0.3,
      ),
      maybe(fc.constantFrom('{', '{"persistedQuery":5}', '[]'), 0.2),
      fc.boolean(),
    )
    .map(([query, variables, extensions, preflight]) => ({
      method: 'GET',
      search: `?query=${encodeURIComponent(query)}${variables === undefined ? '' : `&variables=${encodeURIComponent(variables)}`}${extensions === undefined ? '' : `&extensions=${encodeURIComponent(extensions)}`}`,
      headers: preflight ? PREFLIGHT : {},
    })),
  fc
    .tuple(fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS'), fc.constantFrom(...VALID_BODIES))
    .map(([method, body]) => ({ method, search: '', headers: JSON_HEADERS, body })),
  fc.constantFrom(
    { method: 'GET', search: '', headers: { 'apollo-require-preflight': 'true' } },
    { method: 'GET', search: '?query=', headers: { 'apollo-require-preflight': 'true' } },
    { method: 'GET', search: '?query=%E0%A4%A', headers: { 'apollo-require-preflight': 'true' } },
    {
      method: 'GET',
      search: '?query=%7B__typename%7D&query=%7Bme%7Bid%7D%7D',
      headers: { 'apollo-require-preflight': 'true' },
    },
  ),
);

/** An unsigned ("alg": "none") or wrongly signed token claiming to be organization 1's admin. */
function forgedTokens(fixtures: Fixtures): fc.Arbitrary<string> {
  const b64 = (value: unknown) => Buffer.from(json(value)).toString('base64url');
  const claims = {
    sub: seedIds.user(1, 0),
    org: seedIds.organization(1),
    roles: ['admin'],
    exp: Math.floor(Date.now() / 1000) + 600,
  };
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  const hs512 = (() => {
    const head = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(claims)}`;
    return `${head}.${createHmac('sha512', fixtures.jwtSecret).update(head).digest('base64url')}`;
  })();
  const wrongKey = (() => {
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
    return `${head}.${createHmac('sha256', 'not-the-secret').update(head).digest('base64url')}`;
  })();
  return fc.oneof(
    fc.constantFrom(none, hs512, wrongKey, 'a.b.c', '...', 'eyJ.eyJ.x'),
    fc.string({ unit: 'grapheme-ascii', maxLength: 200 }).filter((s) => !/[\r\n]/.test(s)),
  );
}

function headerAttacks(fixtures: Fixtures): fc.Arbitrary<RequestShape> {
  const printable = fc
    .string({ unit: 'grapheme-ascii', maxLength: 300 })
    .map((s) => s.replace(/[^\x20-\x7e]/g, ''));
  return fc
    .tuple(
      fc.constantFrom(...VALID_BODIES),
      fc.oneof(
        forgedTokens(fixtures).map((token) => ({ authorization: `Bearer ${token}` })),
        printable.map((value) => ({ authorization: value })),
        fc.constantFrom<Record<string, string>[]>(
          { authorization: 'Basic YWRtaW46YWRtaW4=' },
          { authorization: 'Bearer' },
          { authorization: 'ApiKey ' },
          { authorization: 'ApiKey fgk_nope' },
          { 'x-api-key': 'fgk_' },
          { 'x-api-key': `fgk_${'a'.repeat(4000)}` },
        ),
        printable.map((value) => ({ 'x-api-key': value || 'x' })),
        printable.map((value) => ({ accept: value })),
        printable.map((value) => ({ 'x-request-id': value || 'x' })),
        // Identity headers are the router's to send, never a client's to pass through.
        fc.constant({
          'x-fleetgraph-identity': Buffer.from(
            json({
              kind: 'service',
              service: 'router',
            }),
          ).toString('base64url'),
          'x-fleetgraph-timestamp': String(Date.now()),
          'x-fleetgraph-signature': '0'.repeat(64),
        }),
      ),
    )
    .map(([body, headers]) => ({
      method: 'POST',
      search: '',
      headers: { ...JSON_HEADERS, ...headers },
      body,
      // These cases bring their own credentials.
      persona: 'anonymous' as const,
    }));
}

const persistedQueries = fc
  .tuple(
    fc.oneof(fc.constantFrom(0, 2, '1', null, -1, 1e308), fc.constant(1), fc.constant(1)),
    fc.oneof(
      fc.constant(createHash('sha256').update('{ __typename }').digest('hex')),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
      hostileString,
      fc.constantFrom(5, null, 'A'.repeat(100_000)),
    ),
    maybe(fc.constantFrom('{ __typename }', '{ me { id } }'), 0.5),
  )
  .map(([version, sha256Hash, query]) =>
    post(
      json({
        ...(query === undefined ? {} : { query }),
        extensions: { persistedQuery: { version, sha256Hash } },
      }),
    ),
  );

const directives = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('true', 'false', '"true"', '1', 'null', '$undefined', '[true]'),
      fc.constantFrom('@include', '@skip'),
    )
    .map(([value, name]) => postQuery(`{ me ${name}(if: ${value}) { id } }`)),
  fc
    .integer({ min: 1, max: 80 })
    .map((count) => postQuery(`{ me { id ${'@include(if: true) '.repeat(count)} } }`)),
  fc.constantFrom(
    postQuery('{ me @foo { id } }'),
    postQuery('{ me { id @deprecated } }'),
    postQuery('{ me { id @cacheControl(maxAge: 99999) } }'),
    postQuery('{ me { ... @defer { id } } }'),
    postQuery(`{ fleet(id: "${FLEET}") { robots { nodes @stream(initialCount: 1) { id } } } }`),
    postQuery('query @skip(if: true) { me { id } }'),
    postQuery('{ me { ...F @include(if: false) } } fragment F on User @skip(if: true) { id }'),
    postQuery('query($b: Boolean) { me @include(if: $b) { id } }', { b: 'yes' }),
    postQuery('subscription { me { id } }'),
  ),
);

const operations = fc.constantFrom(
  postQuery('query A { me { id } } query B { __typename }'),
  postQuery('query A { me { id } } query B { __typename }', undefined, { operationName: 'C' }),
  postQuery('query A { me { id } } query A { __typename }', undefined, { operationName: 'A' }),
  postQuery('{ me { id } } query B { __typename }'),
  postQuery('{ me { id } }', undefined, { operationName: 'Nope' }),
  postQuery('query($a: ID, $a: ID) { robot(id: $a) { id } }'),
  postQuery('query($a: ID) { __typename }'),
  postQuery('{ robot(id: $nowhere) { id } }'),
  postQuery('query($r: Robot) { __typename }'),
  postQuery('query($id: ID! = 5) { robot(id: $id) { id } }'),
  postQuery('query($id: [[[ID]]]) { robot(id: $id) { id } }', { id: [[['x']]] }),
  postQuery('fragment F on Query { __typename }'),
  postQuery('subscription S { me { id } }'),
  postQuery('mutation { }'),
  postQuery('query { }'),
  postQuery('mutation M { __typename }'),
  postQuery('mutation { a: revokeAllSessions(userId: "x") b: revokeAllSessions(userId: "y") }'),
);

/** Every category, weighted; `fixtures` come from the running stack. */
export function hostileCases(fixtures: Fixtures): fc.Arbitrary<HostileCase> {
  const persona = fc.oneof(
    { arbitrary: fc.constant<Persona>('admin'), weight: 10 },
    { arbitrary: fc.constant<Persona>('viewer'), weight: 3 },
    { arbitrary: fc.constant<Persona>('anonymous'), weight: 3 },
    { arbitrary: fc.constant<Persona>('otherAdmin'), weight: 2 },
  );
  const of = (
    category: Category,
    weight: number,
    shape: fc.Arbitrary<RequestShape>,
    target: HostileCase['target'] = 'router',
  ) => ({
    weight,
    arbitrary: fc
      .tuple(shape, persona)
      .map(([s, who]): HostileCase => ({ ...s, category, target, persona: s.persona ?? who })),
  });
  return fc.oneof(
    of(
      'schema-documents',
      14,
      schemaDocument.map((query) => postQuery(query)),
    ),
    of(
      'schema-variables',
      10,
      schemaOperationWithVariables.map(({ query, variables }) => postQuery(query, variables)),
    ),
    of('deep-nesting', 6, deepNesting),
    of('alias-bomb', 4, aliasBomb),
    of('fragment-bomb', 4, fragmentBomb),
    of('circular-fragments', 4, circularFragments),
    of('huge-strings', 4, hugeStrings),
    of('huge-lists', 3, hugeLists),
    of('invalid-utf8', 6, invalidUtf8),
    of('content-types', 5, contentTypes),
    of('batched', 4, batched),
    of('oversized', 1, oversized),
    of('malformed-json', 7, malformedJson),
    of('syntax-garbage', 6, syntaxGarbage),
    of('introspection-production', 6, introspection, 'production'),
    of('forged-cursors', 5, forgedCursors(fixtures)),
    of('forged-ids', 6, forgedIds),
    of('http-methods', 5, httpMethods),
    of('headers', 5, headerAttacks(fixtures)),
    of('persisted-queries', 4, persistedQueries),
    of('directives', 4, directives),
    of('operations', 4, operations),
  );
}

/**
 * `_entities` representations for a subgraph whose entity types are `typenames` (the router
 * does not expose `_entities`): mostly of its own types with ids of every kind (other tenants'
 * included), sometimes with unknown typenames or not objects at all.
 */
export function malformedRepresentations(typenames: readonly string[]): fc.Arbitrary<unknown[]> {
  return fc.array(
    fc.oneof(
      {
        weight: 12,
        arbitrary: fc.record({
          __typename: fc.constantFrom(...typenames),
          id: fc.oneof(idValue(true), fc.jsonValue({ maxDepth: 1 })),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          __typename: fc.constantFrom('Nope', '__proto__', 'constructor', 'Query', 'PageInfo'),
        }),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).filter((value) => value !== null) },
    ),
    { minLength: 1, maxLength: 5 },
  );
}
