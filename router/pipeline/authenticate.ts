/**
 * Stage 1: who is calling (auth/authenticate.ts) → 401 UNAUTHENTICATED on bad credentials.
 * Any presented credential that fails is refused, never downgraded to anonymous. An address
 * past its limit of failed authentications (auth/failureLimit.ts) → 429 RATE_LIMITED with
 * Retry-After, before its credentials are checked.
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
    if (!auth.ok && auth.retryAfterSeconds !== undefined) {
      metrics.rateLimited.inc({ class: 'auth-failure' });
      metrics.errors.inc({ code: ErrorCode.RATE_LIMITED });
      state.res.setHeader('retry-after', auth.retryAfterSeconds);
      sendErrors(state.res, 429, auth.message, ErrorCode.RATE_LIMITED);
      return ANSWERED;
    }
    if (!auth.ok) {
      metrics.errors.inc({ code: ErrorCode.UNAUTHENTICATED });
      sendErrors(state.res, 401, auth.message, ErrorCode.UNAUTHENTICATED);
      return ANSWERED;
    }
    state.auth = auth;
    return NEXT;
  };
}
