/**
 * Tenant isolation under attack: organization A (seeded organization 0) tries every route the
 * schema allows to read or change organization B's (seeded organization 1's) data — root
 * fields, nested references, `_entities` through the router and straight to every subgraph,
 * aliases, fragments, batches, cursors of B replayed by A, A's partner key, mutations on B's
 * objects, the response cache and forged identity headers. Every attempt is its own test and
 * must be denied the way docs/authorization.md says (B's objects are null, like unknown ids;
 * mutations NOT_FOUND, or FORBIDDEN by role/scope) and leak no field of B.
 *
 * @remarks
 * The routes come from the schema where they can: every root field taking an id
 * (schema/api-schema.graphql), every entity type of every subgraph (schema/subgraphs/*.graphql,
 * types with @key), every paginated field (an `after` argument), every mutation. A new field
 * or entity gets a test that fails until it has a target below, and the coverage tests fail
 * for a new mutation or connection without an attack. Each read attack has a control: the
 * same document asked by B's admin returns the object, so a denial is never vacuous (a
 * document the router refuses for its limits would "deny" everybody).
 *
 * Leaks are looked for as B's markers in the answer: ids of B's objects, its email domain, its
 * serial prefix and the unique strings of the objects made here, unless the attacker already
 * sent that value (ids echoed in a NOT_FOUND message) or it is on A's own rows.
 *
 * Writes: mutations aim at objects of B made for this test, and each attack compares the rows
 * it could have touched in Cassandra before and after.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import cassandra from 'cassandra-driver';
import {
  buildSchema,
  getNamedType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isObjectType,
  isUnionType,
  parse,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { ApiKeyStore } from '../../router/auth/apiKeys.js';
import { seedIds, SCALES } from '../../scripts/seed-ids.js';
import { BUCKET_COUNT, utcDay } from '../../platform/cassandra/buckets.js';
import { signIdentity, type Identity } from '../../platform/contract/identity.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { AUTH_SERVICE } from '../support/subgraphs.js';

const A = seedIds.organization(0);
const B = seedIds.organization(1);
const BUCKETS = Array.from({ length: BUCKET_COUNT }, (_, i) => i);
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'];
const ALL_SCOPES = ['fleet:read', 'fleet:write', 'telemetry:read', 'telemetry:write', 'users:read'];
const DAY_MS = 86_400_000;
const RUN = randomUUID().slice(0, 8);
const HIGH_LIMITS =
  'user=1000000,anonymous=1000000,partner-standard=1000000,partner-premium=1000000,partner-trial=1000000';
/** Codes a denial may carry (docs/authorization.md); anything else is not a denial. */
const DENIALS = new Set(['FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED']);

// ------------------------------------------------------------------------ the schema's routes

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const api = buildSchema(read('schema/api-schema.graphql'));
const SUBGRAPHS = ['users', 'sessions', 'fleet'] as const;
type SubgraphName = (typeof SUBGRAPHS)[number];
const subgraphSchemas = Object.fromEntries(
  SUBGRAPHS.map((name) => {
    const sdl = read(`schema/subgraphs/${name}.graphql`);
    return [name, { sdl, schema: buildSubgraphSchema([{ typeDefs: parse(sdl) }]) }];
  }),
) as Record<SubgraphName, { sdl: string; schema: GraphQLSchema }>;

/** Root fields that take an object's id (`id: ID!`) or ids (`ids: [ID!]!`). */
function idTakingRootFields(schema: GraphQLSchema): GraphQLField<unknown, unknown>[] {
  return Object.values(schema.getQueryType()!.getFields()).filter(
    (field) =>
      !field.name.startsWith('_') &&
      field.args.some(
        (arg) => (arg.name === 'id' || arg.name === 'ids') && getNamedType(arg.type).name === 'ID',
      ),
  );
}

/** Each subgraph's entity types: object types with @key in its SDL. */
const ENTITIES = SUBGRAPHS.flatMap((subgraph) =>
  parse(subgraphSchemas[subgraph].sdl)
    .definitions.filter(
      (definition) =>
        definition.kind === 'ObjectTypeDefinition' &&
        definition.directives?.some((directive) => directive.name.value === 'key'),
    )
    .map((definition) => ({
      subgraph,
      typename: (definition as { name: { value: string } }).name.value,
    })),
);

/**
 * Entities a subgraph knows by their key only (permissions.ts: fleet's `operatorCheck`,
 * sessions' `sessionUserCheck`): their fields list through tenant-checked loaders, so for B's
 * user they answer the key and A's own objects at most (A's robot B's user operates). Every
 * other entity of B must be null.
 */
const KEY_ONLY_STUBS = new Set(['fleet.User', 'sessions.User']);

/**
 * Fields that page with a cursor (an `after` argument), as `Type.field`. A subscription's
 * `after` is no cursor but an event id to resume after: the subscription's fleet or robot is
 * tenant-checked before any event is read (test/integration/fleet-events.test.ts).
 */
const PAGINATED_FIELDS = Object.values(api.getTypeMap())
  .filter(isObjectType)
  .filter((type) => !type.name.startsWith('__') && type !== api.getSubscriptionType())
  .flatMap((type) =>
    Object.values(type.getFields())
      .filter((field) => field.args.some((arg) => arg.name === 'after'))
      .map((field) => `${type.name}.${field.name}`),
  )
  .sort();

const MUTATIONS = Object.keys(api.getMutationType()!.getFields()).sort();

/** Arguments some fields require, given in every generated selection. */
function requiredArgs(type: string, field: string): string | null {
  if (type === 'Robot' && field === 'telemetry') {
    const to = new Date().toISOString();
    const from = new Date(Date.now() - 3 * DAY_MS).toISOString();
    return `(from: "${from}", to: "${to}", limit: 3)`;
  }
  return null;
}

/**
 * Every field of `type`, `depth` levels down (lists paged small): what an attacker asks for to
 * see everything an object would reveal.
 */
function selectAll(type: GraphQLObjectType, depth: number): string {
  const parts = Object.values(type.getFields()).flatMap((field) => {
    if (field.name.startsWith('_')) return [];
    const named = getNamedType(field.type);
    const paged = field.args.some((arg) => arg.name === 'first') ? '(first: 3)' : '';
    const args = requiredArgs(type.name, field.name) ?? paged;
    if (
      field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined) &&
      !args
    )
      return [];
    if (isLeafType(named)) return [`${field.name}${args}`];
    if (!isObjectType(named)) return [];
    if (depth === 0) {
      const id = 'id' in named.getFields() ? ' id' : '';
      return [`${field.name}${args} { __typename${id} }`];
    }
    return [`${field.name}${args} ${selectAll(named, depth - 1)}`];
  });
  return `{ __typename ${parts.join(' ')} }`;
}

// --------------------------------------------------------------------------------- fixtures

/** What the test made (B's targets, A's rows that point at B) and B's markers. */
interface Fixtures {
  readonly bFleet: string;
  /** A robot of B without a mission (status, missions, telemetry are aimed at it). */
  readonly bRobot: string;
  /** A robot of B on an IN_PROGRESS mission. */
  readonly bBusyRobot: string;
  readonly bMission: string;
  readonly bUser: string;
  readonly bUserEmail: string;
  readonly bSessions: readonly string[];
  readonly aFleet: string;
  /** A's robot row whose fleet, operator and current mission are B's (crafted in Cassandra). */
  readonly aCraftedRobot: string;
  /** A's robot registered through the API with B's user as its operator. */
  readonly aRobotWithBOperator: string;
  /** A's mission row whose robot and creator are B's (crafted in Cassandra). */
  readonly aCraftedMission: string;
}

/** The B object a root field or entity type is attacked with. */
function bObjectOf(typename: string, f: Fixtures): string | undefined {
  return {
    Organization: B,
    User: f.bUser,
    Session: f.bSessions[0],
    SessionValidity: f.bSessions[0],
    Fleet: f.bFleet,
    Robot: f.bRobot,
    Mission: f.bMission,
  }[typename];
}

type Credentials = { token?: string; apiKey?: string; headers?: Record<string, string> };

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

describe('tenant isolation: organization A attacks organization B by every route the schema allows', () => {
  let federation: Federation;
  let fixtures: Fixtures;
  let markers: string[];
  const creds = {} as Record<'aAdmin' | 'aPartner' | 'bAdmin', Credentials>;
  const identities = {} as Record<'aAdmin' | 'aPartner' | 'bAdmin', Identity>;
  const cleanup: (() => Promise<unknown>)[] = [];

  const cql = (query: string, params: unknown[] = []) =>
    federation.cassandra.execute(query, params, { prepare: true });

  /** Rows as plain JSON (uuids, timestamps and sets as strings), for before/after comparisons. */
  async function rows(query: string, params: unknown[]): Promise<string> {
    const result = await cql(query, params);
    return JSON.stringify(
      result.rows.map((row) =>
        Object.fromEntries(
          row.keys().map((key) => {
            const value = row.get(key) as unknown;
            if (value instanceof Set) return [key, [...value].map(String).sort()];
            if (value instanceof Date) return [key, value.toISOString()];
            return [key, value?.toString() ?? null];
          }),
        ),
      ),
    );
  }

  async function viaSubgraph(
    subgraph: SubgraphName,
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
  ): Promise<{ status: number; body: GraphQLBody }> {
    const body = JSON.stringify({ query, variables });
    const response = await fetch(federation.subgraphs[subgraph].url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signIdentity(identity, federation.config.identitySigningSecret, { subgraph, body }),
      },
      body,
    });
    return { status: response.status, body: (await response.json()) as GraphQLBody };
  }

  async function viaRouter(
    query: string,
    variables: Record<string, unknown>,
    credentials: Credentials,
  ): Promise<{ status: number; body: GraphQLBody }> {
    const { status, body } = await federation.query(query, variables, credentials);
    return { status, body: body as GraphQLBody };
  }

  /** As B's admin through a subgraph (set-up only). */
  async function asB<T>(subgraph: SubgraphName, query: string, variables = {}): Promise<T> {
    const { body } = await viaSubgraph(subgraph, query, variables, identities.bAdmin);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data as T;
  }

  /**
   * The answer leaks nothing of B: no marker in it unless the request carried it (an id echoed
   * in a NOT_FOUND message) or it is in `known` (values on A's own rows).
   */
  function assertNoLeak(answer: unknown, request: unknown, known: readonly string[] = []): void {
    const text = JSON.stringify(answer);
    const asked = JSON.stringify(request);
    const leaked = markers.filter(
      (marker) => text.includes(marker) && !asked.includes(marker) && !known.includes(marker),
    );
    assert.deepEqual(leaked, [], `B's data in ${text.slice(0, 600)}`);
  }

  /** A denial: no error outside the denial codes, and every code that is there is one. */
  function assertDenialCodes(body: GraphQLBody): void {
    for (const error of body.errors ?? [])
      assert.ok(
        DENIALS.has(error.extensions?.code ?? ''),
        `a denial, not ${error.extensions?.code}: ${error.message}`,
      );
  }

  /** What a root field answers about another organization's object: null, or nulls. */
  function isNullish(value: unknown): boolean {
    return value === null || (Array.isArray(value) && value.every((item) => item === null));
  }

  /** Null, a list of nulls, 0, an empty list, or an object made only of those and echoes. */
  function isEmpty(value: unknown, echoes: readonly string[]): boolean {
    if (value === null || value === undefined || value === 0 || value === false) return true;
    if (typeof value === 'string') return echoes.includes(value);
    if (Array.isArray(value)) return value.every((item) => item === null);
    if (typeof value === 'object')
      return Object.entries(value).every(
        ([key, item]) => key === '__typename' || isEmpty(item, echoes),
      );
    return false;
  }

  before(async () => {
    federation = await startFederation({ RATE_LIMITS: HIGH_LIMITS });
    const config = federation.config;
    const apiKeys = new ApiKeyStore(federation.cassandra);
    const key = await apiKeys.create({
      organizationId: A,
      name: `tenant isolation ${RUN}`,
      scopes: ALL_SCOPES,
      rateClass: 'partner-standard',
      expiresAt: null,
    });
    cleanup.push(() => apiKeys.revoke(key.keyId));
    const everyRole = ['admin', 'operator', 'viewer'] as const;
    Object.assign(creds, {
      aAdmin: { token: await tokenFor(config, 0, 0, [...everyRole], { sessionId: null }) },
      aPartner: { apiKey: key.token },
      bAdmin: { token: await tokenFor(config, 1, 0, [...everyRole], { sessionId: null }) },
    });
    Object.assign(identities, {
      aAdmin: {
        kind: 'user',
        userId: seedIds.user(0, 0),
        organizationId: A,
        roles: [...everyRole],
        sessionId: null,
      },
      aPartner: { kind: 'partner', apiKeyId: key.keyId, organizationId: A, scopes: ALL_SCOPES },
      bAdmin: {
        kind: 'user',
        userId: seedIds.user(1, 0),
        organizationId: B,
        roles: [...everyRole],
        sessionId: null,
      },
    } satisfies Record<string, Identity>);

    // B's targets. Fleets are listed nowhere (fleets_by_id only), so B's fleet list is as seeded.
    const bFleet = randomUUID();
    const aFleet = randomUUID();
    for (const [fleet, org] of [
      [bFleet, B],
      [aFleet, A],
    ] as const) {
      await cql(
        'INSERT INTO fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [
          fleet,
          org,
          `tenant-${org === B ? 'b' : 'a'}-fleet-${RUN}`,
          `site-${RUN}`,
          'UTC',
          new Date(),
        ],
      );
    }
    const register = async (fleetId: string, label: string, operatorId?: string) =>
      (
        await asB<{ registerRobot: { id: string } }>(
          'fleet',
          'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }',
          {
            input: {
              fleetId,
              serial: `TENANT-B-${RUN}-${label}`,
              model: 'AMR-200',
              firmware: `fw-b-${RUN}`,
              ...(operatorId ? { operatorId } : {}),
            },
          },
        )
      ).registerRobot.id;
    const bUserEmail = `tenant-b-${RUN}@org1.example.com`;
    const bUser = (
      await asB<{ createUser: { id: string } }>(
        'users',
        'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
        {
          input: {
            organizationId: B,
            email: bUserEmail,
            displayName: `Tenant B ${RUN}`,
            roles: ['OPERATOR', 'VIEWER'],
          },
        },
      )
    ).createUser.id;
    const bRobot = await register(bFleet, 'idle', bUser);
    const bBusyRobot = await register(bFleet, 'busy');
    const bMission = (
      await asB<{ assignMission: { id: string } }>(
        'fleet',
        'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["b-secret-step"] }) { id } }',
        { id: bBusyRobot },
      )
    ).assignMission.id;
    const bSessions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { body } = await viaSubgraph(
        'sessions',
        'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
        {
          input: {
            userId: bUser,
            organizationId: B,
            ttlSeconds: 600,
            clientName: `b-client-${RUN}`,
            userAgent: `b-agent-${RUN}`,
            ipAddress: '198.51.100.7',
          },
        },
        AUTH_SERVICE,
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      bSessions.push((body.data as { startSession: { id: string } }).startSession.id);
    }

    // A's rows that point at B: one made through the API (an operator of another organization
    // is not refused: docs/authorization.md, known limits), two crafted in Cassandra.
    const { body: registered } = await viaSubgraph(
      'fleet',
      'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }',
      {
        input: {
          fleetId: aFleet,
          serial: `TENANT-A-${RUN}-operated`,
          model: 'AMR-200',
          operatorId: bUser,
        },
      },
      identities.aAdmin,
    );
    assert.equal(registered.errors, undefined, JSON.stringify(registered.errors));
    const aRobotWithBOperator = (registered.data as { registerRobot: { id: string } }).registerRobot
      .id;
    const aCraftedRobot = randomUUID();
    await cql(
      'INSERT INTO robots_by_id (robot_id, organization_id, fleet_id, serial, model, status, operator_id, current_mission_id, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        aCraftedRobot,
        A,
        bFleet,
        `TENANT-A-${RUN}-crafted`,
        'AMR-200',
        'IDLE',
        bUser,
        bMission,
        new Date(),
      ],
    );
    const aCraftedMission = cassandra.types.TimeUuid.now().toString();
    await cql(
      'INSERT INTO missions_by_id (mission_id, robot_id, organization_id, status, created_by, created_at, steps) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [aCraftedMission, bRobot, A, 'IN_PROGRESS', bUser, new Date(), ['a-step']],
    );

    fixtures = {
      bFleet,
      bRobot,
      bBusyRobot,
      bMission,
      bUser,
      bUserEmail,
      bSessions,
      aFleet,
      aCraftedRobot,
      aRobotWithBOperator,
      aCraftedMission,
    };

    // B's markers: every seeded and made id of B, its email domain and serial prefix, the
    // unique strings of what was made here.
    const shape = SCALES.demo;
    const seeded = [
      B,
      ...Array.from({ length: shape.usersPerOrganization }, (_, u) => [
        seedIds.user(1, u),
        ...Array.from({ length: shape.sessionsPerUser }, (__, s) => seedIds.session(1, u, s)),
      ]).flat(),
      ...Array.from({ length: shape.fleetsPerOrganization }, (_, f) => [
        seedIds.fleet(1, f),
        ...Array.from({ length: shape.robotsPerFleet }, (__, r) => seedIds.robot(1, f, r)),
      ]).flat(),
    ];
    markers = [
      ...seeded,
      bFleet,
      bRobot,
      bBusyRobot,
      bMission,
      bUser,
      ...bSessions,
      '@org1.example.com',
      'SN-1-',
      `TENANT-B-${RUN}`,
      `tenant-b-fleet-${RUN}`,
      `Tenant B ${RUN}`,
      `fw-b-${RUN}`,
      `b-client-${RUN}`,
      `b-agent-${RUN}`,
      '198.51.100.7',
      'b-secret-step',
    ];

    cleanup.push(async () => {
      for (const robot of [bRobot, bBusyRobot, aRobotWithBOperator, aCraftedRobot]) {
        const row = (
          await cql('SELECT serial, operator_id FROM robots_by_id WHERE robot_id = ?', [robot])
        ).first();
        const year = new Date().getUTCFullYear();
        const missions = await cql(
          'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?',
          [robot, year],
        );
        for (const mission of missions.rows)
          await cql('DELETE FROM missions_by_id WHERE mission_id = ?', [mission['mission_id']]);
        await cql('DELETE FROM missions_by_robot WHERE robot_id = ? AND year = ?', [robot, year]);
        if (row?.['serial'])
          await cql('DELETE FROM robots_by_serial WHERE serial = ?', [row['serial']]);
        if (row?.['operator_id'])
          await cql('DELETE FROM robots_by_operator WHERE operator_id = ? AND robot_id = ?', [
            row['operator_id'],
            robot,
          ]);
        await cql('DELETE FROM robots_by_id WHERE robot_id = ?', [robot]);
      }
      await cql('DELETE FROM missions_by_id WHERE mission_id = ?', [aCraftedMission]);
      for (const fleet of [bFleet, aFleet]) {
        await cql('DELETE FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [
          fleet,
          BUCKETS,
        ]);
        await cql('DELETE FROM robots_by_fleet_page WHERE fleet_id = ?', [fleet]);
        for (const status of STATUSES)
          await cql(
            'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?',
            [fleet, status, BUCKETS],
          );
        await cql('DELETE FROM fleets_by_id WHERE fleet_id = ?', [fleet]);
      }
      await cql('DELETE FROM users_by_id WHERE user_id = ?', [bUser]);
      await cql('DELETE FROM users_by_email WHERE email = ?', [bUserEmail]);
      await cql(
        'DELETE FROM users_by_organization WHERE organization_id = ? AND bucket IN ? AND user_id = ?',
        [B, BUCKETS, bUser],
      );
    });
  });

  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await federation?.close();
  });

  // ----------------------------------------------------------------- coverage of the schema

  it('when the schema is read, then every mutation and paginated field has an attack below and there are no interfaces or unions to spread fragments on', () => {
    assert.deepEqual(
      MUTATIONS,
      Object.keys(MUTATION_ATTACKS).sort(),
      'a mutation without an attack',
    );
    assert.deepEqual(
      PAGINATED_FIELDS,
      Object.keys(CURSOR_ROUTES).sort(),
      'a connection without a cursor attack',
    );
    const abstract = Object.values(api.getTypeMap()).filter(
      (type) => !type.name.startsWith('__') && (isInterfaceType(type) || isUnionType(type)),
    );
    assert.deepEqual(
      abstract.map((type) => type.name),
      [],
      'fragments on these need attacks',
    );
    assert.ok(idTakingRootFields(api).length >= 9, 'root fields taking ids were found');
    assert.ok(ENTITIES.length >= 9, 'entity types were found');
  });

  // ------------------------------------------------------------------ root fields, by schema

  for (const field of idTakingRootFields(api)) {
    const typename = getNamedType(field.type).name;
    const many = field.args.some((arg) => arg.name === 'ids');
    const returned = getNamedType(field.type) as GraphQLObjectType;
    const document = `query($id: ${many ? '[ID!]!' : 'ID!'}) { ${field.name}(${many ? 'ids' : 'id'}: $id) ${selectAll(returned, 2)} }`;
    for (const persona of ['aAdmin', 'aPartner'] as const) {
      it(`when A's ${persona === 'aAdmin' ? 'admin' : 'partner key (every scope)'} asks Query.${field.name} for B's ${typename}, then it is null and nothing of B leaks`, async () => {
        const id = bObjectOf(typename, fixtures);
        assert.ok(id, `no B object to attack Query.${field.name} with: add one for ${typename}`);
        const variables = { id: many ? [id, id.toUpperCase()] : id };
        // Control: B's admin gets the object with the same document (sessionValidity is for
        // services only: refused to every user alike).
        if (field.name !== 'sessionValidity') {
          const own = await viaRouter(document, variables, creds.bAdmin);
          const value = own.body.data?.[field.name];
          assert.ok(
            many ? Array.isArray(value) && value[0] !== null : value,
            `B's admin sees it: ${JSON.stringify(own.body).slice(0, 400)}`,
          );
        }
        const { status, body } = await viaRouter(document, variables, creds[persona]);
        assert.equal(status, 200);
        assertDenialCodes(body);
        const value = body.data?.[field.name] ?? null;
        assert.ok(isNullish(value), `denied: ${JSON.stringify(body).slice(0, 400)}`);
        assertNoLeak(body, variables);
      });
    }
  }

  for (const subgraph of SUBGRAPHS) {
    for (const field of idTakingRootFields(subgraphSchemas[subgraph].schema)) {
      const typename = getNamedType(field.type).name;
      const many = field.args.some((arg) => arg.name === 'ids');
      const returned = subgraphSchemas[subgraph].schema.getType(typename) as GraphQLObjectType;
      const document = `query($id: ${many ? '[ID!]!' : 'ID!'}) { ${field.name}(${many ? 'ids' : 'id'}: $id) ${selectAll(returned, 1)} }`;
      it(`when ${subgraph} is called straight with A's admin's signed identity for Query.${field.name} of B's ${typename}, then it is null and nothing of B leaks`, async () => {
        const id = bObjectOf(typename, fixtures);
        assert.ok(id, `no B object to attack ${subgraph} Query.${field.name} with`);
        const variables = { id: many ? [id] : id };
        const { body } = await viaSubgraph(subgraph, document, variables, identities.aAdmin);
        assertDenialCodes(body);
        assert.ok(isNullish(body.data?.[field.name] ?? null), JSON.stringify(body).slice(0, 400));
        assertNoLeak(body, variables);
      });
    }
  }

  // -------------------------------------------------------------------------------- _entities

  it('when _entities or _service is asked through the router, then the router refuses: it does not expose them', async () => {
    assert.equal(api.getQueryType()!.getFields()['_entities'], undefined);
    assert.equal(api.getQueryType()!.getFields()['_service'], undefined);
    for (const query of [
      `{ _entities(representations: [{ __typename: "Robot", id: "${seedIds.robot(1, 0, 0)}" }]) { ... on Robot { id serial } } }`,
      'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
      '{ _service { sdl } }',
    ]) {
      const variables = { r: [{ __typename: 'User', id: seedIds.user(1, 0) }] };
      const { status, body } = await viaRouter(
        query,
        query.includes('$r') ? variables : {},
        creds.aAdmin,
      );
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.data, undefined);
      assert.equal(body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assertNoLeak(body, { query, variables });
    }
  });

  for (const { subgraph, typename } of ENTITIES) {
    const type = subgraphSchemas[subgraph].schema.getType(typename) as GraphQLObjectType;
    const document = `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on ${typename} ${selectAll(type, 2)} } }`;
    for (const persona of ['aAdmin', 'aPartner'] as const) {
      it(`when ${subgraph} is called straight with A's ${persona === 'aAdmin' ? 'admin' : 'partner key'}'s signed identity for _entities of B's ${typename}, then the entity is null (or its bare key) and nothing of B leaks`, async () => {
        const id = bObjectOf(typename, fixtures);
        assert.ok(id, `no B object to attack ${subgraph}'s ${typename} entity with`);
        const variables = { r: [{ __typename: typename, id }] };
        // Control: B's admin gets something (a stub of its key at least).
        const own = await viaSubgraph(subgraph, document, variables, identities.bAdmin);
        assert.ok(
          (own.body.data?.['_entities'] as unknown[] | undefined)?.[0],
          `B's admin gets the entity: ${JSON.stringify(own.body).slice(0, 400)}`,
        );
        const { body } = await viaSubgraph(subgraph, document, variables, identities[persona]);
        assertDenialCodes(body);
        const entity = (body.data?.['_entities'] as unknown[] | undefined)?.[0] ?? null;
        if (!KEY_ONLY_STUBS.has(`${subgraph}.${typename}`))
          assert.equal(entity, null, `denied: ${JSON.stringify(body).slice(0, 400)}`);
        // A count is not a marker: B's user shows what an unknown user has, no sessions.
        if (entity && subgraph === 'sessions') {
          const user = entity as { activeSessionCount: number; sessions: { nodes: unknown[] } };
          assert.equal(user.activeSessionCount, 0, JSON.stringify(body));
          assert.deepEqual(user.sessions.nodes, [], JSON.stringify(body));
        }
        assertNoLeak(body, variables);
      });
    }
  }

  // ------------------------------------------------------------------------ nested references

  const NESTED: {
    readonly name: string;
    readonly document: (f: Fixtures) => string;
    /** Ids on A's own rows, which A may see. */
    readonly known: (f: Fixtures) => string[];
  }[] = [
    {
      name: "A's robot whose operator is B's user (registered through the API): the operator's profile",
      document: (f) =>
        `{ robot(id: "${f.aRobotWithBOperator}") { id operator ${selectAll(api.getType('User') as GraphQLObjectType, 1)} } }`,
      known: (f) => [f.bUser],
    },
    {
      name: "A's robot whose operator is B's user: the operator's sessions and active-session count",
      document: (f) =>
        `{ robot(id: "${f.aRobotWithBOperator}") { operator { activeSessionCount sessions(first: 5, activeOnly: false) { nodes { id client { name userAgent ipAddress } } } } } }`,
      known: (f) => [f.bUser],
    },
    {
      name: "A's robot whose operator is B's user: the robots that user operates",
      document: (f) =>
        `{ robot(id: "${f.aRobotWithBOperator}") { operator { operatedRobots { id serial firmware } } } }`,
      known: (f) => [f.bUser],
    },
    {
      name: "A's robot row pointing at B's fleet, user and mission: its fleet",
      document: (f) =>
        `{ robot(id: "${f.aCraftedRobot}") { id fleet { id name site organization { id name } robots(first: 5) { nodes { id serial } } } } }`,
      known: (f) => [f.bFleet, f.bUser, f.bMission],
    },
    {
      name: "A's robot row pointing at B's fleet, user and mission: its current mission",
      document: (f) =>
        `{ robot(id: "${f.aCraftedRobot}") { id currentMission { id status steps createdBy { id displayName } robot { id serial } } } }`,
      known: (f) => [f.bFleet, f.bUser, f.bMission],
    },
    {
      name: "A's robot row pointing at B's fleet, user and mission: its operator",
      document: (f) =>
        `{ robot(id: "${f.aCraftedRobot}") { id operator { id displayName email roles organization { id name } activeSessionCount } } }`,
      known: (f) => [f.bFleet, f.bUser, f.bMission],
    },
    {
      name: "A's mission row pointing at B's robot and user: its robot and creator",
      document: (f) =>
        `{ mission(id: "${f.aCraftedMission}") { id robot { id serial firmware fleet { name } } createdBy { id displayName email } } }`,
      known: (f) => [f.bRobot, f.bUser],
    },
    {
      name: "A's own organization, fleets and people: no object of B in any list",
      document: () =>
        `{ me { organization { id users(first: 200) { nodes { id email } } fleets { id robots(first: 200) { nodes { id serial operator { id } } } } } sessions(first: 50) { nodes { id user { id } } } } fleets { id name } }`,
      known: () => [],
    },
  ];

  for (const attack of NESTED) {
    it(`when A's admin follows a nested reference — ${attack.name} — then B's object is null and nothing of B leaks`, async () => {
      const query = attack.document(fixtures);
      const { status, body } = await viaRouter(query, {}, creds.aAdmin);
      assert.equal(status, 200);
      assertDenialCodes(body);
      assertNoLeak(body, query, attack.known(fixtures));
    });
  }

  // -------------------------------------------------------------- aliases, fragments, batches

  it("when A's admin mixes aliases of its own robot and B's, then its own comes back and B's is null", async () => {
    const query = `{ mine: robot(id: "${seedIds.robot(0, 0, 0)}") { id } theirs: robot(id: "${fixtures.bRobot}") { id serial } again: robot(id: "${fixtures.bRobot.toUpperCase()}") { id } org: organization(id: "${B}") { id name } }`;
    const { body } = await viaRouter(query, {}, creds.aAdmin);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal((body.data?.['mine'] as { id: string }).id, seedIds.robot(0, 0, 0));
    assert.equal(body.data?.['theirs'], null);
    assert.equal(body.data?.['again'], null);
    assert.equal(body.data?.['org'], null);
    assertNoLeak(body, query);
  });

  it("when A's admin spreads named and inline fragments over B's robot, user and fleet, then each is null", async () => {
    const query = `
      fragment R on Robot { id serial firmware position { latitude } operator { ...U } fleet { ...F } }
      fragment U on User { id email displayName roles }
      fragment F on Fleet { id name robots(first: 3) { nodes { id serial firmware } } }
      query($robot: ID!, $user: ID!, $fleet: ID!) {
        robot(id: $robot) { ...R ... on Robot { serial } }
        user(id: $user) { ...U ... on User { email } }
        fleet(id: $fleet) { ...F }
        robots(ids: [$robot]) { ...R }
      }`;
    const variables = { robot: fixtures.bRobot, user: fixtures.bUser, fleet: fixtures.bFleet };
    const { body } = await viaRouter(query, variables, creds.aAdmin);
    assertDenialCodes(body);
    assert.deepEqual(body.data, { robot: null, user: null, fleet: null, robots: [null] });
    assertNoLeak(body, variables);
  });

  it("when A's partner key batches its own ids with B's in robots(ids:) and users(ids:), then B's elements are null", async () => {
    const query =
      'query($robots: [ID!]!, $users: [ID!]!) { robots(ids: $robots) { id serial } users(ids: $users) { id displayName } }';
    const variables = {
      robots: [seedIds.robot(0, 0, 1), fixtures.bRobot, seedIds.robot(1, 0, 0)],
      users: [seedIds.user(0, 1), fixtures.bUser, seedIds.user(1, 1)],
    };
    const { body } = await viaRouter(query, variables, creds.aPartner);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const robots = body.data?.['robots'] as ({ id: string } | null)[];
    const users = body.data?.['users'] as ({ id: string } | null)[];
    assert.deepEqual(
      robots.map((robot) => robot?.id ?? null),
      [seedIds.robot(0, 0, 1), null, null],
    );
    assert.deepEqual(
      users.map((user) => user?.id ?? null),
      [seedIds.user(0, 1), null, null],
    );
    assertNoLeak(body, variables);
  });

  // ----------------------------------------------------------- B's cursors replayed by A

  const CURSOR_ROUTES: Record<
    string,
    {
      /** How B's admin gets a cursor: the document and where the cursor is in its data. */
      readonly issue: (f: Fixtures) => { query: string; path: string[] };
      /** The same connection of B's object, resumed from `$after`. */
      readonly onB: (f: Fixtures) => string;
      /** The same connection of A's own object, resumed from `$after`. */
      readonly onA: () => string;
    }
  > = {
    'Fleet.robots': {
      issue: (f) => ({
        query: `{ fleet(id: "${f.bFleet}") { robots(first: 1) { pageInfo { endCursor } } } }`,
        path: ['fleet', 'robots', 'pageInfo', 'endCursor'],
      }),
      onB: (f) =>
        `query($after: String) { fleet(id: "${f.bFleet}") { robots(first: 5, after: $after) { nodes { id serial } pageInfo { endCursor } } } }`,
      onA: () =>
        `query($after: String) { fleet(id: "${seedIds.fleet(0, 0)}") { robots(first: 5, after: $after) { nodes { id serial } } } }`,
    },
    'Organization.users': {
      issue: () => ({
        query: `{ organization(id: "${B}") { users(first: 1) { pageInfo { endCursor } } } }`,
        path: ['organization', 'users', 'pageInfo', 'endCursor'],
      }),
      onB: () =>
        `query($after: String) { organization(id: "${B}") { users(first: 5, after: $after) { nodes { id email } } } }`,
      onA: () =>
        `query($after: String) { organization(id: "${A}") { users(first: 5, after: $after) { nodes { id email } } } }`,
    },
    'User.sessions': {
      issue: (f) => ({
        query: `{ user(id: "${f.bUser}") { sessions(first: 1) { pageInfo { endCursor } } } }`,
        path: ['user', 'sessions', 'pageInfo', 'endCursor'],
      }),
      onB: (f) =>
        `query($after: String) { user(id: "${f.bUser}") { sessions(first: 5, after: $after) { nodes { id client { ipAddress userAgent } } } } }`,
      onA: () =>
        'query($after: String) { me { sessions(first: 5, after: $after) { nodes { id client { ipAddress userAgent } } } } }',
    },
    'Robot.missions': {
      issue: () => ({
        query: `{ robot(id: "${seedIds.robot(1, 0, 0)}") { missions(first: 1) { pageInfo { endCursor } } } }`,
        path: ['robot', 'missions', 'pageInfo', 'endCursor'],
      }),
      onB: () =>
        `query($after: String) { robot(id: "${seedIds.robot(1, 0, 0)}") { missions(first: 5, after: $after) { nodes { id steps } } } }`,
      onA: () =>
        `query($after: String) { robot(id: "${seedIds.robot(0, 0, 0)}") { missions(first: 5, after: $after) { nodes { id steps } } } }`,
    },
  };

  /** B's admin's cursor for a connection of B's. */
  async function cursorOfB(route: (typeof CURSOR_ROUTES)[string]): Promise<string> {
    const { query, path } = route.issue(fixtures);
    const { body } = await viaRouter(query, {}, creds.bAdmin);
    let value: unknown = body.data;
    for (const key of path) value = (value as Record<string, unknown> | null)?.[key];
    assert.equal(typeof value, 'string', `B's cursor: ${JSON.stringify(body)}`);
    return value as string;
  }

  for (const [coordinate, route] of Object.entries(CURSOR_ROUTES)) {
    it(`when A's admin replays B's ${coordinate} cursor on B's object, then the object is null and nothing of B leaks`, async () => {
      const after = await cursorOfB(route);
      const control = await viaRouter(route.onB(fixtures), { after }, creds.bAdmin);
      assert.equal(control.body.errors, undefined, `B resumes: ${JSON.stringify(control.body)}`);
      const { body } = await viaRouter(route.onB(fixtures), { after }, creds.aAdmin);
      assertDenialCodes(body);
      assert.ok(isEmpty(body.data ?? null, []), JSON.stringify(body));
      assertNoLeak(body, { after });
    });

    it(`when A's admin replays B's ${coordinate} cursor on its own object, then it is refused as a cursor of another connection`, async () => {
      const after = await cursorOfB(route);
      const { body } = await viaRouter(route.onA(), { after }, creds.aAdmin);
      const codes = (body.errors ?? []).map((error) => error.extensions?.code);
      assert.deepEqual(codes, ['BAD_USER_INPUT'], JSON.stringify(body));
      assert.match(body.errors?.[0]?.message ?? '', /not a valid cursor/);
      assertNoLeak(body, { after });
    });
  }

  // --------------------------------------------------------------------- mutations on B's data

  const MUTATION_ATTACKS: Record<
    string,
    {
      readonly subgraph: SubgraphName;
      readonly document: string;
      readonly variables: (f: Fixtures) => Record<string, unknown>;
      /** The rows the mutation would change, read straight from Cassandra. */
      readonly rows: (f: Fixtures) => Promise<string>;
      /** What a refusal answers when it is not an error (revokeAllSessions: 0). */
      readonly hiddenAs?: unknown;
    }
  > = {
    createUser: {
      subgraph: 'users',
      document:
        'mutation($input: CreateUserInput!) { createUser(input: $input) { id organization { id } } }',
      variables: () => ({
        input: {
          organizationId: B,
          email: `tenant-a-into-b-${RUN}@example.com`,
          displayName: 'Planted by A',
          roles: ['ADMIN'],
        },
      }),
      rows: async () =>
        (await rows(
          'SELECT * FROM users_by_organization_email WHERE organization_id = ? AND email = ?',
          [B, `tenant-a-into-b-${RUN}@example.com`],
        )) +
        (await rows(
          'SELECT user_id FROM users_by_organization WHERE organization_id = ? AND bucket IN ?',
          [B, BUCKETS],
        )),
    },
    updateUser: {
      subgraph: 'users',
      document: 'mutation($input: UpdateUserInput!) { updateUser(input: $input) { id email } }',
      variables: (f) => ({
        input: { id: f.bUser, displayName: 'Renamed by A', email: `hijack-${RUN}@example.com` },
      }),
      rows: async (f) =>
        (await rows('SELECT * FROM users_by_id WHERE user_id = ?', [f.bUser])) +
        (await rows(
          'SELECT * FROM users_by_organization_email WHERE organization_id = ? AND email = ?',
          [B, `hijack-${RUN}@example.com`],
        )),
    },
    setUserRoles: {
      subgraph: 'users',
      document: 'mutation($id: ID!) { setUserRoles(userId: $id, roles: [ADMIN]) { id roles } }',
      variables: (f) => ({ id: f.bUser }),
      rows: (f) => rows('SELECT * FROM users_by_id WHERE user_id = ?', [f.bUser]),
    },
    registerRobot: {
      subgraph: 'fleet',
      document: 'mutation($input: RegisterRobotInput!) { registerRobot(input: $input) { id } }',
      variables: (f) => ({
        input: { fleetId: f.bFleet, serial: `TENANT-A-${RUN}-planted`, model: 'AMR-200' },
      }),
      rows: async (f) =>
        (await rows(
          'SELECT * FROM robots_by_organization_serial WHERE organization_id = ? AND serial = ?',
          [B, `TENANT-A-${RUN}-planted`],
        )) +
        (await rows('SELECT robot_id FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?', [
          f.bFleet,
          BUCKETS,
        ])),
    },
    updateRobotStatus: {
      subgraph: 'fleet',
      document:
        'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: ERROR, batteryPercent: 1) { id status } }',
      variables: (f) => ({ id: f.bRobot }),
      rows: async (f) =>
        (await rows('SELECT * FROM robots_by_id WHERE robot_id = ?', [f.bRobot])) +
        (await rows(
          'SELECT robot_id FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?',
          [f.bFleet, 'ERROR', BUCKETS],
        )),
    },
    assignMission: {
      subgraph: 'fleet',
      document:
        'mutation($id: ID!) { assignMission(input: { robotId: $id, steps: ["planted by A"] }) { id } }',
      variables: (f) => ({ id: f.bRobot }),
      rows: async (f) =>
        (await rows('SELECT * FROM robots_by_id WHERE robot_id = ?', [f.bRobot])) +
        (await rows('SELECT * FROM missions_by_robot WHERE robot_id = ? AND year = ?', [
          f.bRobot,
          new Date().getUTCFullYear(),
        ])),
    },
    completeMission: {
      subgraph: 'fleet',
      document:
        'mutation($id: ID!) { completeMission(missionId: $id, outcome: CANCELLED) { id status } }',
      variables: (f) => ({ id: f.bMission }),
      rows: async (f) =>
        (await rows('SELECT * FROM missions_by_id WHERE mission_id = ?', [f.bMission])) +
        (await rows('SELECT * FROM robots_by_id WHERE robot_id = ?', [f.bBusyRobot])),
    },
    reportTelemetry: {
      subgraph: 'fleet',
      document:
        'mutation($id: ID!, $at: DateTime!) { reportTelemetry(robotId: $id, samples: [{ recordedAt: $at, batteryPercent: 3, latitude: 1, longitude: 2 }]) { accepted } }',
      variables: (f) => ({ id: f.bRobot, at: new Date().toISOString() }),
      rows: async (f) =>
        (await rows('SELECT * FROM telemetry_by_robot_day WHERE robot_id = ? AND day = ?', [
          f.bRobot,
          utcDay(new Date()),
        ])) + (await rows('SELECT * FROM robots_by_id WHERE robot_id = ?', [f.bRobot])),
    },
    startSession: {
      subgraph: 'sessions',
      document: 'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
      variables: (f) => ({ input: { userId: f.bUser, organizationId: B, ttlSeconds: 60 } }),
      rows: (f) => rows('SELECT * FROM sessions_by_user WHERE user_id = ?', [f.bUser]),
    },
    touchSession: {
      subgraph: 'sessions',
      document: 'mutation($id: ID!) { touchSession(id: $id) { id lastSeenAt } }',
      variables: (f) => ({ id: f.bSessions[0] }),
      rows: async (f) =>
        (await rows('SELECT * FROM sessions_by_id WHERE session_id = ?', [f.bSessions[0]])) +
        (await rows('SELECT * FROM sessions_by_user WHERE user_id = ?', [f.bUser])),
    },
    revokeSession: {
      subgraph: 'sessions',
      document: 'mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }',
      variables: (f) => ({ id: f.bSessions[1] }),
      rows: async (f) =>
        (await rows('SELECT * FROM sessions_by_id WHERE session_id = ?', [f.bSessions[1]])) +
        (await rows('SELECT * FROM sessions_by_user WHERE user_id = ?', [f.bUser])),
    },
    revokeAllSessions: {
      subgraph: 'sessions',
      document: 'mutation($id: ID!) { revokeAllSessions(userId: $id) }',
      variables: (f) => ({ id: f.bUser }),
      rows: (f) => rows('SELECT * FROM sessions_by_user WHERE user_id = ?', [f.bUser]),
      hiddenAs: 0,
    },
  };

  for (const name of MUTATIONS) {
    const attack = MUTATION_ATTACKS[name];
    for (const [who, route] of [
      ['aAdmin', 'router'],
      ['aPartner', 'router'],
      ['aAdmin', 'subgraph'],
    ] as const) {
      const label = `${who === 'aAdmin' ? "A's admin" : "A's partner key (every scope)"} ${route === 'router' ? 'through the router' : 'straight to its subgraph'}`;
      it(`when ${label} calls Mutation.${name} on B's object, then it is refused and nothing is written`, async () => {
        assert.ok(attack, `no attack for Mutation.${name}`);
        const variables = attack.variables(fixtures);
        const before = await attack.rows(fixtures);
        const { body } =
          route === 'router'
            ? await viaRouter(attack.document, variables, creds[who])
            : await viaSubgraph(attack.subgraph, attack.document, variables, identities[who]);
        const value = body.data?.[name] ?? null;
        if (attack.hiddenAs !== undefined && value === attack.hiddenAs) {
          assert.equal(body.errors, undefined);
        } else {
          assert.equal(value, null, JSON.stringify(body));
          assert.ok(body.errors?.length, 'an error says why');
          assertDenialCodes(body);
        }
        assertNoLeak(body, variables);
        assert.equal(await attack.rows(fixtures), before, `Mutation.${name} wrote to B's rows`);
      });
    }
  }

  // ------------------------------------------------------ the response cache, identity headers

  it("when B's admin has a response cached and A's admin sends the very same request, then A gets null, not B's cached answer", async () => {
    const query = `{ robot(id: "${fixtures.bRobot}") { id serial firmware } fleet(id: "${fixtures.bFleet}") { id name } }`;
    for (let i = 0; i < 2; i++) {
      const own = await viaRouter(query, {}, creds.bAdmin);
      assert.ok(own.body.data?.['robot'], `B's admin sees it: ${JSON.stringify(own.body)}`);
    }
    const { body } = await viaRouter(query, {}, creds.aAdmin);
    assert.deepEqual(body, { data: { robot: null, fleet: null } });
  });

  it("when A's admin also sends identity headers validly signed for B's admin, then the router ignores them", async () => {
    const forged = signIdentity(identities.bAdmin, federation.config.identitySigningSecret, {
      subgraph: 'fleet',
      body: '',
    });
    const query = `{ robot(id: "${fixtures.bRobot}") { id serial } me { id } }`;
    const { body } = await viaRouter(query, {}, { ...creds.aAdmin, headers: forged });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.['robot'], null);
    assert.equal((body.data?.['me'] as { id: string }).id, seedIds.user(0, 0));
    const anonymous = await viaRouter(query, {}, { headers: forged });
    assert.equal(anonymous.body.data?.['robot'] ?? null, null);
    assert.equal(anonymous.body.data?.['me'] ?? null, null);
    assertNoLeak(anonymous.body, query);
    assertNoLeak(body, query);
  });
});
