/**
 * The router's response cache: whole GraphQL responses in Redis, with a small in-process layer
 * in front, keyed so that it is never stale and never leaks.
 *
 * @remarks
 * Why not @apollo/server-plugin-response-cache: its hit path runs inside Apollo Server's
 * request pipeline (after parsing and validation — a hit measured 11% of a bare Node server),
 * and it has no entity index, so the only invalidation is TTL. This cache answers before the
 * body is even parsed, and purges by entity.
 *
 * - **Key** = SHA-256 of (the request bytes — query, variables, operation name — plus the
 *   Accept header) and of the caller's *scope key*: for PUBLIC data the organization and the
 *   roles/scopes (authorization decides visibility by those), for PRIVATE data also the user or
 *   API key. The scope comes from the operation's cache policy, learned on its first execution
 *   and remembered per request hash (a PRIVATE policy is never looked up under a PUBLIC key).
 * - **Policy** is the gateway's overall cache policy, computed from the subgraphs'
 *   `@cacheControl` hints (Cache-Control headers on each fetch). Only queries without errors
 *   and with maxAge > 0 are stored.
 * - **Admission** (decision): an entry is stored on its RESPONSE_CACHE_MIN_USES-th execution
 *   within {@link MIN_USES_WINDOW_MS} (default 2, "cache on second use", as nginx's
 *   proxy_cache_min_uses and the doorkeeper of TinyLFU). Responses asked for once — a partner's
 *   lookup of 100 random ids — otherwise each cost a Redis MULTI of hundreds of tag commands
 *   and a place in the local layer, and never hit: with every response stored, the
 *   partner-batch benchmark ran at 0.76× the cache-off router with 0% hits and peaked at
 *   528 MB RSS. The price: a shared response is computed twice before it is served from cache.
 * - **Entity tags**: each entry is indexed under the entities its subgraph fetches read
 *   (subgraphs/kit/cassandra/entityTags.ts) plus each entity's type and `*`. A tag set expires
 *   no earlier than the entries it points to, so the index is bounded by the entries' TTLs.
 * - **Invalidation**: a mutation's write tags purge every entry indexed under them, in Redis
 *   and locally, before the mutation's response is sent; other router instances hear it on a
 *   pub/sub channel and drop their local copies.
 * - **Fail-open**: while Redis is not ready, nothing is read from or written to either layer
 *   (a local copy could miss another instance's purge) and requests run uncached.
 */
import { Redis, type Cluster } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../../platform/contract/identity.js';
import type { RedisClient } from '../../platform/redis/client.js';
import type { RouterMetrics } from '../metrics.js';
import { entryKey, type CachePolicy } from './keys.js';
import { LocalLayer, type CachedResponse } from './localLayer.js';

const INVALIDATION_CHANNEL = 'cache-invalidation';
/** How long an execution counts toward admission (RESPONSE_CACHE_MIN_USES). */
const MIN_USES_WINDOW_MS = 600_000;

export class ResponseCache {
  private readonly local: LocalLayer;
  private readonly policies = new LRUCache<string, CachePolicy | 'none'>({
    max: 50_000,
    ttl: 600_000,
  });
  private readonly inflight = new Map<string, { done: Promise<void>; followers: number }>();
  /** Executions so far of keys not yet stored (for admission); ~100 bytes a key. */
  private readonly uses = new LRUCache<string, number>({ max: 50_000, ttl: MIN_USES_WINDOW_MS });
  private readonly minUses: number;
  private subscriber: RedisClient | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly metrics: RouterMetrics,
    options: { localMaxBytes?: number; minUses?: number } = {},
  ) {
    this.minUses = options.minUses ?? 2;
    // 32 MB: the local layer only spares the hottest entries a Redis round trip (each copy
    // lives at most LOCAL_TTL_CAP_MS). At 64 MB, the partner-batch benchmark (every response
    // distinct, so the layer fills and never hits) peaked at 430-532 MB RSS.
    this.local = new LocalLayer(options.localMaxBytes ?? 32 * 1024 * 1024, metrics);
    this.listenForInvalidations();
  }

  /** True when Redis is usable; otherwise the caller runs the request uncached. */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  /** The cache key of a request for one caller, or undefined while its policy is unknown. */
  async keyFor(
    requestHash: string,
    identity: Identity,
    restricted: boolean,
  ): Promise<string | undefined> {
    let policy = this.policies.get(requestHash);
    if (policy === undefined) {
      const remembered = await this.redis.get(`policy:${requestHash}`);
      if (!remembered) return undefined;
      policy = remembered === 'none' ? 'none' : (JSON.parse(remembered) as CachePolicy);
      this.policies.set(requestHash, policy);
    }
    if (policy === 'none') return undefined;
    return entryKey(requestHash, identity, policy.scope, restricted);
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const local = this.local.get(key);
    if (local) return local;
    const stored = await this.redis.getBuffer(`resp:${key}`);
    if (!stored) return undefined;
    const newline = stored.indexOf(0x0a);
    return this.local.keepCopy(
      key,
      stored.subarray(0, newline).toString('latin1'),
      stored.subarray(newline + 1),
    );
  }

  /** Remembers that a request is not cacheable, so later requests skip the lookup. */
  async rememberUncacheable(requestHash: string): Promise<void> {
    this.policies.set(requestHash, 'none');
    await this.redis.set(`policy:${requestHash}`, 'none', 'EX', 60);
  }

  async store(
    requestHash: string,
    identity: Identity,
    restricted: boolean,
    policy: CachePolicy,
    /** The body as executed; encoded to a Buffer only once the entry is admitted. */
    response: { readonly body: string; readonly contentType: string },
    readTags: ReadonlySet<string>,
    flightKey?: string,
  ): Promise<void> {
    const key = entryKey(requestHash, identity, policy.scope, restricted);
    // Callers waiting on this execution (singleFlight) are uses too: concurrent demand is the
    // clearest sign of reuse, and they look for the stored entry next.
    const waiting = flightKey ? (this.inflight.get(flightKey)?.followers ?? 0) : 0;
    const uses = (this.uses.get(key) ?? 0) + 1 + waiting;
    if (uses < this.minUses) {
      // Not admitted yet; the policy is remembered so the next use finds the key.
      this.uses.set(key, uses);
      if (this.policies.get(requestHash) === undefined) {
        this.policies.set(requestHash, policy);
        await this.redis.set(`policy:${requestHash}`, JSON.stringify(policy), 'EX', 3600);
      }
      this.metrics.cacheAdmissionsDeferred.inc();
      return;
    }
    this.uses.delete(key);
    const entry: CachedResponse = {
      body: Buffer.from(response.body, 'utf8'),
      contentType: response.contentType,
    };
    const ttl = policy.maxAge;
    const tags = [
      '*',
      ...readTags,
      ...new Set([...readTags].map((tag) => `type:${tag.slice(0, tag.indexOf(':'))}`)),
    ];
    const multi = this.redis.multi();
    multi.set(`policy:${requestHash}`, JSON.stringify(policy), 'EX', 3600);
    multi.set(
      `resp:${key}`,
      Buffer.concat([Buffer.from(`${entry.contentType}\n`, 'latin1'), entry.body]),
      'EX',
      ttl,
    );
    for (const tag of tags) {
      multi.sadd(`tag:${tag}`, key);
      // The tag set lives as long as its longest-lived entry, and no longer.
      multi.expire(`tag:${tag}`, ttl, 'NX');
      multi.expire(`tag:${tag}`, ttl, 'GT');
    }
    await multi.exec();
    this.policies.set(requestHash, policy);
    this.local.set(key, entry, tags, ttl);
    this.metrics.cacheStores.inc();
    this.metrics.cacheEntries.set(this.local.size);
  }

  /**
   * Purges every entry indexed under any of `tags` (entity tags `Type:id`, type tags
   * `type:Type`, or `*` for everything). Returns how many Redis entries were removed.
   */
  async purge(tags: Iterable<string>): Promise<number> {
    const list = [...tags];
    if (list.length === 0) return 0;
    this.local.purge(list);
    const members = await this.redis.multi(list.map((tag) => ['smembers', `tag:${tag}`])).exec();
    const keys = new Set<string>();
    for (const [, value] of members ?? [])
      for (const key of (value as string[]) ?? []) keys.add(key);
    const deletion = this.redis.multi();
    for (const key of keys) deletion.del(`resp:${key}`);
    for (const tag of list) deletion.del(`tag:${tag}`);
    deletion.publish(INVALIDATION_CHANNEL, JSON.stringify(list));
    await deletion.exec();
    this.metrics.cacheInvalidations.inc(keys.size);
    return keys.size;
  }

  /**
   * Stampede protection: concurrent misses for one key wait for the first to finish, then
   * look again. `compute` runs once per key at a time in this process.
   */
  async singleFlight(
    flightKey: string,
    compute: () => Promise<void>,
  ): Promise<'leader' | 'follower'> {
    const running = this.inflight.get(flightKey);
    if (running) {
      running.followers += 1;
      await running.done.catch(() => undefined);
      return 'follower';
    }
    const flight = { done: compute().finally(() => this.inflight.delete(flightKey)), followers: 0 };
    this.inflight.set(flightKey, flight);
    await flight.done;
    return 'leader';
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }

  private listenForInvalidations(): void {
    // Subscribing needs its own connection; it may queue commands while reconnecting, and it
    // has no command timeout: after a reconnect ioredis re-subscribes by itself without
    // catching, so with the shared 100 ms timeout a busy event loop turned a Redis restart
    // into an unhandled rejection that crashed the router (found by the soak, test/soak/).
    const subscriber =
      this.redis instanceof Redis
        ? this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined })
        : (this.redis as Cluster).duplicate(undefined, {
            redisOptions: {
              ...(this.redis as Cluster).options.redisOptions,
              commandTimeout: undefined,
            },
          });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      try {
        this.local.purge(JSON.parse(message) as string[]);
      } catch {
        // A malformed message cannot be acted on; entries still expire on their own.
      }
    });
    subscriber.subscribe(INVALIDATION_CHANNEL).catch(() => undefined);
    this.subscriber = subscriber;
  }
}
