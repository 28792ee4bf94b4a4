/**
 * The lean query plan executor (router/execution/) against @apollo/gateway's own, on operations
 * generated at random over a graph with interfaces, unions, @interfaceObject, @requires,
 * @provides and subgraphs that answer nulls and errors (test/support/executorFixture.ts):
 *
 * 1. Whole executions: a gateway with QUERY_PLAN_EXECUTOR=compare answers each operation through
 *    both executors (the stock one replaying the lean one's subgraph answers) and fails on any
 *    difference in data, errors (messages, paths, extensions) or response extensions.
 * 2. Result shaping alone, on hostile merged data the subgraphs would never send (missing keys,
 *    wrong types, unknown `__typename`s, invalid enum values, nulls in non-null positions): the
 *    stock `computeResponse` and our `shapeResponse` must give the same data and errors, or
 *    throw the same message.
 *
 * The whole product suite also runs in compare mode (test/support/stack.ts).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Operation } from '@apollo/federation-internals';
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isObjectType,
  isCompositeType,
  isEnumType,
  isListType,
  isNonNullType,
  isScalarType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import { installPlanExecutor } from '../../router/execution/install.js';
import { planExecutorRuns } from '../../router/execution/planExecutor.js';
import {
  deepMerge,
  representationBuilder,
  selectionOf,
  type Data,
} from '../../router/execution/mergedData.js';
import { compileShape, shapeResponse } from '../../router/execution/responseShape.js';
import { EXECUTOR_SUBGRAPHS, executorSupergraphSdl } from '../support/executorFixture.js';
import { generateOperation, randomFrom } from '../support/operationGenerator.js';

const require = createRequire(import.meta.url);
const { computeResponse } = require(
  join(dirname(require.resolve('@apollo/gateway')), 'resultShaping.js'),
) as {
  computeResponse: (options: {
    operation: Operation;
    variables: Record<string, unknown>;
    input: unknown;
    introspectionHandling: () => unknown;
  }) => { data: unknown; errors: { message: string; path?: unknown; extensions: unknown }[] };
};

const OPERATIONS = 300;
const supergraphSdl = executorSupergraphSdl();
const supergraph = Supergraph.build(supergraphSdl);
const apiSchema = supergraph.apiSchema();
const graphqlSchema: GraphQLSchema = apiSchema.toGraphQLJSSchema();

/** Valid generated operations, the same for every run (seeded). */
function generatedOperations(seed: number, count: number) {
  const random = randomFrom(seed);
  const operations: {
    query: string;
    variables: Record<string, unknown>;
    document: DocumentNode;
  }[] = [];
  for (let tries = 0; operations.length < count && tries < count * 20; tries++) {
    const generated = generateOperation(graphqlSchema, random);
    const document = parse(generated.query);
    if (validate(graphqlSchema, document).length === 0) operations.push({ ...generated, document });
  }
  return operations;
}

describe('the lean query plan executor answers as the stock gateway executor does', () => {
  let server: ApolloServer;
  /** What installPlanExecutor's counter (fleetgraph_router_plan_executions_total) was told. */
  const counted: string[] = [];
  before(async () => {
    installPlanExecutor('compare', { inc: ({ executor }) => counted.push(executor) });
    const schemas = Object.fromEntries(EXECUTOR_SUBGRAPHS.map((s) => [s.name, s.schema]));
    const gateway = new ApolloGateway({
      supergraphSdl,
      buildService: ({ name }) => new LocalGraphQLDataSource(schemas[name]!),
    });
    server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
    await server.start();
  });
  after(async () => {
    await server.stop();
    installPlanExecutor('lean');
  });

  it(`when ${OPERATIONS} generated operations run through both executors, then every answer is the same`, async () => {
    const operations = generatedOperations(17, OPERATIONS);
    assert.equal(operations.length, OPERATIONS, 'the generator gives enough valid operations');
    const leanBefore = planExecutorRuns.lean;
    let withErrors = 0;
    let withNullBubbling = 0;
    for (const { query, variables } of operations) {
      const response = await server.executeOperation({ query, variables });
      assert.equal(response.body.kind, 'single');
      const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
      const mismatch = result?.errors?.find((e) => e.extensions?.['executorMismatch']);
      assert.equal(
        mismatch,
        undefined,
        `${query}\n${JSON.stringify(variables)}\n${JSON.stringify(mismatch?.extensions)}`,
      );
      if (result?.errors?.length) withErrors++;
      if (JSON.stringify(result?.errors ?? []).includes('Cannot return null')) withNullBubbling++;
    }
    // Not vacuous: the lean executor ran them (no fallback), and the operations reached the
    // error paths: subgraph errors, and nulls bubbling up to a nullable parent.
    assert.equal(planExecutorRuns.lean - leanBefore, OPERATIONS);
    assert.equal(counted.filter((executor) => executor === 'lean').length, OPERATIONS);
    assert.ok(withErrors > 20, `${withErrors} answers with errors`);
    assert.ok(withNullBubbling > 5, `${withNullBubbling} answers with a null bubbled up`);
  });

  it('when an operation selects introspection or a __proto__ alias, then the stock executor runs it', async () => {
    const before = planExecutorRuns.stock;
    for (const query of [
      '{ __schema { queryType { name } } items { id } }',
      '{ __proto__: items { id } }',
    ]) {
      const response = await server.executeOperation({ query });
      const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
      assert.equal(result?.errors, undefined);
    }
    assert.equal(planExecutorRuns.stock - before, 2);
    assert.deepEqual(counted.slice(-2), ['stock', 'stock']);
  });
});

describe('result shaping matches the stock computeResponse on hostile merged data', () => {
  it('when data is missing, mistyped, mis-typenamed or null where it may not be, then both shape it alike', () => {
    const random = randomFrom(29);
    let compared = 0;
    let differentFromInput = 0;
    for (const { document, variables } of generatedOperations(29, 200)) {
      const operation = operationFromDocument(apiSchema, document, { validate: false });
      const shape = compileShape(operation);
      assert.ok(shape);
      for (let round = 0; round < 5; round++) {
        const input = hostileData(graphqlSchema.getQueryType()!, document, random);
        const stock = outcome(() =>
          computeResponse({ operation, variables, input, introspectionHandling: () => null }),
        );
        const lean = outcome(() => shapeResponse(shape, input, variables));
        assert.equal(lean, stock, print(document));
        compared++;
        if (stock.includes('"errors":[{')) differentFromInput++;
      }
    }
    assert.equal(compared, 1000);
    assert.ok(differentFromInput > 100, `${differentFromInput} shapings reported errors`);
  });

  it('when the comparison is given a broken shaping, then it sees the difference', () => {
    // The check above can fail: the same comparison against shaping with @skip/@include
    // variables flipped differs for some operations.
    let differences = 0;
    const random = randomFrom(31);
    for (const { document, variables } of generatedOperations(31, 100)) {
      const operation = operationFromDocument(apiSchema, document, { validate: false });
      const input = hostileData(graphqlSchema.getQueryType()!, document, random);
      const flipped = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, typeof v === 'boolean' ? !v : v]),
      );
      const stock = outcome(() =>
        computeResponse({ operation, variables, input, introspectionHandling: () => null }),
      );
      const broken = outcome(() => shapeResponse(compileShape(operation)!, input, flipped));
      if (broken !== stock) differences++;
    }
    assert.ok(differences > 5, `${differences} differences`);
  });
});

describe('merging subgraph answers matches the stock deepMerge', () => {
  const { deepMerge: stockDeepMerge } = require(
    join(dirname(require.resolve('@apollo/gateway')), 'utilities/deepMerge.js'),
  ) as { deepMerge: (target: unknown, source: unknown) => unknown };

  it('when random answers overlap (objects, equal and unequal lists, nulls), then both merge them alike', () => {
    const random = randomFrom(41);
    const tree = (depth: number): unknown => {
      const roll = random();
      if (depth === 0 || roll < 0.25)
        return [null, 1, 'a', true, undefined][Math.floor(random() * 5)];
      if (roll < 0.45)
        return Array.from({ length: 1 + Math.floor(random() * 2) }, () => tree(depth - 1));
      const object: Record<string, unknown> = {};
      for (const key of ['a', 'b', 'c', 'constructor'])
        if (random() < 0.6) object[key] = tree(depth - 1);
      return object;
    };
    let merged = 0;
    for (let i = 0; i < 2000; i++) {
      const [target, source] = [tree(4), tree(4)];
      if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
      const stock = outcomeOf(() =>
        stockDeepMerge(structuredClone(target), structuredClone(source)),
      );
      const lean = outcomeOf(() => deepMerge(structuredClone(target), structuredClone(source)));
      assert.equal(lean, stock, JSON.stringify({ target, source }));
      merged++;
    }
    assert.ok(merged > 500, `${merged} merges compared`);
  });

  it("when entities are turned into a fetch's representations, then the compiled builder gives what the walk gives", () => {
    const random = randomFrom(43);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const objectTypes = Object.values(graphqlSchema.getTypeMap()).filter(
      (type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'),
    );
    const abstract = objectTypes.flatMap((type) => type.getInterfaces().map((i) => i.name));
    const typeNames = [...objectTypes.map((type) => type.name), ...abstract, 'Nope'];
    const field = (name: string, alias?: string, selections?: QueryPlanSelectionNode[]) =>
      ({
        kind: Kind.FIELD,
        name,
        ...(alias ? { alias } : {}),
        ...(selections ? { selections } : {}),
      }) as QueryPlanSelectionNode;
    const fragment = (typeCondition: string | undefined, selections: QueryPlanSelectionNode[]) =>
      ({
        kind: Kind.INLINE_FRAGMENT,
        ...(typeCondition ? { typeCondition } : {}),
        selections,
      }) as QueryPlanSelectionNode;
    const requiresOf = (): QueryPlanSelectionNode[] => {
      const leaves = [field('__typename'), field('id')];
      if (random() < 0.4) leaves.push(field('sku', random() < 0.5 ? 'alias' : undefined));
      if (random() < 0.15) leaves.push(field('nested', undefined, [field('id')]));
      const requires = [fragment(random() < 0.9 ? pick(typeNames) : undefined, leaves)];
      if (random() < 0.15) requires.push(fragment(pick(typeNames), [field('id')]));
      return requires;
    };
    const valueOf = (): unknown =>
      pick([undefined, null, 'v1', 7, [1, 'a', null], { deep: true }, [], false]);
    const entityOf = (): Data => {
      const entity: Data = {};
      if (random() < 0.9) entity['__typename'] = pick([...objectTypes.map((t) => t.name), 'Nope']);
      for (const key of ['id', 'sku', 'alias', 'nested', 'constructor'])
        if (random() < 0.7)
          entity[key] = key === 'nested' && random() < 0.5 ? { id: valueOf() } : valueOf();
      return entity;
    };
    const described = (result: Data | null, source: Data) =>
      JSON.stringify({
        result,
        // Lists are copies, as the walk's are: the representation never aliases the entity.
        aliased: Object.keys(result ?? {}).filter(
          (key) => Array.isArray(result![key]) && result![key] === source[key],
        ),
      });
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      const requires = requiresOf();
      const build = representationBuilder(requires);
      const [only] = requires;
      if (
        requires.length === 1 &&
        only?.kind === Kind.INLINE_FRAGMENT &&
        only.typeCondition &&
        only.selections.every((leaf) => leaf.kind === Kind.FIELD && !leaf.selections)
      )
        fast++;
      const entity = entityOf();
      assert.equal(
        described(build(graphqlSchema, entity), entity),
        described(selectionOf(graphqlSchema, entity, requires), entity),
        JSON.stringify({ requires, entity }),
      );
    }
    assert.ok(fast > 1000, `${fast} of 3000 had the shape the builder compiles`);
  });
});

function outcomeOf(run: () => unknown): string {
  try {
    return JSON.stringify(run());
  } catch (error) {
    return `threw ${(error as Error).constructor.name}`;
  }
}

function print(document: DocumentNode): string {
  return document.loc?.source.body ?? '';
}

function outcome(run: () => { data: unknown; errors: readonly unknown[] }): string {
  try {
    const { data, errors } = run();
    return JSON.stringify({
      data,
      errors: errors.map((error) => {
        const e = error as { message: string; path?: unknown; extensions?: { code?: unknown } };
        return { message: e.message, path: e.path, code: e.extensions?.code };
      }),
    });
  } catch (error) {
    return `threw ${(error as Error).message}`;
  }
}

/** Merged data for an operation, with every kind of mistake a broken subgraph could make. */
function hostileData(root: GraphQLCompositeType, document: DocumentNode, random: () => number) {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return objectFor(root, operation!.selectionSet, random, false);
}

function objectFor(
  type: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  random: () => number,
  withTypename: boolean,
): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (withTypename && random() < 0.9) {
    const names = isAbstractType(type)
      ? graphqlSchema.getPossibleTypes(type).map((t) => t.name)
      : [type.name];
    object['__typename'] = random() < 0.06 ? 'Nope' : names[Math.floor(random() * names.length)];
  }
  fill(type, selectionSet, object, random);
  return object;
}

function fill(
  type: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  object: Record<string, unknown>,
  random: () => number,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition
        ? (graphqlSchema.getType(selection.typeCondition.name.value) as GraphQLCompositeType)
        : type;
      fill(condition, selection.selectionSet, object, random);
      continue;
    }
    if (selection.kind !== Kind.FIELD) continue;
    const name = selection.alias?.value ?? selection.name.value;
    if (name in object || selection.name.value === '__typename') continue;
    const field = 'getFields' in type ? type.getFields()[selection.name.value] : undefined;
    if (!field) continue;
    const roll = random();
    if (roll < 0.06) continue; // missing
    object[name] = roll < 0.12 ? null : valueFor(field.type, selection.selectionSet, random);
  }
}

function valueFor(
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  random: () => number,
): unknown {
  const nullable = getNullableType(type);
  if (random() < 0.03) return isCompositeType(getNamedType(type)) ? 42 : { wrong: true };
  if (isListType(nullable)) {
    const length = Math.floor(random() * 3);
    return Array.from({ length }, () =>
      random() < 0.1 && !isNonNullType(nullable.ofType)
        ? null
        : valueFor(nullable.ofType, selectionSet, random),
    );
  }
  if (isCompositeType(nullable)) return objectFor(nullable, selectionSet!, random, true);
  if (isEnumType(nullable)) return random() < 0.1 ? 'BOGUS' : nullable.getValues()[0]!.name;
  if (isScalarType(nullable)) {
    const wrong = random() < 0.08;
    switch (nullable.name) {
      case 'Int':
        return wrong ? 1.5 : 7;
      case 'Float':
        return wrong ? 'x' : 2.5;
      case 'Boolean':
        return wrong ? 1 : true;
      case 'ID':
        return wrong ? true : random() < 0.5 ? 'id-1' : 12;
      case 'String':
        return wrong ? 3 : 'text';
      default:
        return wrong ? [1, 'two'] : { any: 'json' };
    }
  }
  return null;
}
