/**
 * Which executor runs @apollo/gateway's query plans (QUERY_PLAN_EXECUTOR):
 *
 * - `lean` (default): the gateway still validates, plans and caches plans as before; the plan
 *   is run by planNodes.ts and the response shaped by responseShape.ts, both compiled once per
 *   cached plan. The router-bound benchmark's profile put the stock executor's result shaping,
 *   merging and null-prototype serialisation at about a third of the router's CPU.
 * - `gateway`: the stock executor, untouched — the fallback for a user who meets a difference
 *   (docs/federation.md, "Query plan executor").
 * - `compare`: runs the lean executor, then replays its subgraph responses through the stock
 *   executor and answers INTERNAL_SERVER_ERROR if the two responses differ (executorCompare.ts).
 *   For tests and for diagnosing a suspected difference, never for production traffic.
 *
 * @remarks
 * The gateway calls `executeQueryPlan` through its module's exports object at call time
 * (`(0, executeQueryPlan_1.executeQueryPlan)(…)`), so replacing that export is enough; the plan
 * store, validation, the request span and `experimental_didResolveQueryPlan` stay the gateway's.
 * Plans the lean executor does not run go to the stock one: @defer, subscriptions (never
 * executed as plans here), introspection fields (`__schema`, `__type`: the IDE), response names
 * `__proto__`, `@fromContext` rewrites, and requests that capture Apollo usage traces.
 */
import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { PlanNode, QueryPlan, SubscriptionNode } from '@apollo/query-planner';
import { gatewayExecution, gatewayTelemetry } from './gatewayInternals.js';
import { executeNode, type PlanExecution } from './planNodes.js';
import { compileShape, shapeResponse, type ResponseShape } from './responseShape.js';

export type PlanExecutorKind = 'lean' | 'gateway' | 'compare';

type ExecutionResult = { data?: unknown; errors?: readonly GraphQLError[]; extensions?: object };

export type ExecuteQueryPlan = (
  queryPlan: QueryPlan,
  serviceMap: PlanExecution['serviceMap'],
  requestContext: GatewayGraphQLRequestContext,
  operationContext: {
    readonly operation: OperationDefinitionNode;
    readonly fragments: Record<string, FragmentDefinitionNode>;
  },
  supergraphSchema: GraphQLSchema,
  apiSchema: Schema,
  telemetry: unknown,
) => Promise<ExecutionResult>;

/** The stock executor, as the gateway module had it before `installPlanExecutor`. */
export const stockExecuteQueryPlan = gatewayExecution.executeQueryPlan as ExecuteQueryPlan;

interface CompiledPlan {
  readonly operation: Operation;
  readonly shape: ResponseShape;
}

/** Plans run by each executor since start (tests check the lean one really ran). */
export const planExecutorRuns = { lean: 0, stock: 0 };

/** Told of every plan run (install.ts points it at fleetgraph_router_plan_executions_total). */
let onPlanRun: (executor: 'lean' | 'stock') => void = () => undefined;
export function observePlanRuns(observer: (executor: 'lean' | 'stock') => void): void {
  onPlanRun = observer;
}
/** Counts one plan run by `executor`, and tells the observer. */
export function recordPlanRun(executor: 'lean' | 'stock'): void {
  planExecutorRuns[executor]++;
  onPlanRun(executor);
}

/** Per cached plan object: its compiled form, or null when the stock executor runs it. */
const compiled = new WeakMap<QueryPlan, CompiledPlan | null>();

function compile(
  queryPlan: QueryPlan,
  apiSchema: Schema,
  operationContext: Parameters<ExecuteQueryPlan>[3],
): CompiledPlan | null {
  let plan = compiled.get(queryPlan);
  if (plan !== undefined) return plan;
  plan = null;
  if (!queryPlan.node || supportedNode(queryPlan.node)) {
    const operation = operationFromDocument(
      apiSchema,
      {
        kind: Kind.DOCUMENT,
        definitions: [operationContext.operation, ...Object.values(operationContext.fragments)],
      },
      { validate: false },
    );
    const shape = compileShape(operation);
    if (shape) plan = { operation, shape };
  }
  compiled.set(queryPlan, plan);
  return plan;
}

function supportedNode(node: PlanNode | SubscriptionNode): boolean {
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      return node.nodes.every(supportedNode);
    case 'Flatten':
      return supportedNode(node.node);
    case 'Fetch':
      return !node.hasDefers && !node.contextRewrites?.length;
    case 'Condition':
      return (
        (!node.ifClause || supportedNode(node.ifClause)) &&
        (!node.elseClause || supportedNode(node.elseClause))
      );
    default:
      return false;
  }
}

/** Runs the plan with the lean executor, or the stock one where it does not apply. */
export const leanExecuteQueryPlan: ExecuteQueryPlan = async (...args) => {
  const [queryPlan, serviceMap, requestContext, operationContext, supergraphSchema, apiSchema] =
    args;
  const captures = (requestContext.metrics as { captureTraces?: boolean } | undefined)
    ?.captureTraces;
  const plan = captures ? null : compileSafely(queryPlan, apiSchema, operationContext);
  if (!plan) {
    recordPlanRun('stock');
    return stockExecuteQueryPlan(...args);
  }
  recordPlanRun('lean');
  const { tracer, OpenTelemetrySpanNames, recordExceptions } = gatewayTelemetry;
  const telemetry = args[6];
  return tracer.startActiveSpan(OpenTelemetrySpanNames.EXECUTE, async (span) => {
    try {
      const execution: PlanExecution = {
        operation: plan.operation,
        serviceMap,
        requestContext,
        supergraphSchema,
        telemetry,
        errors: [],
      };
      const data: Record<string, unknown> = {};
      // compile() admitted only Sequence, Parallel, Flatten, Fetch and Condition nodes.
      if (queryPlan.node)
        await executeNode(execution, queryPlan.node as PlanNode, {
          path: [],
          data,
          fullResult: data,
        });
      const result = shaped(plan, data, execution, requestContext);
      if (result.errors) {
        recordExceptions(span, result.errors, telemetry);
        span.setStatus({ code: 2 });
      }
      return result;
    } catch (error) {
      recordExceptions(span, [error], telemetry);
      span.setStatus({ code: 2 });
      throw error;
    } finally {
      span.end();
    }
  });
};

/** A plan this code cannot compile is run stock, not failed (a gateway upgrade's new shapes). */
function compileSafely(...args: Parameters<typeof compile>): CompiledPlan | null {
  try {
    return compile(...args);
  } catch {
    compiled.set(args[0], null);
    return null;
  }
}

/** The stock post-processing: shaping errors count only when no fetch failed. */
function shaped(
  plan: CompiledPlan,
  data: Record<string, unknown>,
  execution: PlanExecution,
  requestContext: GatewayGraphQLRequestContext,
): ExecutionResult {
  const { errors } = execution;
  let shapedData: unknown;
  try {
    const result = shapeResponse(plan.shape, data, requestContext.request.variables);
    shapedData = result.data;
    if (errors.length === 0 && result.errors.length > 0)
      return { extensions: { valueCompletion: result.errors }, data: shapedData };
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    if (error instanceof Error)
      return { errors: [new GraphQLError(error.message, { originalError: error })] };
    return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
  }
  return errors.length === 0 ? { data: shapedData } : { errors, data: shapedData };
}
