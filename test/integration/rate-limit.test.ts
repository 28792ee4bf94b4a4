/**
 * The rate limiter against the real Redis: exact within one instance, shared between
 * instances through Redis after a flush, and per-instance (not open, not closed) while Redis
 * is unreachable.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadToolConfig } from '../../platform/config/load.js';
import { createRedis, type RedisClient } from '../../platform/redis/client.js';
import { RateLimiter } from '../../router/rateLimit.js';
import { redisForTest } from '../support/stack.js';

const LIMITS = { user: 5 };

describe('rate limits: local decisions, shared through Redis', () => {
  let redis: RedisClient;
  const limiters: RateLimiter[] = [];
  const limiter = (client: RedisClient) => {
    const created = new RateLimiter(client, LIMITS);
    limiters.push(created);
    return created;
  };
  before(async () => {
    redis = await redisForTest();
  });
  after(async () => {
    for (const l of limiters) await l.close();
    redis.disconnect();
  });

  it('when one instance sees 7 requests against a limit of 5, then exactly the first 5 pass and Redis holds 7', async () => {
    const subject = `user:${randomUUID()}`;
    const one = limiter(redis);
    const decisions = Array.from({ length: 7 }, () => one.check(subject, 'user'));
    assert.deepEqual(
      decisions.map((d) => d.allowed),
      [true, true, true, true, true, false, false],
    );
    assert.deepEqual(
      decisions.map((d) => d.remaining),
      [4, 3, 2, 1, 0, 0, 0],
    );
    assert.ok(decisions.every((d) => !d.bypassed));
    await one.flush();
    const window = Math.floor(Date.now() / 60_000);
    assert.equal(await redis.get(`rl:${subject}:${window}`), '7');
  });

  it('when a key is flushed again, then its expiry is sent once per window, and again if Redis lost the key', async () => {
    const subject = `user:${randomUUID()}`;
    const one = limiter(redis);
    const now = Date.now();
    const key = `rl:${subject}:${Math.floor(now / 60_000)}`;
    one.check(subject, 'user', now);
    await one.flush(now);
    assert.ok((await redis.ttl(key)) > 0, 'the first flush sets the expiry');
    await redis.persist(key); // were EXPIRE sent again, the key would get a TTL back
    one.check(subject, 'user', now);
    await one.flush(now);
    assert.equal(await redis.ttl(key), -1, 'a later flush sends INCRBY only');
    assert.equal(await redis.get(key), '2');
    await redis.del(key); // lost, as when Redis restarts empty
    one.check(subject, 'user', now);
    await one.flush(now);
    assert.equal(await redis.get(key), '1');
    assert.ok((await redis.ttl(key)) > 0, 'a recreated key gets its expiry again');
  });

  it('when two instances share a subject, then after a flush each counts the other’s requests', async () => {
    const subject = `user:${randomUUID()}`;
    const a = limiter(redis);
    const b = limiter(redis);
    for (let i = 0; i < 3; i++) assert.ok(a.check(subject, 'user').allowed);
    await a.flush();
    // b has seen nothing itself, but learns a's 3 with its first flush.
    assert.ok(b.check(subject, 'user').allowed); // 4th overall (b does not know yet)
    await b.flush();
    assert.equal(b.check(subject, 'user').remaining, 0); // 5th overall
    assert.equal(b.check(subject, 'user').allowed, false); // 6th overall: limited
  });

  it('when Redis is unreachable, then the limit still applies per instance and decisions are marked as bypasses', async () => {
    // A client for a port nothing listens on: always disconnected, commands fail at once.
    const dead = createRedis(
      loadToolConfig({ ...process.env, FLEETGRAPH_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:1' }),
    );
    try {
      const lonely = limiter(dead);
      const subject = `user:${randomUUID()}`;
      const decisions = Array.from({ length: 6 }, () => lonely.check(subject, 'user'));
      await lonely.flush();
      const later = lonely.check(subject, 'user');
      assert.deepEqual(
        decisions.map((d) => d.allowed),
        [true, true, true, true, true, false],
      );
      assert.equal(later.allowed, false, 'still limited after a failed flush');
      assert.ok([...decisions, later].every((d) => d.bypassed));
    } finally {
      dead.disconnect();
    }
  });
});
