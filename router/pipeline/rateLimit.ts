/**
 * Stage 2: per API key / user rate limits (the limiter: ../rateLimit.ts) → 429 RATE_LIMITED
 * with Retry-After. Synchronous: the limiter decides locally, without waiting for Redis.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import { sendErrors } from '../http/responses.js';
import type { RouterMetrics } from '../metrics.js';
import type { RateLimiter } from '../rateLimit.js';
import { ANSWERED, NEXT, type RequestState, type StageOutcome } from './requestState.js';

export function rateLimitStage(deps: {
  readonly rateLimiter: RateLimiter;
  readonly metrics: RouterMetrics;
}): (state: RequestState) => StageOutcome {
  const { rateLimiter, metrics } = deps;
  return function rateLimit(state) {
    const { auth, res } = state;
    const rate = rateLimiter.check(auth.rateSubject, auth.rateClass);
    if (rate.bypassed) metrics.redisBypasses.inc({ purpose: 'rate_limit' });
    res.setHeader('x-ratelimit-limit', rate.limit);
    res.setHeader('x-ratelimit-remaining', rate.remaining);
    if (rate.allowed) return NEXT;
    metrics.rateLimited.inc({ class: auth.rateClass });
    metrics.errors.inc({ code: ErrorCode.RATE_LIMITED });
    res.setHeader('retry-after', rate.retryAfterSeconds);
    sendErrors(
      res,
      429,
      `Rate limit of ${rate.limit} requests per minute exceeded; retry after ${rate.retryAfterSeconds}s`,
      ErrorCode.RATE_LIMITED,
    );
    return ANSWERED;
  };
}
