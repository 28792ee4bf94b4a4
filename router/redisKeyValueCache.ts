/**
 * Apollo's KeyValueCache over the process's ioredis client, for automatic persisted queries.
 * Written by hand because the ecosystem's adapter (@apollo/utils.keyvadapter + keyv +
 * @keyv/redis) drags in keyv 5/6 (Node ≥ 22) for three one-line methods; and because a cache
 * must fail open: a Redis error is a miss, never a failed request.
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
