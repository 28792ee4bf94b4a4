/**
 * Stage 1: who is calling (auth/authenticate.ts) → 401 UNAUTHENTICATED on bad credentials.
 * Any presented credential that fails is refused, never downgraded to anonymous.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import type { Authenticator } from '../auth/authenticate.js';
import { sendErrors } from '../http/responses.js';
import type { RouterMetrics } from '../metrics.js';
import { ANSWERED, NEXT, type RequestState, type StageOutcome } from './requestState.js';

export function authenticateStage(deps: {
  readonly authenticator: Authenticator;
  readonly metrics: RouterMetrics;
}): (state: RequestState) => Promise<StageOutcome> {
  const { authenticator, metrics } = deps;
  return async function authenticate(state) {
    const auth = await authenticator.authenticate(
      state.headers,
      state.req.socket.remoteAddress ?? 'unknown',
    );
    if (!auth.ok) {
      metrics.errors.inc({ code: ErrorCode.UNAUTHENTICATED });
      sendErrors(state.res, 401, auth.message, ErrorCode.UNAUTHENTICATED);
      return ANSWERED;
    }
    state.auth = auth;
    return NEXT;
  };
}
