/**
 * When a decision counts as a Redis bypass. The limiter's only collaborator here is a fake
 * client whose pipeline always fails on a connection that reports itself ready — the state a
 * command timeout on a loaded machine leaves behind, which a real Redis cannot be made to
 * produce on demand. What happens against the real Redis (and with it down) is in
 * test/integration/rate-limit.test.ts and test/faults/redis-loss.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../router/rateLimit.js';
import type { RedisClient } from '../../platform/redis/client.js';

function failingButReadyRedis(): RedisClient {
  const pipeline = {
    incrby: () => pipeline,
    expire: () => pipeline,
    exec: () => Promise.reject(new Error('Command timed out')),
  };
  return {
    status: 'ready',
    pipeline: () => pipeline,
    on: () => undefined,
    off: () => undefined,
  } as unknown as RedisClient;
}

describe('rate-limit decisions while flushes fail on a ready connection', () => {
  it('when one flush fails, then decisions are not bypasses yet; after a second of failures they are', async () => {
    const limiter = new RateLimiter(failingButReadyRedis(), { user: 100 });
    try {
      const t0 = 1_000_000_020_000; // mid-window, so every check below is in one window
      assert.equal(limiter.check('user:a', 'user', t0).bypassed, false);
      await limiter.flush(t0);
      assert.equal(limiter.check('user:a', 'user', t0 + 200).bypassed, false);
      await limiter.flush(t0 + 900);
      assert.equal(limiter.check('user:a', 'user', t0 + 999).bypassed, false);
      const stale = limiter.check('user:a', 'user', t0 + 1_000);
      assert.equal(stale.bypassed, true);
      assert.equal(stale.allowed, true, 'the local count still decides');
      assert.equal(stale.remaining, 96, 'the four requests are still counted');
    } finally {
      await limiter.close();
    }
  });
});
