/**
 * The cost limit (MAX_QUERY_COST, router/graphql/operationCost.ts) counts list sizes after
 * variables are coerced: `robots(first: $n)`, `robots(ids: $ids)` and `telemetry(limit:)` are
 * refused before any subgraph is called when they multiply past the limit, and every
 * registered operation is admitted at realistic page sizes.
 *
 * Found (issue 1): the limit was graphql-armor's costLimit, a validation rule that sees no
 * variables — `robots(first: $n)` three levels deep with `$n = 500` was executed, while the same
 * with a literal 500 was refused; `ids` and `limit` were never counted.
 *
 * The refused operations name a fleet that does not exist: should the limit ever let them
 * through, they return null instead of millions of robots from the shared Cassandra.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  Kind,
  parse,
  typeFromAST,
  visit,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { routerVariables } from '../../platform/config/variables.js';
import { operationCost, tooCostly } from '../../router/graphql/operationCost.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

const DEFAULT_LIMIT = routerVariables.MAX_QUERY_COST.parse(undefined);
const API_SCHEMA = buildSchema(readFileSync('schema/api-schema.graphql', 'utf8'));
const DASHBOARD_PATH = 'schema/operations/fleet-console/FleetDashboard.graphql';
/** The largest page a registered client asks for (the dashboard's 100 robots). */
const REALISTIC_PAGE = { first: 100, last: 100, limit: 1000 } as const;
const NO_SUCH_FLEET = '00000000-0000-4000-8000-00000000c057';

const THREE_LEVELS = `query Amplified($fleetId: ID!, $n: Int) { fleet(id: $fleetId) { robots(first: $n) { nodes { fleet { robots(first: $n) { nodes { fleet { robots(first: $n) { nodes { id serial } } } } } } } } } }`;
const THREE_LEVELS_LITERAL = THREE_LEVELS.replace(', $n: Int', '').replaceAll('$n', '500');
const BY_IDS = `query ByIds($ids: [ID!]!) { robots(ids: $ids) { id fleet { robots(first: 100) { nodes { id } } } } }`;
const TELEMETRY = `query Telemetry($fleetId: ID!, $from: DateTime!, $to: DateTime!, $limit: Int) { fleet(id: $fleetId) { robots { nodes { id telemetry(from: $from, to: $to, limit: $limit) { recordedAt batteryPercent } } } } }`;

function cost(query: string | DocumentNode, variables: Record<string, unknown> = {}): number {
  const document = typeof query === 'string' ? parse(query) : query;
  const result = operationCost({ schema: API_SCHEMA, document, variables });
  assert.ok(result !== undefined, 'the variables coerce');
  return result;
}

function graphqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? graphqlFiles(join(dir, entry.name))
      : entry.name.endsWith('.graphql')
        ? [join(dir, entry.name)]
        : [],
  );
}

/**
 * Variables for a registered operation: page sizes at their realistic maximum, other declared
 * defaults as they are, a sample value for each required variable without one.
 */
function realisticVariables(document: DocumentNode): Record<string, unknown> {
  const pageVariables = new Map<string, number>();
  visit(document, {
    Argument(node) {
      const page = REALISTIC_PAGE[node.name.value as keyof typeof REALISTIC_PAGE];
      if (page !== undefined && node.value.kind === Kind.VARIABLE)
        pageVariables.set(node.value.name.value, page);
    },
  });
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )!;
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (pageVariables.has(name)) variables[name] = pageVariables.get(name);
    else if (definition.type.kind === Kind.NON_NULL_TYPE && !definition.defaultValue)
      variables[name] = sampleOf(typeFromAST(API_SCHEMA, definition.type)!);
  }
  return variables;
}

function sampleOf(type: Parameters<typeof getNamedType>[0]): unknown {
  const named = getNamedType(type)!;
  if (isEnumType(named)) return named.getValues()[0]!.value;
  const samples: Record<string, unknown> = {
    ID: randomUUID(),
    String: 'x',
    Int: 1,
    Float: 1,
    Boolean: true,
    DateTime: new Date().toISOString(),
  };
  assert.ok(named.name in samples, `no sample value for a required ${named.name} variable`);
  return samples[named.name];
}

describe('the cost model, against the public API schema', () => {
  it('when each registered operation is costed with realistic page sizes, then it is within the default MAX_QUERY_COST', () => {
    const files = graphqlFiles('schema/operations');
    assert.ok(files.includes(DASHBOARD_PATH), 'the dashboard is registered');
    for (const file of files) {
      const document = parse(readFileSync(file, 'utf8'));
      const withDefaults = cost(document, realisticVariables(document));
      console.log(`${file}: cost ${withDefaults} (limit ${DEFAULT_LIMIT})`);
      assert.ok(withDefaults <= DEFAULT_LIMIT, `${file} costs ${withDefaults}`);
    }
    const dashboard = parse(readFileSync(DASHBOARD_PATH, 'utf8'));
    const largest = cost(dashboard, { fleetId: NO_SUCH_FLEET, first: 500 });
    assert.ok(largest <= DEFAULT_LIMIT, `the dashboard at the API's largest page costs ${largest}`);
  });

  it('when robots(first:) is nested three levels deep, then the variable and the literal cost the same, far over the limit', () => {
    const asVariable = cost(THREE_LEVELS, { fleetId: NO_SUCH_FLEET, n: 500 });
    assert.equal(cost(THREE_LEVELS_LITERAL, { fleetId: NO_SUCH_FLEET }), asVariable);
    assert.ok(asVariable > 1000 * DEFAULT_LIMIT, `cost ${asVariable}`);
    // Absent, `first` counts as its schema default (20).
    assert.equal(
      cost(THREE_LEVELS, { fleetId: NO_SUCH_FLEET }),
      cost(THREE_LEVELS, { fleetId: NO_SUCH_FLEET, n: 20 }),
    );
  });

  it('when ids, limit or an unpaged list multiply a selection, then the cost grows with them', () => {
    const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
    assert.ok(cost(BY_IDS, { ids: ids(10) }) <= DEFAULT_LIMIT);
    assert.ok(cost(BY_IDS, { ids: ids(500) }) > DEFAULT_LIMIT);
    const window = { fleetId: NO_SUCH_FLEET, from: 'a', to: 'b' };
    assert.ok(cost(TELEMETRY, { ...window, limit: 100 }) <= DEFAULT_LIMIT);
    assert.ok(cost(TELEMETRY, { ...window, limit: 10_000 }) > DEFAULT_LIMIT);
    const chain = `{ me ${'{ operatedRobots { operator '.repeat(5)}{ id }${' } }'.repeat(5)} }`;
    assert.ok(cost(chain) > DEFAULT_LIMIT, 'operator → operatedRobots, five times over');
    assert.equal(cost('{ __schema { types { name fields { name } } } }'), 0, 'introspection');
  });

  it('when fragments fan out past the selections the walk evaluates, then the operation is refused uncosted', () => {
    // Fleet → organization → fleets …, five aliases a level, seven levels: 5^6 leaves.
    const types = ['Fleet', 'Organization'];
    const fragments = Array.from({ length: 7 }, (_, level) => {
      const into = level % 2 ? 'fleets' : 'organization';
      const body =
        level === 6 ? 'id' : [1, 2, 3, 4, 5].map((i) => `a${i}: ${into} { ...F${level + 1} }`);
      return `fragment F${level} on ${types[level % 2]} { ${[body].flat().join(' ')} }`;
    });
    const query = `{ fleet(id: "${NO_SUCH_FLEET}") { ...F0 } } ${fragments.join(' ')}`;
    assert.equal(cost(query), Infinity);
    assert.match(tooCostly(Infinity, DEFAULT_LIMIT).message, /more than 10000 field selections/);
  });
});

describe('the cost limit through the router', () => {
  let federation: Federation;
  let token: string;
  before(async () => {
    federation = await startFederation({ RESPONSE_CACHE: 'false' });
    token = await tokenFor(federation.config, 0, 0);
    assert.equal(federation.config.limits.maxCost, DEFAULT_LIMIT);
  });
  after(() => federation.close());

  /**
   * Every count of subgraph work the router and the subgraphs keep; the router's session check
   * on authentication (SessionValidity, cached for seconds) is not the operation's.
   */
  async function subgraphWork(): Promise<number[]> {
    const requests = async (subgraph: Federation['subgraphs']['users']) =>
      (await subgraph.metric('fleetgraph_graphql_requests_total')) -
      (await subgraph.metric('fleetgraph_graphql_requests_total', {
        operation: 'SessionValidity',
      }));
    return [
      await federation.routerMetric('fleetgraph_router_subgraph_fetches_total'),
      ...(await Promise.all(Object.values(federation.subgraphs).map(requests))),
    ];
  }

  async function assertRefused(query: string, variables: Record<string, unknown>): Promise<void> {
    const expected = cost(query, variables);
    const workBefore = await subgraphWork();
    const refusedBefore = await federation.routerMetric('fleetgraph_router_errors_total', {
      code: 'OPERATION_TOO_COSTLY',
    });
    const { status, body } = await federation.query(query, variables, { token });
    assert.equal(status, 400, JSON.stringify(body).slice(0, 500));
    assert.equal(body.data, undefined);
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'OPERATION_TOO_COSTLY');
    assert.equal(
      body.errors?.[0]?.message,
      `Operation cost limit of ${DEFAULT_LIMIT} exceeded (MAX_QUERY_COST): this operation costs ${expected}`,
    );
    assert.deepEqual(await subgraphWork(), workBefore, 'no subgraph was called');
    assert.equal(
      await federation.routerMetric('fleetgraph_router_errors_total', {
        code: 'OPERATION_TOO_COSTLY',
      }),
      refusedBefore + 1,
      'the refusal is counted',
    );
  }

  it('when robots(first: $n) is nested three levels deep with $n = 500, then it is refused with 400 before any subgraph is called', async () => {
    await assertRefused(THREE_LEVELS, { fleetId: NO_SUCH_FLEET, n: 500 });
  });

  it('when the same operation writes 500 in the document, then it is refused the same way', async () => {
    await assertRefused(THREE_LEVELS_LITERAL, { fleetId: NO_SUCH_FLEET });
  });

  it('when robots(ids: $ids) is asked for 500 ids with a page of 100 robots under each, then it is refused', async () => {
    await assertRefused(BY_IDS, { ids: Array.from({ length: 500 }, () => randomUUID()) });
  });

  it('when telemetry(limit: $limit) asks for 10,000 samples of each robot in a page, then it is refused, and 100 samples are served', async () => {
    const window = {
      fleetId: seedIds.fleet(0, 0),
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date().toISOString(),
    };
    await assertRefused(TELEMETRY, { ...window, limit: 10_000 });
    const { status, body } = await federation.query(
      TELEMETRY,
      { ...window, limit: 100 },
      { token },
    );
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  });

  it('when one operation alternates between a cheap and a costly $n, then each request is costed with its own variables (the cost cache keys on them)', async () => {
    const cheap = { fleetId: NO_SUCH_FLEET, n: 2 };
    for (let round = 0; round < 3; round++) {
      const { status, body } = await federation.query(THREE_LEVELS, cheap, { token });
      assert.equal(status, 200, JSON.stringify(body.errors));
      await assertRefused(THREE_LEVELS, { fleetId: NO_SUCH_FLEET, n: 500 });
      // Same cost key but for the order of the variables: costed again, the same way.
      await assertRefused(THREE_LEVELS, { n: 500, fleetId: NO_SUCH_FLEET });
    }
    // 500 ids make a key past what is kept: costed every time, refused every time.
    const ids = Array.from({ length: 500 }, () => randomUUID());
    for (let round = 0; round < 2; round++) await assertRefused(BY_IDS, { ids });
  });

  it('when the registered dashboard is sent with 100 robots, then it is served', async () => {
    const { status, body } = await federation.query<{
      fleet: { robots: { nodes: { id: string }[] } };
    }>(
      readFileSync(DASHBOARD_PATH, 'utf8'),
      { fleetId: seedIds.fleet(0, 0), first: 100 },
      { token },
    );
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.fleet.robots.nodes.length, 100);
  });
});
