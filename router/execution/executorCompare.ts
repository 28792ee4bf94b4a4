/**
 * QUERY_PLAN_EXECUTOR=compare: every plan runs through the lean executor against the real
 * subgraphs, and then through the stock gateway executor against a replay of the subgraph
 * responses the lean run received; if the two results (data, errors with their messages, paths
 * and extensions, response extensions) serialise differently, the request fails with
 * INTERNAL_SERVER_ERROR carrying both. The test stack runs in this mode (test/support/stack.ts),
 * so every operation of every test is an equivalence check; it is refused in production
 * (platform/config), since it doubles the router's work and returns data in errors.
 *
 * @remarks
 * Replaying rather than fetching twice keeps mutations single and both executors on identical
 * inputs. A fetch the stock executor makes that the lean one did not (another subgraph, query,
 * or representations) finds no recording and fails that fetch, which shows up as a difference.
 */
import { GraphQLError } from 'graphql';
import type { PlanExecution } from './planNodes.js';
import {
  leanExecuteQueryPlan,
  stockExecuteQueryPlan,
  type ExecuteQueryPlan,
} from './planExecutor.js';

type ServiceMap = PlanExecution['serviceMap'];
type DataSource = ServiceMap[string];

const keyOf = (service: string, request: { query?: string; variables?: unknown }) =>
  `${service}\n${request.query ?? ''}\n${JSON.stringify(request.variables ?? {})}`;

export const compareExecuteQueryPlan: ExecuteQueryPlan = async (queryPlan, serviceMap, ...rest) => {
  /** A fetch's answer as JSON (each executor mutates what it merges), or the error it threw. */
  const recorded = new Map<string, ({ json: string } | { thrown: unknown })[]>();
  const recording: Record<string, DataSource> = {};
  const replaying: Record<string, DataSource> = {};
  for (const [name, source] of Object.entries(serviceMap)) {
    recording[name] = {
      async process(request) {
        const key = keyOf(name, (request as { request: object }).request);
        const queue = recorded.get(key) ?? [];
        recorded.set(key, queue);
        try {
          const response = await source.process(request);
          queue.push({ json: JSON.stringify(response) });
          return response;
        } catch (error) {
          queue.push({ thrown: error });
          throw error;
        }
      },
    };
    replaying[name] = {
      async process(request) {
        const key = keyOf(name, (request as { request: object }).request);
        const answer = recorded.get(key)?.shift();
        if (answer === undefined)
          throw new Error(`compare: no recorded answer for the stock executor's fetch ${key}`);
        if ('thrown' in answer) throw answer.thrown;
        return JSON.parse(answer.json) as Awaited<ReturnType<DataSource['process']>>;
      },
    };
  }
  const lean = await leanExecuteQueryPlan(queryPlan, recording, ...rest);
  const stock = await stockExecuteQueryPlan(queryPlan, replaying, ...rest);
  const leanJson = comparable(lean);
  const stockJson = comparable(stock);
  if (leanJson === stockJson) return lean;
  // Test-only mode: the detail goes to stderr too, since the router masks error extensions.
  console.error(
    `QUERY_PLAN_EXECUTOR=compare: answers differ\nlean:  ${leanJson}\nstock: ${stockJson}`,
  );
  return {
    errors: [
      new GraphQLError(
        'The lean query plan executor and the stock gateway executor answered differently (QUERY_PLAN_EXECUTOR=compare).',
        {
          extensions: {
            code: 'INTERNAL_SERVER_ERROR',
            executorMismatch: { lean: leanJson, stock: stockJson },
          },
        },
      ),
    ],
  };
};

/**
 * A result as JSON, its errors in a canonical order: both executors record a fetch's errors
 * when its answer arrives, and the fetches of a Parallel node arrive in any order (the replay
 * answers at once), so only the set of errors is the same.
 */
function comparable(result: { errors?: readonly unknown[] }): string {
  if (!result.errors) return JSON.stringify(result);
  const errors = result.errors.map((error) => JSON.stringify(error)).sort();
  return JSON.stringify({ ...result, errors });
}
