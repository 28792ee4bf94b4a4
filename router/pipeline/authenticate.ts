/**
 * Stage 1: who is calling (auth/authenticate.ts) → 401 UNAUTHENTICATED on bad credentials.
 * Any presented credential that fails is refused, never downgraded to anonymous. An address
 * past its limit of failed authentications (auth/failureLimit.ts) → 429 RATE_LIMITED with
 * Retry-After, before its credentials are checked.
 *
 * With `deferRevocation` (the GraphQL path), a token whose signature verified passes on while
 * its revocation check runs; {@link confirmNotRevokedStage} is the gate the later stages pass
 * before they answer or execute anything. What a refused caller can still get before the gate
 * is what any caller gets without credentials: a rate-limit or malformed-body error.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import type { Authenticator } from '../auth/authenticate.js';
import { sendErrors } from '../http/responses.js';
import type { RouterMetrics } from '../metrics.js';
import { ANSWERED, NEXT, type RequestState, type StageOutcome } from './requestState.js';

export function authenticateStage(deps: {
  readonly authenticator: Authenticator;
  readonly metrics: RouterMetrics;
  /** Let the revocation check run on behind the later stages (see above); default false. */
  readonly deferRevocation?: boolean;
}): (state: RequestState) => Promise<StageOutcome> {
  const { authenticator, metrics } = deps;
  const options = { deferRevocation: deps.deferRevocation === true };
  return async function authenticate(state) {
    const auth = await authenticator.authenticate(
      state.headers,
      state.req.socket.remoteAddress ?? 'unknown',
      options,
    );
    if (!auth.ok && auth.retryAfterSeconds !== undefined) {
      metrics.rateLimited.inc({ class: 'auth-failure' });
      metrics.errors.inc({ code: ErrorCode.RATE_LIMITED });
      state.res.setHeader('retry-after', auth.retryAfterSeconds);
      sendErrors(state.res, 429, auth.message, ErrorCode.RATE_LIMITED);
      return ANSWERED;
    }
    if (!auth.ok) return refuse(state, auth.message, metrics);
    state.auth = auth;
    return NEXT;
  };
}

/**
 * The gate after a deferred revocation check: passes once the check has found the token
 * usable, answers 401 UNAUTHENTICATED (once) when it has not. Every stage that would answer
 * from the cache or from another request's execution, or start an execution, passes it first.
 * Without a deferred check it passes at once.
 */
export function confirmNotRevokedStage(deps: {
  readonly metrics: RouterMetrics;
}): (state: RequestState) => Promise<StageOutcome> {
  const { metrics } = deps;
  return async function confirmNotRevoked(state) {
    const pending = state.auth.revocation;
    if (!pending) return NEXT;
    const refusal = await pending;
    if (!refusal) return NEXT;
    if (state.res.headersSent) return ANSWERED;
    return refuse(state, refusal.message, metrics);
  };
}

function refuse(state: RequestState, message: string, metrics: RouterMetrics): StageOutcome {
  metrics.errors.inc({ code: ErrorCode.UNAUTHENTICATED });
  sendErrors(state.res, 401, message, ErrorCode.UNAUTHENTICATED);
  return ANSWERED;
}
