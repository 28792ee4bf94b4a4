/**
 * The process's Redis connection (ioredis), configured to fail fast rather than wait.
 *
 * @remarks
 * Redis is a cache here: a slow or dead Redis must never fail or stall a request. So commands
 * time out after REDIS_COMMAND_TIMEOUT_MS, nothing is queued while disconnected
 * (`enableOfflineQueue: false` makes a command fail at once), and the client keeps reconnecting
 * in the background with a capped backoff so caching resumes by itself when Redis returns.
 * Callers treat any Redis error as a cache miss (see the cache modules).
 */
import { Redis, Cluster } from 'ioredis';
import type { RedisSettings } from '../config/load.js';

export type RedisClient = Redis | Cluster;

export function createRedis(
  config: { readonly redis: RedisSettings },
  options: { lazy?: boolean } = {},
): RedisClient {
  const r = config.redis;
  const common = {
    keyPrefix: r.keyPrefix,
    commandTimeout: r.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: options.lazy ?? false,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
  };
  const client: RedisClient = r.clusterNodes
    ? new Cluster([...r.clusterNodes], { redisOptions: common, enableOfflineQueue: false })
    : new Redis(r.url, common);
  // Without a listener ioredis prints every reconnect failure; the cache layer counts them.
  client.on('error', () => undefined);
  return client;
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
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
