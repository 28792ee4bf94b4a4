/**
 * Apollo's KeyValueCache over the process's ioredis client, for automatic persisted queries.
 * Written by hand because the ecosystem's adapter (@apollo/utils.keyvadapter + keyv +
 * @keyv/redis) drags in keyv 5/6 (Node ≥ 22) for three one-line methods; and because a cache
 * must fail open: a Redis error is a miss, never a failed request.
 *
 * **Keys, and why they are cluster-safe**: `<prefix><key>` under REDIS_KEY_PREFIX (APQ:
 * `apq:` + Apollo's key for the query's SHA-256), one string per entry, and only single-key
 * commands (GET, SET … EX, DEL) — each lands on the slot of its own key, so a Redis Cluster
 * needs no hash tag and the entries spread over every master. Nothing here may become
 * multi-key (MGET, a MULTI over several entries) without a shared hash tag.
 */
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisClient } from '../platform/redis/client.js';

export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly onBypass: () => void,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch {
      this.onBypass();
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    try {
      if (options?.ttl)
        await this.redis.set(this.prefix + key, value, 'EX', Math.ceil(options.ttl));
      else await this.redis.set(this.prefix + key, value);
    } catch {
      this.onBypass();
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.redis.del(this.prefix + key)) > 0;
    } catch {
      this.onBypass();
      return false;
    }
  }
}
