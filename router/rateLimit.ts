/**
 * Rate limiting per API key and per user: a fixed one-minute window in Redis (INCR + EXPIRE in
 * one MULTI), with limits by class (RATE_LIMITS). Fixed windows allow a burst of up to twice
 * the limit across a window edge; that is accepted for its cost (one round trip, one key).
 *
 * Fail-open: if Redis is slow or down, the request is allowed (and counted as a bypass) —
 * Redis trouble must never fail requests.
 */
import type { RedisClient } from '../subgraphs/shared/redis/client.js';

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfterSeconds: number;
  /** True when Redis could not be asked and the request was let through. */
  readonly bypassed: boolean;
}

export class RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly limits: Readonly<Record<string, number>>,
  ) {}

  async check(subject: string, rateClass: string, now = Date.now()): Promise<RateDecision> {
    const limit = this.limits[rateClass] ?? this.limits['user'] ?? 600;
    const window = Math.floor(now / 60_000);
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
    const key = `rl:${subject}:${window}`;
    try {
      const results = await this.redis.multi().incr(key).expire(key, 61).exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      return {
        allowed: count <= limit,
        limit,
        remaining: Math.max(0, limit - count),
        retryAfterSeconds,
        bypassed: false,
      };
    } catch {
      return { allowed: true, limit, remaining: limit, retryAfterSeconds, bypassed: true };
    }
  }
}
