/**
 * The platform's Redis client on a real Redis Cluster (three masters, test/redis-cluster/run.sh):
 * what ioredis's Cluster accepts and refuses, checked rather than assumed, and the helpers the
 * router's Redis users rely on (slots, pipeline groups, the subscriber connection).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { loadToolConfig } from '../../platform/config/load.js';
import {
  createRedis,
  createSubscriber,
  keySlot,
  pipelineGroupOf,
  waitForRedis,
} from '../../platform/redis/client.js';
import { subscribeOnSlotOwner } from '../../platform/redis/slotOwnerSubscription.js';
import { testConfig } from '../support/stack.js';
import {
  clusterForTest,
  clusterMasters,
  clusterNodes,
  masterOf,
  type ClusterMaster,
} from '../support/redisCluster.js';

const prefix = testConfig.redis.keyPrefix;

/** `count` keys (before the prefix) that, together, live on every master. */
function keysOnEveryMaster(masters: readonly ClusterMaster[], count: number): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  while (keys.length < count || seen.size < masters.length) {
    const key = `cluster-test:${randomUUID()}`;
    seen.add(masterOf(masters, prefix + key).id);
    keys.push(key);
  }
  return keys;
}

describe('the Redis client on a Redis Cluster', () => {
  let cluster: Cluster;
  let masters: ClusterMaster[];
  before(async () => {
    cluster = await clusterForTest();
    masters = await clusterMasters(cluster);
  });
  after(() => {
    cluster.disconnect();
    for (const m of masters) m.redis.disconnect();
  });

  it('when REDIS_CLUSTER_NODES is set, then createRedis gives a Cluster that waitForRedis sees ready, over three masters', async () => {
    assert.equal(clusterNodes().length, 3);
    assert.equal(cluster.status, 'ready');
    assert.equal(masters.length, 3);
    assert.equal(
      masters.reduce((n, m) => n + m.slots.reduce((s, [from, to]) => s + to - from + 1, 0), 0),
      16384,
    );
  });

  it('when a key is written through the cluster, then it is stored under REDIS_KEY_PREFIX on the master of its slot', async () => {
    const key = `cluster-test:${randomUUID()}`;
    await cluster.set(key, 'v', 'EX', 60);
    const owner = masterOf(masters, prefix + key);
    assert.equal(await owner.redis.get(prefix + key), 'v');
    // Any other master redirects: the key is not there (ioredis follows MOVED; a plain client does not).
    for (const other of masters.filter((m) => m !== owner))
      await assert.rejects(other.redis.exists(prefix + key), new RegExp(`MOVED \\d+ ${owner.id}`));
  });

  it('when keySlot computes a slot, then it is the slot CLUSTER KEYSLOT gives (plain keys, hash tags, empty tags, UTF-8)', async () => {
    const keys = [
      'rl:user:1:29000000',
      `fg:rl:user:${randomUUID()}:1`,
      '{fleet}:versions',
      'fg:{cache}:v:Robot:42',
      'a{}b{c}',
      '{}',
      '{',
      'x}{y}',
      'robot-ünïcødé-🤖',
      '',
    ];
    for (const key of keys)
      assert.equal(keySlot(key), Number(await cluster.cluster('KEYSLOT', key)), key);
  });

  it('when one pipeline holds keys of several masters, then ioredis refuses it, and grouped by pipelineGroupOf each group is accepted', async () => {
    const keys = keysOnEveryMaster(masters, 12);
    const mixed = cluster.pipeline();
    for (const key of keys) mixed.set(key, '1', 'EX', 60);
    await assert.rejects(mixed.exec(), /same slots allocation group/);

    const groupOf = pipelineGroupOf(cluster);
    const groups = new Map<string, string[]>();
    for (const key of keys) groups.set(groupOf(key), [...(groups.get(groupOf(key)) ?? []), key]);
    assert.equal(groups.size, 3, 'one group per master');
    const replies = await Promise.all(
      [...groups.values()].map((group) => {
        const pipeline = cluster.pipeline();
        for (const key of group) pipeline.incrby(key, 2).expire(key, 60);
        return pipeline.exec();
      }),
    );
    assert.ok(replies.flat().every((reply) => reply?.[0] === null));
    for (const key of keys) assert.equal(await cluster.get(key), '2');
  });

  it('when a MULTI writes two keys, then the cluster refuses it unless they share a hash tag', async () => {
    const id = randomUUID();
    // Two keys of different slots (with the prefix), found rather than hoped for.
    let other = 1;
    while (keySlot(`${prefix}x:${id}:a`) === keySlot(`${prefix}x:${id}:${other}`)) other += 1;
    await assert.rejects(
      cluster.multi().set(`x:${id}:a`, '1').set(`x:${id}:${other}`, '1').exec(),
      /CROSSSLOT|same slot/,
    );
    const tagged = await cluster
      .multi()
      .set(`x:{${id}}:a`, '1', 'EX', 60)
      .set(`x:{${id}}:${other}`, '1', 'EX', 60)
      .exec();
    assert.deepEqual(
      tagged?.map(([error]) => error),
      [null, null],
    );
  });

  it('when a subscriber is made with createSubscriber before the cluster is ready, then PUBLISH on each master reaches it', async () => {
    const channel = `cluster-test:${randomUUID()}`;
    const client = createRedis(testConfig);
    const subscriber = createSubscriber(client); // not ready yet: SUBSCRIBE must wait, not fail
    try {
      const received: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber.subscribe(channel);
      await waitForRedis(client, 5000);
      for (const master of masters) await master.redis.publish(channel, master.id);
      await client.publish(channel, 'through the cluster client');
      const deadline = Date.now() + 2000;
      while (received.length < masters.length + 1 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        received.sort(),
        [...masters.map((m) => m.id), 'through the cluster client'].sort(),
      );
    } finally {
      subscriber.disconnect();
      client.disconnect();
    }
  });

  it('when subscribeOnSlotOwner subscribes, then it listens on the master of the key, and a dropped connection is reported and replaced there', async () => {
    const key = `cluster-test:{${randomUUID()}}`;
    const channel = `cluster-test:${randomUUID()}`;
    const owner = masterOf(masters, prefix + key);
    const client = createRedis(testConfig); // not ready yet: it must wait for the slot map
    const events: string[] = [];
    const subscription = subscribeOnSlotOwner(client as Cluster, key, channel, {
      onMessage: (message) => events.push(`message ${message}`),
      onLost: () => events.push('lost'),
      onSubscribed: async () => {
        events.push('subscribed');
      },
    });
    const until = async (what: () => boolean) => {
      const deadline = Date.now() + 3000;
      while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(what(), JSON.stringify(events));
    };
    try {
      await until(() => events.includes('subscribed'));
      // Node-local counts: subscribed on the key's master, and on no other node.
      for (const master of masters) {
        const [, count] = (await master.redis.pubsub('NUMSUB', channel)) as [string, number];
        assert.equal(count, master === owner ? 1 : 0, `subscribers on ${master.id}`);
      }
      // Published on the owner, the message reaches the subscriber before a later reply there.
      await owner.redis.publish(channel, 'first');
      await until(() => events.includes('message first'));
      // The server drops the connection: reported, then subscribed again on the owner.
      await owner.redis.client('KILL', 'TYPE', 'pubsub');
      await until(() => events.filter((e) => e === 'subscribed').length === 2);
      assert.deepEqual(events, ['subscribed', 'message first', 'lost', 'subscribed']);
      await owner.redis.publish(channel, 'second');
      await until(() => events.includes('message second'));
    } finally {
      subscription.close();
      client.disconnect();
    }
  });

  it('when the cluster cannot be reached, then commands fail at once rather than queue (fail-open callers see a miss)', async () => {
    const dead = createRedis(
      loadToolConfig({
        ...process.env,
        FLEETGRAPH_ENV: 'test',
        REDIS_CLUSTER_NODES: '127.0.0.1:1',
      }),
    );
    try {
      const started = Date.now();
      await assert.rejects(dead.get('anything'));
      assert.ok(Date.now() - started < 500, `failed after ${Date.now() - started} ms`);
      await assert.rejects(waitForRedis(dead, 300), /not ready/);
    } finally {
      dead.disconnect();
    }
  });
});
