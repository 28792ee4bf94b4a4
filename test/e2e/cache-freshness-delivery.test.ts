/**
 * The response cache's freshness promise when the invalidation message reaches another router
 * late: across a network, through a proxy, or behind other work in its event loop. A write
 * acknowledged by router `a` must not be followed by router `late` serving its in-process copy
 * of the value before it (docs/caching.md, "Why it is never stale", step 4). `late` reaches the
 * shared Redis through a proxy that holds every reply and message back 80 ms once switched on:
 * the purge is in Redis before `a` acknowledges, the message is not yet at `late`.
 *
 * A Redis of its own (a private server, also under `npm run test:redis-cluster`: the proxy sits
 * in front of one server). Robots 110+ of organization 2's fleet (2, 1): this file's own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startDelayProxy, type DelayProxy } from '../support/delayProxy.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';
import { readBattery, warm, writeBattery } from '../support/robotBattery.js';

const robot = (n: number) => seedIds.robot(2, 1, 110 + n);

describe('the response cache stays fresh when the invalidation message arrives late', () => {
  let redis: PrivateRedis;
  let proxy: DelayProxy;
  let a: Federation;
  let late: Federation;
  let token: string;

  before(async () => {
    redis = await startPrivateRedis();
    proxy = await startDelayProxy();
    const env = { REDIS_URL: redis.url, RATE_LIMITS: 'user=1000000' };
    a = await startFederation(env);
    // Commands wait for the held-back replies rather than time out (which would bypass the cache).
    late = await startFederation({
      ...env,
      REDIS_URL: proxy.route(redis.url),
      REDIS_COMMAND_TIMEOUT_MS: '2000',
    });
    token = await tokenFor(a.config, 2, 0);
  });
  after(async () => {
    for (const federation of [a, late]) await federation?.close();
    await proxy?.close();
    await redis?.stop();
  });

  it('when another router acknowledged a write, then a read that starts afterwards is not served the in-process copy from before it', async () => {
    for (let n = 0; n < 3; n++) {
      const id = robot(n);
      await writeBattery(a, token, id, 10 + n);
      await warm(late, token, id);
      const copy = await readBattery(late, token, id);
      assert.equal(copy.cache, 'HIT', 'the in-process copy is served while nothing changes');
      proxy.delay(80);
      try {
        await writeBattery(a, token, id, 20 + n);
        const read = await readBattery(late, token, id);
        assert.equal(
          read.battery,
          20 + n,
          `read after the acknowledged write (x-cache ${read.cache})`,
        );
      } finally {
        proxy.pass();
      }
    }
  });
});
