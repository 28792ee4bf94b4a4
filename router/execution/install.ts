/**
 * QUERY_PLAN_EXECUTOR → the function the gateway calls to run a plan (planExecutor.ts explains
 * the three choices and why replacing the gateway module's export is enough).
 */
import { gatewayExecution } from './gatewayInternals.js';
import { compareExecuteQueryPlan } from './executorCompare.js';
import {
  leanExecuteQueryPlan,
  stockExecuteQueryPlan,
  type PlanExecutorKind,
} from './planExecutor.js';

const executors = {
  lean: leanExecuteQueryPlan,
  gateway: stockExecuteQueryPlan,
  compare: compareExecuteQueryPlan,
} as const;

/** Process-wide (the gateway module is): called once at start-up, before the gateway loads. */
export function installPlanExecutor(kind: PlanExecutorKind): void {
  gatewayExecution.executeQueryPlan = executors[kind] as (...args: unknown[]) => Promise<unknown>;
}
