/**
 * QUERY_PLAN_EXECUTOR → the function the gateway calls to run a plan (planExecutor.ts explains
 * the three choices and why replacing the gateway module's export is enough).
 */
import { gatewayExecution } from './gatewayInternals.js';
import { compareExecuteQueryPlan } from './executorCompare.js';
import {
  leanExecuteQueryPlan,
  observePlanRuns,
  recordPlanRun,
  stockExecuteQueryPlan,
  type PlanExecutorKind,
} from './planExecutor.js';

const executors = {
  lean: leanExecuteQueryPlan,
  gateway: countedStock,
  compare: compareExecuteQueryPlan,
} as const;

/** QUERY_PLAN_EXECUTOR=gateway: every plan stock, counted as such. */
function countedStock(...args: Parameters<typeof stockExecuteQueryPlan>) {
  recordPlanRun('stock');
  return stockExecuteQueryPlan(...args);
}

/**
 * Process-wide (the gateway module is): called once at start-up, before the gateway loads.
 * `counter` counts the plans each executor ran (the stock one runs what the lean one does not:
 * planExecutor.ts), so a fallback shows in /metrics.
 */
export function installPlanExecutor(
  kind: PlanExecutorKind,
  counter?: { inc(labels: { executor: string }): void },
): void {
  gatewayExecution.executeQueryPlan = executors[kind] as (...args: unknown[]) => Promise<unknown>;
  if (counter) observePlanRuns((executor) => counter.inc({ executor }));
}
