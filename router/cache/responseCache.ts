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
 * - **Freshness** (docs/caching.md): each entry records the versions of the entity tags its
 *   fetches read (subgraphs/kit/cassandra/entityTags.ts), plus each entity's type, `*` and the
 *   answering subgraphs' authorization policies, as they stood *before* the execution read
 *   anything (tagVersions.ts); it is stored only if none moved meanwhile, and served only while
 *   they are still current. A purge bumps versions; nothing has to find and delete entries.
 * - **Layers**: Redis (shared, validated against the versions on every hit) and an in-process
 *   layer (the hottest entries, no round trip), dropped by tag the moment this instance purges
 *   or hears another instance's purge, and used only while that channel is heard without gaps.
 * - **Fail-safe**: while Redis is not ready, nothing is read from or written to either layer
 *   and requests run uncached; a purge Redis did not confirm keeps its tags out of both layers
 *   here until a retry lands.
 */
import { LRUCache } from 'lru-cache';
import type { Identity } from '../../platform/contract/identity.js';
import type { RedisClient } from '../../platform/redis/client.js';
import type { RouterMetrics } from '../metrics.js';
import { entryKey, type CachePolicy } from './keys.js';
import { LOCAL_TTL_CAP_MS, LocalLayer, type CachedResponse } from './localLayer.js';
import { Flights, type Flight } from './flights.js';
import type { RecordedVersions, TagVersions, VersionSnapshot } from './tagVersions.js';
/** A leader's answer as its followers may take it (ResponseCache.shareAnswer). */
export interface SharedAnswer {
  readonly response: CachedResponse;
  /** The versions known before the leader's fetches. */
  readonly snapshot: VersionSnapshot;
}

/** How long an execution counts toward admission (RESPONSE_CACHE_MIN_USES). */
const MIN_USES_WINDOW_MS = 600_000;

export class ResponseCache {
  private readonly local: LocalLayer;
  private readonly policies = new LRUCache<string, CachePolicy | 'none'>({
    max: 50_000,
    ttl: 600_000,
  });
  /** The executions running per flight key, which concurrent misses wait for (flights.ts). */
  readonly flights: Flights;
  /** Executions so far of keys not yet stored (for admission); ~100 bytes a key. */
  private readonly uses = new LRUCache<string, number>({ max: 50_000, ttl: MIN_USES_WINDOW_MS });
  private readonly minUses: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly versions: TagVersions,
    private readonly metrics: RouterMetrics,
    options: { localMaxBytes?: number; minUses?: number } = {},
  ) {
    this.minUses = options.minUses ?? 2;
    this.flights = new Flights(versions);
    // 32 MB: the local layer only spares the hottest entries a Redis round trip (each copy
    // lives at most LOCAL_TTL_CAP_MS). At 64 MB, the partner-batch benchmark (every response
    // distinct, so the layer fills and never hits) peaked at 430-532 MB RSS.
    this.local = new LocalLayer(options.localMaxBytes ?? 32 * 1024 * 1024, metrics);
    versions.onLocalInvalidation((what) => this.local.purge(what));
  }

  /** True when Redis is usable; otherwise the caller runs the request uncached. */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  /** Whether this process knows the request's policy (so keyFor needs no Redis round trip). */
  knowsPolicy(requestHash: string): boolean {
    return this.policies.has(requestHash);
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
    // An in-process copy, once every purge Redis holds was heard here (tagVersions.ts).
    if (
      this.versions.localUsable &&
      this.local.has(key) &&
      (await this.versions.heardAllPurges())
    ) {
      const local = this.local.get(key);
      if (local) return local;
    }
    const mark = this.versions.mark;
    const stored = await this.redis.getBuffer(`resp:${key}`);
    if (!stored) return undefined;
    const entry = decodeEntry(stored);
    if (!entry || !(await this.versions.isCurrent(entry.recorded))) {
      this.metrics.cacheOutdated.inc();
      // Outdated for good (versions only move forward): gone before its TTL, best effort.
      this.redis.del(`resp:${key}`).catch(() => undefined);
      return undefined;
    }
    const { tags } = entry.recorded;
    if (this.versions.localUsable && this.versions.untouchedSince(mark, tags))
      this.local.set(key, entry.response, tags, LOCAL_TTL_CAP_MS / 1000);
    return entry.response;
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
    /** The versions as known before the execution's fetches (TagVersions.snapshot). */
    snapshot: VersionSnapshot | undefined,
    /** The execution's flight, if it led one (its followers count as uses). */
    flight?: Flight,
  ): Promise<void> {
    const key = entryKey(requestHash, identity, policy.scope, restricted);
    // Callers waiting on this execution (singleFlight) are uses too: concurrent demand is the
    // clearest sign of reuse, and they look for the stored entry next.
    const waiting = flight?.followers ?? 0;
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
    // The policy first: even a refused entry tells the next request where to look.
    if (this.policies.get(requestHash) === undefined) {
      this.policies.set(requestHash, policy);
      await this.redis.set(`policy:${requestHash}`, JSON.stringify(policy), 'EX', 3600);
    }
    const tags = tagsOfEntry(readTags);
    const recorded = await this.versions.recordFor(tags, snapshot);
    if (!recorded) {
      // Something it read was purged since the execution began: its body may predate the write.
      this.metrics.cacheStoresRefused.inc();
      return;
    }
    const entry: CachedResponse = {
      body: Buffer.from(response.body, 'utf8'),
      contentType: response.contentType,
    };
    // Single-key writes: nothing here needs atomicity (a hit re-checks the versions anyway),
    // and on a Redis Cluster the keys live in different slots.
    await this.redis.set(`resp:${key}`, encodeEntry(entry, recorded), 'EX', policy.maxAge);
    if (this.versions.localUsable && this.versions.untouchedSince(snapshot!.mark, tags))
      this.local.set(key, entry, tags, policy.maxAge);
    this.metrics.cacheStores.inc();
    this.metrics.cacheEntries.set(this.local.size);
  }

  /**
   * The leader's answer, offered to the followers of its flight (set before its store, which a
   * write landing meanwhile refuses): each decides whether it may take it (singleFlight.ts).
   */
  shareAnswer(flight: Flight, answer: () => SharedAnswer): void {
    if (flight.followers > 0) flight.answer = answer();
  }

  async close(): Promise<void> {
    this.local.purge('all');
  }
}

/** Every tag an entry depends on: what it read, the types of those, and `*` (everything). */
function tagsOfEntry(readTags: ReadonlySet<string>): string[] {
  const types = new Set<string>();
  for (const tag of readTags) {
    const colon = tag.indexOf(':');
    if (colon > 0 && !tag.startsWith('policy:')) types.add(`type:${tag.slice(0, colon)}`);
  }
  return ['*', ...readTags, ...types];
}

/**
 * An entry as stored: `<content type>\n<recorded versions as JSON>\n<body>`. The versions
 * travel with the body, so whichever instance reads it can check them.
 */
function encodeEntry(entry: CachedResponse, recorded: RecordedVersions): Buffer {
  const header = JSON.stringify({ e: recorded.epoch, t: recorded.tags, v: recorded.versions });
  return Buffer.concat([Buffer.from(`${entry.contentType}\n${header}\n`, 'utf8'), entry.body]);
}

function decodeEntry(
  stored: Buffer,
): { response: CachedResponse; recorded: RecordedVersions } | undefined {
  const first = stored.indexOf(0x0a);
  const second = first < 0 ? -1 : stored.indexOf(0x0a, first + 1);
  if (second < 0) return undefined;
  try {
    const header = JSON.parse(stored.subarray(first + 1, second).toString('utf8')) as {
      e: string;
      t: string[];
      v: number[];
    };
    return {
      response: {
        contentType: stored.subarray(0, first).toString('latin1'),
        body: stored.subarray(second + 1),
      },
      recorded: { epoch: header.e, tags: header.t, versions: header.v },
    };
  } catch {
    return undefined;
  }
}
