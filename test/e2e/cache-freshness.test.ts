/**
 * The response cache's freshness promise, tested the way it breaks: a read that starts after a
 * write was acknowledged never shows the value from before it — with reads in flight during
 * the write, with two router instances sharing Redis, with Redis slow during the purge, with
 * the invalidation state deleted by hand, and with a writer whose own cache is off
 * (docs/caching.md). Every router here shares one Redis: a private server (paused and
 * edited without touching the development one), or, under `npm run test:redis-cluster`, the
 * three-master cluster that REDIS_CLUSTER_NODES names. The robots written are this file's own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { seedIds } from '../../scripts/seed-ids.js';
import { startDelayProxy, type DelayProxy } from '../support/delayProxy.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis } from '../support/privateRedis.js';
import { readBattery, warm, writeBattery, type Read } from '../support/robotBattery.js';

/** Robots of organization 2's fleet (2, 1), numbered past what any other test file uses. */
const robot = (n: number) => seedIds.robot(2, 1, 100 + n);

/** The Redis the routers share, and plain connections to each of its servers. */
interface SharedRedis {
  readonly env: Record<string, string>;
  servers(): Redis[];
  stop(): Promise<void>;
}

async function sharedRedis(): Promise<SharedRedis> {
  const cluster = process.env['REDIS_CLUSTER_NODES'];
  if (cluster) {
    const seeds = cluster.split(',').map((entry) => entry.trim().split(':'));
    return {
      env: {},
      servers: () => seeds.map(([host, port]) => new Redis(Number(port), host!)),
      stop: async () => undefined,
    };
  }
  const redis = await startPrivateRedis();
  return {
    env: { REDIS_URL: redis.url },
    servers: () => [new Redis(redis.url)],
    stop: () => redis.stop(),
  };
}

/**
 * Readers loop over `hot` and `cold` robots through `readVia` while one writer raises each hot
 * robot's battery through `writeVia`, as fast as it can, for `ms`. A read is stale when it
 * shows a value below the newest one acknowledged before it started; returns the stale reads'
 * windows (read start − that ack). The cold robots are never written: their reads are hits
 * once stored, which shows the cache at work beside the writes.
 */
async function liveFleet(options: {
  readVia: Federation;
  writeVia: Federation;
  token: string;
  hot: readonly string[];
  cold: readonly string[];
  readers: number;
  ms: number;
}): Promise<{ reads: number; writes: number; hits: number; staleWindows: number[] }> {
  const { readVia, writeVia, token, hot } = options;
  // Three reads of a hot robot for one of a cold one.
  const ids = [...hot, ...hot, ...hot, ...options.cold];
  const acked = new Map<string, { value: number; at: number }>();
  const staleWindows: number[] = [];
  let reads = 0;
  let writes = 0;
  let hits = 0;
  const until = performance.now() + options.ms;
  const writer = async () => {
    // Battery in hundredths of a percent: strictly increasing for 10,000 writes.
    for (let step = 1; performance.now() < until; step++) {
      const value = step / 100;
      for (const id of hot) {
        await writeBattery(writeVia, token, id, value);
        acked.set(id, { value, at: performance.now() });
        writes++;
      }
    }
  };
  const reader = async (offset: number) => {
    for (let i = offset; performance.now() < until; i++) {
      const id = ids[i % ids.length]!;
      const known = acked.get(id);
      const started = performance.now();
      const read = await readBattery(readVia, token, id);
      reads++;
      if (read.cache === 'HIT') hits++;
      // float columns keep seven significant digits (fromFloat): compare with that slack.
      if (known && (read.battery ?? -1) < known.value - 0.001)
        staleWindows.push(started - known.at);
    }
  };
  await Promise.all([writer(), ...Array.from({ length: options.readers }, (_, n) => reader(n))]);
  return { reads, writes, hits, staleWindows };
}

describe('the response cache stays fresh under a live fleet', () => {
  let redis: SharedRedis;
  let a: Federation;
  let b: Federation;
  let uncached: Federation;
  let proxy: DelayProxy;
  let slow: Federation;
  let token: string;

  before(async () => {
    redis = await sharedRedis();
    const env = { ...redis.env, RATE_LIMITS: 'user=1000000' };
    a = await startFederation(env);
    b = await startFederation(env);
    uncached = await startFederation({ ...env, RESPONSE_CACHE: 'false' });
    proxy = await startDelayProxy();
    slow = await startFederation(env, {
      routeSubgraph: (name, url) => (name === 'fleet' ? proxy.route(url) : url),
    });
    token = await tokenFor(a.config, 2, 0);
    for (let n = 0; n < 8; n++) await writeBattery(a, token, robot(n), 50);
  });
  after(async () => {
    for (const federation of [a, b, uncached, slow]) await federation?.close();
    await proxy?.close();
    await redis?.stop();
  });

  it('when readers and a writer run at once through one router, then no read after an acknowledged write is stale', async () => {
    // The fleet subgraph's answers reach this router 30 ms late: reads are in flight while
    // writes are acknowledged, as dashboards are under live telemetry.
    proxy.delay(30);
    const result = await liveFleet({
      readVia: slow,
      writeVia: slow,
      token,
      hot: [robot(0), robot(1)],
      cold: [robot(4), robot(5)],
      readers: 6,
      ms: 4000,
    });
    console.log(
      `[freshness] one instance: ${JSON.stringify({ ...result, staleWindows: result.staleWindows.length })}`,
    );
    assert.ok(result.writes >= 20 && result.reads >= 100, JSON.stringify(result));
    assert.ok(result.hits > 0, 'the cache served hits between writes');
    assert.deepEqual(result.staleWindows, []);
  });

  it('when writes go through router A and reads through router B, then B is stale for no read after the acknowledgement', async () => {
    proxy.delay(30);
    const result = await liveFleet({
      readVia: slow,
      writeVia: a,
      token,
      hot: [robot(2), robot(3)],
      cold: [robot(6), robot(7)],
      readers: 6,
      ms: 4000,
    });
    console.log(
      `[freshness] two instances: ${JSON.stringify({ ...result, staleWindows: result.staleWindows.length })}`,
    );
    assert.ok(result.hits > 0, 'the cache served hits between writes');
    assert.deepEqual(result.staleWindows, []);
  });

  it('when a query was executing while a write was acknowledged, then its older answer is not served afterwards', async () => {
    const id = robot(0);
    await writeBattery(a, token, id, 60);
    await readBattery(slow, token, id); // first use: not stored yet
    proxy.delay(600); // the fleet subgraph's answers reach `slow` late
    const inFlight = readBattery(slow, token, id); // second use: would be stored
    await new Promise((resolve) => setTimeout(resolve, 200)); // it has read 60 by now
    await writeBattery(a, token, id, 61);
    assert.equal((await inFlight).battery, 60);
    proxy.pass();
    const after = await readBattery(slow, token, id);
    assert.equal(after.battery, 61, `read after the acknowledged write (x-cache ${after.cache})`);
  });

  it('when Redis is too slow to confirm a purge, then the writer serves nothing it covers and the others catch up once it lands', async () => {
    const id = robot(1);
    await writeBattery(a, token, id, 70);
    await warm(a, token, id);
    await warm(b, token, id);
    const blockers = redis.servers();
    // Redis answers no one for 400 ms (every server of a cluster).
    await Promise.all(blockers.map((server) => server.call('CLIENT', 'PAUSE', '400', 'ALL')));
    await writeBattery(a, token, id, 71); // acknowledged although its purge timed out
    const onWriter = await readBattery(a, token, id);
    assert.equal(onWriter.battery, 71, `the writer's own read (x-cache ${onWriter.cache})`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const server of blockers) server.disconnect();
    // The purge is retried every 100 ms (then backing off): B sees it soon after Redis is back.
    let onOther: Read = { battery: null, cache: null };
    for (let i = 0; i < 20 && onOther.battery !== 71; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      onOther = await readBattery(b, token, id);
    }
    assert.equal(onOther.battery, 71, 'the other instance after the retried purge');
    assert.ok((await a.routerMetric('fleetgraph_router_cache_purges_unconfirmed_total')) >= 1);
  });

  it('when the invalidation state is deleted by hand, then cached entries read as changed', async () => {
    const id = robot(2);
    await writeBattery(a, token, id, 80);
    await warm(b, token, id);
    for (const server of redis.servers()) {
      for (const pattern of ['*tag:*', '*{versions}*']) {
        for (const key of await server.keys(pattern)) await server.del(key);
      }
      server.disconnect();
    }
    await writeBattery(a, token, id, 81);
    // In Redis the entry reads as changed at once: a caching router without a copy of it in
    // process (`slow` never read this robot) checks the entry's epoch and executes.
    const read = await readBattery(slow, token, id);
    assert.equal(read.battery, 81, `x-cache ${read.cache}`);
    // B holds an in-process copy: the new epoch reaches it as A's purge message, which is in
    // B's socket before A acknowledges (docs/caching.md, step 4).
    const onB = await readBattery(b, token, id);
    assert.equal(onB.battery, 81, `B after the new epoch (x-cache ${onB.cache})`);
  });

  it('when each write on one router is followed at once by a read on another holding a copy, then no read is stale (100 rounds)', async () => {
    // The race the in-process layer runs: B serves its copy unless A's purge message reached B
    // before A acknowledged the write. On the Redis Cluster, heard through another node (over
    // the cluster bus) it was lost in 13 of 60 rounds; heard on the master that publishes but
    // without the writer's delivery barrier (purgeScript.ts, purgeDelivered), in 3 of 380.
    const id = robot(8);
    const stale: string[] = [];
    const unconfirmed = 'fleetgraph_router_cache_purges_unconfirmed_total';
    for (let round = 1; round <= 100; round++) {
      await warm(b, token, id);
      const writer = round % 2 ? a : uncached;
      const before = await writer.routerMetric(unconfirmed);
      await writeBattery(writer, token, id, 100 - round / 10);
      const read = await readBattery(b, token, id);
      if (Math.abs((read.battery ?? -1) - (100 - round / 10)) > 0.001)
        stale.push(
          `round ${round}: ${read.battery} (x-cache ${read.cache}, unconfirmed purges ${(await writer.routerMetric(unconfirmed)) - before})`,
        );
    }
    assert.deepEqual(stale, []);
  });

  it('when a router with its cache off writes, then a caching router does not serve the old value', async () => {
    const id = robot(3);
    await writeBattery(a, token, id, 90);
    await warm(b, token, id);
    await writeBattery(uncached, token, id, 91);
    const read = await readBattery(b, token, id);
    assert.equal(read.battery, 91, `x-cache ${read.cache}`);
  });

  // Single-flight followers (pipeline/singleFlight.ts `mayTake`): a read that joins one in flight
  // takes the leader's answer only if no write was purged between the leader's snapshot and its
  // own arrival. `slow`'s fleet answers take 600 ms, so both reads are in flight at once.
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const fleetFetches = () =>
    slow.routerMetric('fleetgraph_router_subgraph_fetches_total', { subgraph: 'fleet' });

  it("when a read joins one in flight and a write lands only after it arrived, then it takes the leader's answer: one execution", async () => {
    const id = robot(4);
    await writeBattery(a, token, id, 40);
    await readBattery(slow, token, id); // its policy is known from now on: both share one key
    const before = await fleetFetches();
    proxy.delay(600);
    try {
      const leader = readBattery(slow, token, id);
      await sleep(100);
      const follower = readBattery(slow, token, id); // arrives before the write
      await sleep(200);
      // Acknowledged while both wait (concurrent with both): the leader's store is refused.
      await writeBattery(a, token, id, 41);
      const [first, second] = await Promise.all([leader, follower]);
      assert.equal(first.battery, 40);
      assert.equal(second.battery, 40, "the follower took the leader's answer");
      assert.equal((await fleetFetches()) - before, 1, 'one execution for both');
    } finally {
      proxy.pass();
    }
    assert.equal((await readBattery(slow, token, id)).battery, 41, 'the next read is fresh');
  });

  it('when a read joins one in flight after a write was acknowledged, then it does not take the older answer', async () => {
    const id = robot(5);
    await writeBattery(a, token, id, 50);
    await readBattery(slow, token, id);
    proxy.delay(600);
    try {
      const leader = readBattery(slow, token, id);
      await sleep(200); // the leader has read 50 by now
      await writeBattery(a, token, id, 51); // acknowledged while the leader is in flight
      const follower = readBattery(slow, token, id); // joins the flight after the ack
      assert.equal((await leader).battery, 50);
      const read = await follower;
      assert.equal(read.battery, 51, `read after the acknowledged write (x-cache ${read.cache})`);
    } finally {
      proxy.pass();
    }
  });

  // router/cache/flights.ts: a request does not wait for an execution it cannot take the answer
  // of only to compute alone afterwards (under a live fleet these were the slowest reads).
  it('when several reads arrive after a write that the running execution began before, then they share one fresh execution, not one each', async () => {
    const id = robot(6);
    await readBattery(slow, token, id); // its policy is known from now on: all share one key
    await writeBattery(a, token, id, 60); // and nothing stored before it can be served
    proxy.delay(600);
    try {
      const before = await fleetFetches();
      const leader = readBattery(slow, token, id);
      await sleep(200); // the leader has read 60 by now
      await writeBattery(a, token, id, 61);
      const late = Array.from({ length: 6 }, () => readBattery(slow, token, id));
      const first = await leader;
      assert.equal(first.battery, 60);
      const reads = await Promise.all(late);
      for (const read of reads)
        assert.equal(read.battery, 61, `read after the acknowledged write (x-cache ${read.cache})`);
      // The leader's execution and at most one for the six; on the code before, the six each
      // waited for the leader and then ran alone (7). (Once in CI it was 1 with every read
      // right, the leader's x-cache unrecorded then: hence "at most", and the headers below.)
      const executions = (await fleetFetches()) - before;
      const headers = [first, ...reads].map((read) => read.cache).join(' ');
      assert.ok(executions <= 2, `executions: ${executions} (x-cache ${headers})`);
    } finally {
      proxy.pass();
    }
  });
});
