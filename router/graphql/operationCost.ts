/**
 * The cost limit (MAX_QUERY_COST): an operation's cost is computed once its variables are known,
 * before any subgraph is called, and an operation over the limit is refused with 400
 * OPERATION_TOO_COSTLY.
 *
 * The cost model (graphql-query-complexity, one estimator): every field costs 1, plus what it
 * selects times how many results it stands for —
 *
 * - a field with a `first`, `last` or `limit` argument: its value (a variable's value once
 *   coerced), or the argument's schema default when it is absent;
 * - a field returning a list sized by a list argument (`robots(ids:)`): the list's length;
 * - any other field returning a list of objects: {@link UNSIZED_LIST_SIZE} (a connection's
 *   `nodes` excepted: its page is already counted by the connection's `first`);
 * - introspection (`__schema`, `__type`, `__typename`) is free.
 *
 * @remarks
 * It replaces graphql-armor's costLimit, a validation rule: validation runs without the
 * variables, so `robots(first: $n)` was costed as if `$n` were absent, and list sizes such as
 * `ids` and `telemetry(limit:)` were never counted — a 134-byte request got 28,800 robots
 * (2.6 MB) through the default limit. `didResolveOperation` runs after validation (armor's
 * depth, alias, token and directive limits) and before the gateway plans or fetches anything.
 */
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener } from '@apollo/server';
import {
  getNullableType,
  getVariableValues,
  GraphQLError,
  isListType,
  isObjectType,
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { ErrorCode } from '../../platform/contract/errors.js';
import type { RouterContext } from './context.js';

/** Arguments that say how many results a field returns: a page, or a count. */
const SIZE_ARGUMENTS: ReadonlySet<string> = new Set(['first', 'last', 'limit']);

/**
 * What a list of objects with no size argument is assumed to hold: Organization.fleets ("tens
 * per tenant"), User.operatedRobots. Without it, `operator { operatedRobots { operator { … } } }`
 * would cost the same however deep it goes.
 */
export const UNSIZED_LIST_SIZE = 10;

/**
 * Field selections the cost walk evaluates (fragments expanded each time they are spread)
 * before it gives up and the operation is refused as too costly: bounds the walk's own work.
 */
export const MAX_EVALUATED_FIELDS = 10_000;

/** The cost of a field: 1, plus its selections times the number of results it stands for. */
export const listSizeEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (field.name.startsWith('__')) return 0;
  const size = resultSize(type, field, args);
  return size === undefined ? undefined : 1 + size * childComplexity;
};

const ESTIMATORS: ComplexityEstimator[] = [
  listSizeEstimator,
  simpleEstimator({ defaultComplexity: 1 }),
];

/** How many results a field stands for; undefined for a single result. */
function resultSize(
  parent: GraphQLCompositeType,
  field: GraphQLField<unknown, unknown>,
  args: Record<string, unknown>,
): number | undefined {
  let page: number | undefined;
  for (const argument of field.args) {
    if (!SIZE_ARGUMENTS.has(argument.name)) continue;
    const value = args[argument.name] ?? argument.defaultValue;
    if (typeof value === 'number') page = Math.max(page ?? 0, value, 0);
  }
  if (page !== undefined) return page;
  const returned = getNullableType(field.type);
  if (!isListType(returned)) return undefined;
  let listed: number | undefined;
  for (const argument of field.args) {
    const value = args[argument.name];
    if (isListType(getNullableType(argument.type)) && Array.isArray(value))
      listed = Math.max(listed ?? 0, value.length);
  }
  if (listed !== undefined) return listed;
  if (isObjectType(parent) && parent.name.endsWith('Connection') && field.name === 'nodes')
    return 1;
  return UNSIZED_LIST_SIZE;
}

/**
 * The cost of the operation `operationName` (or the document's only one) with `variables`:
 * Infinity when it has more than {@link MAX_EVALUATED_FIELDS} field selections; undefined when
 * the variables do not coerce (the gateway refuses those before planning, as it does now).
 */
export function operationCost(options: {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly variables?: Record<string, unknown> | undefined;
  readonly operationName?: string | undefined;
}): number | undefined {
  const { schema, document, operationName } = options;
  const variables = options.variables ?? {};
  try {
    return getComplexity({
      schema,
      query: document,
      variables,
      ...(operationName === undefined ? {} : { operationName }),
      estimators: ESTIMATORS,
      maxQueryNodes: MAX_EVALUATED_FIELDS,
    });
  } catch (error) {
    if (/maximum allowed number of nodes/.test((error as Error).message)) return Infinity;
    if (variablesDoNotCoerce(schema, document, variables, operationName)) return undefined;
    throw error;
  }
}

function variablesDoNotCoerce(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName: string | undefined,
): boolean {
  const operation = document.definitions.find(
    (definition) =>
      definition.kind === 'OperationDefinition' &&
      (operationName === undefined || definition.name?.value === operationName),
  );
  if (operation?.kind !== 'OperationDefinition') return false;
  const { errors } = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  return (errors?.length ?? 0) > 0;
}

/** The refusal: 400 OPERATION_TOO_COSTLY naming the cost and the limit. */
export function tooCostly(cost: number, maxCost: number): GraphQLError {
  const found = Number.isFinite(cost)
    ? `this operation costs ${integer(cost)}`
    : `this operation has more than ${integer(MAX_EVALUATED_FIELDS)} field selections once its fragments are expanded`;
  // "limit of N exceeded", as armor's other limits word it (test/e2e/hostile-input.test.ts
  // tells refusals for limits by it).
  return new GraphQLError(
    `Operation cost limit of ${integer(maxCost)} exceeded (MAX_QUERY_COST): ${found}`,
    {
      extensions: {
        code: ErrorCode.OPERATION_TOO_COSTLY,
        http: { status: 400, headers: new HeaderMap() },
      },
    },
  );
}

function integer(value: number): string {
  return Math.ceil(value).toLocaleString('en-US', { useGrouping: false });
}

/**
 * Costs already computed, per schema and parsed document (Apollo Server reuses a document's
 * parse for every request with the same text), by operation name and variables. The cost is a
 * function of exactly those, so a repeated console operation skips the walk (2.7 % of the
 * router's CPU in the router-bound profile). Bounded: at most {@link COSTS_PER_DOCUMENT}
 * variable sets per document (then that document's entries start over), none over
 * {@link MAX_COST_KEY_LENGTH} characters.
 */
const knownCosts = new WeakMap<
  GraphQLSchema,
  WeakMap<DocumentNode, Map<string, number | undefined>>
>();
const COSTS_PER_DOCUMENT = 64;
const MAX_COST_KEY_LENGTH = 2048;

function cachedOperationCost(options: Parameters<typeof operationCost>[0]): number | undefined {
  const key = `${options.operationName ?? ''}\n${JSON.stringify(options.variables ?? {})}`;
  if (key.length > MAX_COST_KEY_LENGTH) return operationCost(options);
  let perDocument = knownCosts.get(options.schema);
  if (!perDocument) knownCosts.set(options.schema, (perDocument = new WeakMap()));
  let costs = perDocument.get(options.document);
  if (!costs) perDocument.set(options.document, (costs = new Map()));
  if (costs.has(key)) return costs.get(key);
  const cost = operationCost(options);
  if (costs.size >= COSTS_PER_DOCUMENT) costs.clear();
  costs.set(key, cost);
  return cost;
}

/** Refuses operations over `maxCost` before execution (after Apollo Server has resolved them). */
export function operationCostPlugin(maxCost: number): ApolloServerPlugin<RouterContext> {
  const listener: GraphQLRequestListener<RouterContext> = {
    async didResolveOperation({ operation, document, schema, request }) {
      // No operation: refuseUnexecutableOperations answers.
      if (!operation) return;
      const cost = cachedOperationCost({
        schema,
        document,
        variables: request.variables,
        operationName: operation.name?.value,
      });
      if (cost !== undefined && cost > maxCost) throw tooCostly(cost, maxCost);
    },
  };
  return { requestDidStart: async () => listener };
}
