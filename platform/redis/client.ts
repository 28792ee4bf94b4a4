/**
 * The process's Redis connection (ioredis), configured to fail fast rather than wait: one
 * Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
 *
 * @remarks
 * Redis is a cache here: a slow or dead Redis must never fail or stall a request. So commands
 * time out after REDIS_COMMAND_TIMEOUT_MS, nothing is queued while disconnected
 * (`enableOfflineQueue: false` makes a command fail at once), and the client keeps reconnecting
 * in the background with a capped backoff so caching resumes by itself when Redis returns.
 * Callers treat any Redis error as a cache miss (see the cache modules).
 *
 * **Redis Cluster** (checked against three masters, `npm run test:redis-cluster`):
 * - The options that matter to ioredis's `Cluster` are its own, not `redisOptions`': the offline
 *   queue (`enableOfflineQueue: false` at the top level — the nodes' connections always queue),
 *   reconnection (`clusterRetryStrategy`; a node's `retryStrategy` is replaced by ioredis) and
 *   `lazyConnect`. `keyPrefix` and `commandTimeout` go in `redisOptions` (the prefix is copied to
 *   the cluster; the timeout applies per node connection).
 * - `scaleReads: 'master'`: replicas are asynchronous, and a read from one could return a
 *   session state or a rate count older than the master's.
 * - A command, MULTI/EXEC or script is refused (CROSSSLOT) unless all its keys are in one slot:
 *   keys that must change together share a hash tag `{…}`. A pipeline is refused by ioredis
 *   unless all its keys are served by one node ({@link pipelineGroupOf} groups them).
 * - Pub/sub: {@link createSubscriber} (a subscriber needs its own connection, which must queue
 *   its SUBSCRIBE until connected). A PUBLISH on any node reaches subscribers on every node.
 */
import { Redis, Cluster } from 'ioredis';
import type { RedisSettings } from '../config/load.js';

export type RedisClient = Redis | Cluster;

export function createRedis(
  config: { readonly redis: RedisSettings },
  options: { lazy?: boolean } = {},
): RedisClient {
  const r = config.redis;
  const backoff = (attempt: number) => Math.min(50 * 2 ** attempt, 2000);
  const common = {
    keyPrefix: r.keyPrefix,
    commandTimeout: r.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: options.lazy ?? false,
    retryStrategy: backoff,
  };
  const client: RedisClient = r.clusterNodes
    ? new Cluster([...r.clusterNodes], {
        redisOptions: common,
        enableOfflineQueue: false,
        lazyConnect: options.lazy ?? false,
        clusterRetryStrategy: backoff,
        scaleReads: 'master',
      })
    : new Redis(r.url, common);
  // Without a listener ioredis prints every reconnect failure; the cache layer counts them.
  client.on('error', () => undefined);
  return client;
}

/**
 * A second connection for SUBSCRIBE, with the client's settings except two: it queues commands
 * until connected (a SUBSCRIBE sent before the connection is ready, or after a reconnect, must
 * wait rather than fail) and has no command timeout (ioredis re-subscribes after a reconnect
 * without catching; a timeout there becomes an unhandled rejection). For a Cluster both must be
 * overridden at the cluster level too: `cluster.duplicate(undefined, { redisOptions })` keeps
 * the cluster's `enableOfflineQueue: false`, and its SUBSCRIBE fails with "Cluster isn't ready".
 */
export function createSubscriber(client: RedisClient): RedisClient {
  const subscriber =
    client instanceof Cluster
      ? client.duplicate(undefined, {
          enableOfflineQueue: true,
          redisOptions: { ...client.options.redisOptions, commandTimeout: undefined },
        })
      : client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
  subscriber.on('error', () => undefined);
  return subscriber;
}

/** Resolves when the client is ready (a Cluster: slots known, cluster_state:ok), or rejects after `timeoutMs`. */
export function waitForRedis(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * A function naming, for a key (before the client's prefix), the group of keys one pipeline may
 * carry: ioredis refuses a Cluster pipeline whose keys are served by different nodes ("All keys
 * in the pipeline should belong to the same slots allocation group"). One Redis: one group.
 * Read the slot map when the pipelines are built and send them in the same tick.
 */
export function pipelineGroupOf(client: RedisClient): (key: string) => string {
  if (!(client instanceof Cluster)) return () => '';
  const prefix = client.options.keyPrefix ?? '';
  return (key) => {
    const slot = keySlot(prefix + key);
    // ioredis's own grouping: the slot's node keys (master first, then replicas).
    return client.slots[slot]?.join(';') ?? `unmapped slot ${slot}`;
  };
}

/** CRC16/XMODEM (polynomial 0x1021), one entry per byte value. */
const CRC16 = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

/**
 * The Redis Cluster hash slot of a key (CRC16/XMODEM of its UTF-8 bytes mod 16384, or of its
 * hash tag: the bytes between the first `{` and the next `}`, when not empty), as
 * `CLUSTER KEYSLOT` computes it.
 */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}
