/**
 * The rate limiter on a real Redis Cluster: one flush carries subjects whose keys live on
 * different masters (ioredis refuses one pipeline across nodes, so the limiter sends one per
 * node), and two instances — each with its own cluster connection, as two routers — share
 * their counts through the cluster. The single-Redis behaviour is in
 * test/integration/rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { RateLimiter } from '../../router/rateLimit.js';
import { testConfig } from '../support/stack.js';
import {
  clusterForTest,
  clusterMasters,
  masterOf,
  type ClusterMaster,
} from '../support/redisCluster.js';

const LIMITS = { user: 5 };
const windowOf = (now: number) => Math.floor(now / 60_000);

/** Waits out the last 3 s of a minute: a test crossing into the next window would start over. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 3_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

describe('rate limits on a Redis Cluster: one pipeline per node, counts shared across instances', () => {
  let one: Cluster;
  let two: Cluster;
  let masters: ClusterMaster[];
  const limiters: RateLimiter[] = [];
  const limiter = (client: Cluster) => {
    const created = new RateLimiter(client, LIMITS);
    limiters.push(created);
    return created;
  };
  before(async () => {
    await awayFromWindowEdge();
    one = await clusterForTest();
    two = await clusterForTest();
    masters = await clusterMasters(one);
  });
  after(async () => {
    for (const l of limiters) await l.close();
    one.disconnect();
    two.disconnect();
    for (const m of masters) m.redis.disconnect();
  });

  it('when one flush carries subjects on every master, then every count and expiry reaches the cluster', async () => {
    const now = Date.now();
    const subjects = Array.from({ length: 30 }, () => `user:${randomUUID()}`);
    const keyOf = (subject: string) => `rl:${subject}:${windowOf(now)}`;
    const onMasters = new Set(
      subjects.map((s) => masterOf(masters, testConfig.redis.keyPrefix + keyOf(s)).id),
    );
    assert.equal(onMasters.size, 3, 'the subjects span the three masters');
    const a = limiter(one);
    for (const [i, subject] of subjects.entries())
      for (let n = 0; n <= i % 3; n++) assert.ok(a.check(subject, 'user', now).allowed);
    await a.flush(now);
    for (const [i, subject] of subjects.entries()) {
      assert.equal(await one.get(keyOf(subject)), String((i % 3) + 1), subject);
      const ttl = await one.ttl(keyOf(subject));
      assert.ok(ttl > 0 && ttl <= 61, `${subject}: ttl ${ttl}`);
    }
    assert.equal(a.check(subjects[0]!, 'user', now).bypassed, false);
  });

  it('when two instances share subjects on different masters, then after a flush each counts the other’s requests', async () => {
    const subjects = Array.from({ length: 12 }, () => `user:${randomUUID()}`);
    const a = limiter(one);
    const b = limiter(two);
    for (const subject of subjects)
      for (let i = 0; i < 3; i++) assert.ok(a.check(subject, 'user').allowed);
    await a.flush();
    for (const subject of subjects) assert.ok(b.check(subject, 'user').allowed); // 4th overall
    await b.flush();
    for (const subject of subjects) {
      assert.equal(b.check(subject, 'user').remaining, 0, subject); // 5th overall
      assert.equal(b.check(subject, 'user').allowed, false, subject); // 6th overall: limited
    }
    await b.flush(); // the cluster now holds 3 + 1 + 2 per subject
    // a still decides on its last reading (3) until its next flush brings back 7.
    for (const subject of subjects) assert.ok(a.check(subject, 'user').allowed, subject);
    await a.flush();
    for (const subject of subjects) assert.equal(a.check(subject, 'user').allowed, false, subject);
  });

  it('when a key is flushed again, then its expiry is sent once per window, and again if the cluster lost the key', async () => {
    const subject = `user:${randomUUID()}`;
    const a = limiter(one);
    const now = Date.now();
    const key = `rl:${subject}:${windowOf(now)}`;
    a.check(subject, 'user', now);
    await a.flush(now);
    assert.ok((await one.ttl(key)) > 0, 'the first flush sets the expiry');
    await one.persist(key);
    a.check(subject, 'user', now);
    await a.flush(now);
    assert.equal(await one.ttl(key), -1, 'a later flush sends INCRBY only');
    await one.del(key);
    a.check(subject, 'user', now);
    await a.flush(now);
    assert.equal(await one.get(key), '1');
    assert.ok((await one.ttl(key)) > 0, 'a recreated key gets its expiry again');
  });
});
