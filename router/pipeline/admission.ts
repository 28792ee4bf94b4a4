/**
 * Admission control (../executionLimit.ts): an execution waits for a slot; when the queue is
 * full it is shed with 503 SERVICE_OVERLOADED and Retry-After. A request whose client hung up
 * while it waited is dropped unexecuted and unanswered.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import type { ExecutionLimit } from '../executionLimit.js';
import { sendErrors } from '../http/responses.js';
import type { RouterMetrics } from '../metrics.js';
import type { RequestState } from './requestState.js';

export function admissionStage(deps: {
  readonly executionLimit: ExecutionLimit;
  readonly metrics: RouterMetrics;
  readonly maxConcurrentExecutions: number;
  readonly maxQueuedExecutions: number;
}): (state: RequestState, run: (state: RequestState) => Promise<void>) => Promise<void> {
  const { executionLimit, metrics } = deps;
  const overloaded = `The router is at its limit of ${deps.maxConcurrentExecutions} executing and ${deps.maxQueuedExecutions} queued operations; retry shortly`;
  return async function admission(state, run) {
    const admitted = await executionLimit.run(
      () => run(state),
      () => !state.clientGone,
    );
    if (admitted.admitted || state.clientGone) return;
    state.res.setHeader('retry-after', 1);
    metrics.errors.inc({ code: ErrorCode.SERVICE_OVERLOADED });
    sendErrors(state.res, 503, overloaded, ErrorCode.SERVICE_OVERLOADED);
  };
}
