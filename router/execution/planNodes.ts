/**
 * Running a query plan's nodes (Sequence, Parallel, Flatten, Fetch, Condition): the stock
 * gateway's `executeNode`/`executeFetch` (dist/executeQueryPlan.js), minus what this router
 * never uses per request — Apollo usage-reporting trace nodes (a request that captures traces
 * runs the stock executor, planExecutor.ts) — and with the merged data kept in plain objects.
 *
 * @remarks
 * Fetches go through the same data sources as the stock executor's (our SubgraphClient: identity
 * signing, timeouts, retries, breaker, dedup, entity cache), with the same request (`query`,
 * `variables`, `operationName`, `document`, `pathInIncomingRequest`); subgraph errors become the
 * same GraphQLErrors with the same paths. Data is merged as the stock `deepMerge` does, except
 * that a `__proto__` key from a subgraph is dropped (the stock code defines it as an own
 * property of a null-prototype object; here it would reach the prototype) and names that
 * Object.prototype has are only read as own properties.
 */
import { ERRORS, errorCodeDef, type Operation } from '@apollo/federation-internals';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  evaluateCondition,
  type FetchNode,
  type PlanNode,
  type QueryPlanSelectionNode,
} from '@apollo/query-planner';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { dataRewrites, gatewayExecution, gatewayTelemetry } from './gatewayInternals.js';
import {
  deepMerge,
  flattenAt,
  representationBuilder,
  type Data,
  type RepresentationOf,
} from './mergedData.js';

type Path = (string | number)[];

/** What a data source is asked (the gateway's GraphQLDataSource, as SubgraphClient takes it). */
interface DataSource {
  process(request: unknown): Promise<{
    data?: Data | null;
    errors?: readonly GraphQLError[];
    extensions?: Record<string, unknown>;
  }>;
}

export interface PlanExecution {
  readonly operation: Operation;
  readonly serviceMap: Readonly<Record<string, DataSource>>;
  readonly requestContext: GatewayGraphQLRequestContext;
  readonly supergraphSchema: GraphQLSchema;
  readonly telemetry: unknown;
  readonly errors: GraphQLError[];
}

interface Cursor {
  readonly path: Path;
  readonly data: unknown;
  readonly fullResult: Data;
}

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

export async function executeNode(
  execution: PlanExecution,
  node: PlanNode,
  cursor: Cursor | undefined,
): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(execution, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(execution, child, cursor)));
      return;
    case 'Flatten':
      return executeNode(execution, node.node, moveIntoCursor(cursor, node.path));
    case 'Fetch':
      try {
        await executeFetch(execution, node, cursor);
      } catch (error) {
        execution.errors.push(error as GraphQLError);
      }
      return;
    case 'Condition': {
      const value = evaluateCondition(
        node,
        execution.operation.variableDefinitions,
        execution.requestContext.request.variables,
      );
      const branch = value ? node.ifClause : node.elseClause;
      if (branch) await executeNode(execution, branch, cursor);
      return;
    }
    default:
      // Defer and Subscription plans never reach here: planExecutor.ts runs them stock.
      throw new Error(`query plan node ${node.kind} is not supported by the lean executor`);
  }
}

async function executeFetch(execution: PlanExecution, fetch: FetchNode, cursor: Cursor) {
  const { tracer, OpenTelemetrySpanNames, recordExceptions } = gatewayTelemetry;
  const attributes = { attributes: { service: fetch.serviceName } };
  return tracer.startActiveSpan(OpenTelemetrySpanNames.FETCH, attributes, async (span) => {
    try {
      await fetchInto(execution, fetch, cursor);
    } catch (error) {
      recordExceptions(span, [error], execution.telemetry);
      span.setStatus({ code: 2 }); // SpanStatusCode.ERROR
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Representation builders, made once per fetch node's `requires` of a cached plan. */
const representationBuilders = new WeakMap<readonly QueryPlanSelectionNode[], RepresentationOf>();
function representationFor(requires: readonly QueryPlanSelectionNode[]): RepresentationOf {
  let build = representationBuilders.get(requires);
  if (!build) representationBuilders.set(requires, (build = representationBuilder(requires)));
  return build;
}

async function fetchInto(execution: PlanExecution, fetch: FetchNode, cursor: Cursor) {
  const service = execution.serviceMap[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities: Data[] = Array.isArray(cursor.data)
    ? (cursor.data as unknown[]).filter((value): value is Data => value != null)
    : [cursor.data as Data];
  if (entities.length < 1) return;
  const variables: Data = {};
  const provided = execution.requestContext.request.variables;
  for (const name of fetch.variableUsages ?? []) {
    if (provided && hasOwn(provided, name) && provided[name] !== undefined)
      variables[name] = provided[name];
  }
  const schema = execution.supergraphSchema;
  if (!fetch.requires) {
    const received = await send(execution, service, fetch, cursor, variables);
    if (received) dataRewrites.applyRewrites(schema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }
  const buildRepresentation = representationFor(fetch.requires);
  const representations: Data[] = [];
  const representationToEntity: number[] = [];
  for (let index = 0; index < entities.length; index++) {
    const representation = buildRepresentation(schema, entities[index]!);
    if (representation && representation['__typename']) {
      dataRewrites.applyRewrites(schema, fetch.inputRewrites, representation);
      representations.push(representation);
      representationToEntity.push(index);
    }
  }
  if (representations.length < 1) return;
  if ('representations' in variables)
    throw new Error(`Variables cannot contain key "representations"`);
  const received = await send(execution, service, fetch, cursor, {
    ...variables,
    representations,
  });
  if (!received) return;
  const receivedEntities = received['_entities'];
  if (!Array.isArray(receivedEntities))
    throw new Error(`Expected "data._entities" in response to be an array`);
  if (receivedEntities.length !== representations.length)
    throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  // As the stock loop: over `entities.length`, though only representations have answers.
  for (let i = 0; i < entities.length; i++) {
    const receivedEntity = receivedEntities[i] as Data | null | undefined;
    const existing = entities[representationToEntity[i]!];
    if (receivedEntity && !receivedEntity['__typename'])
      receivedEntity['__typename'] = existing!['__typename'];
    dataRewrites.applyRewrites(schema, fetch.outputRewrites, receivedEntity);
    deepMerge(existing, receivedEntity);
  }
}

async function send(
  execution: PlanExecution,
  service: DataSource,
  fetch: FetchNode,
  cursor: Cursor,
  variables: Data,
): Promise<Data | null | undefined> {
  const { requestContext } = execution;
  const response = await service.process({
    kind: 'incoming operation',
    request: { query: fetch.operation, variables, operationName: fetch.operationName },
    incomingRequestContext: requestContext,
    context: requestContext.context,
    document: fetch.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  });
  if (response.errors) {
    const pathOf = lazyErrorPaths(fetch, cursor);
    execution.errors.push(
      ...response.errors.map((error) => downstreamError(error, fetch.serviceName, pathOf)),
    );
    if (!response.extensions?.['ftv1']) {
      const metrics = requestContext.metrics as { nonFtv1ErrorPaths?: unknown[] };
      const paths = response.errors.map((error) => ({
        subgraph: fetch.serviceName,
        path: error.path,
      }));
      if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...paths);
      else metrics.nonFtv1ErrorPaths = paths;
    }
  }
  return response.data;
}

function lazyErrorPaths(fetch: FetchNode, cursor: Cursor) {
  let hydrated: Path[] | undefined;
  return (errorPath: readonly (string | number)[] | undefined): Path | undefined => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        gatewayExecution.generateHydratedPaths([], cursor.path, cursor.fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath.slice()] : undefined;
  };
}

function downstreamError(
  original: GraphQLError,
  serviceName: string,
  pathOf: (path: readonly (string | number)[] | undefined) => Path | undefined,
): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options = {
    originalError: original,
    path: pathOf(original.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(original);
  if (!codeDef && extensions?.['code']) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

function moveIntoCursor(cursor: Cursor, path: readonly (string | number)[]): Cursor | undefined {
  const data = flattenAt(cursor.data, path, 0);
  return data ? { path: cursor.path.concat(path), data, fullResult: cursor.fullResult } : undefined;
}
