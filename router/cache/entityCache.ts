/**
 * The router's entity cache: the results of `_entities` fetches, one entry per entity, in Redis
 * with an in-process layer in front — below the response cache, so that a response that cannot
 * be served whole (a dashboard whose robots move every second) still spares the subgraphs the
 * entities that did not change (its operators, their session counts).
 *
 * @remarks
 * - **Key** = SHA-256 of the fetch's *shape* (subgraph, the fetch's operation text and its
 *   variables other than the representations), the caller's scope key under the entry's scope
 *   (keys.ts: organization and roles/scopes for PUBLIC, also the user or API key for PRIVATE)
 *   and the representation. A lookup asks for both scopes; the PRIVATE entry is the caller's own.
 * - **Policy**: the subgraph's Cache-Control for the fetch that produced the entry (its
 *   `@cacheControl` hints); maxAge 0 or none: not stored.
 * - **Freshness**: exactly the response cache's versioned tags (tagVersions.ts, docs/caching.md).
 *   A subgraph reports a fetch's read tags as a whole, not per entity, so each entity of a fetch
 *   is stored with *all* the fetch's read tags (conservative: a write to one operator drops the
 *   session counts fetched with it), plus their `type:` tags, `*` and `policy:<subgraph>`; it is
 *   stored only if none moved past the snapshot taken before the fetch, and served only while
 *   the recorded versions are current.
 * - **Fail-safe**: Redis not ready, slow or failing: every lookup is a miss, nothing is stored.
 */
import { LRUCache } from 'lru-cache';
import type { Identity } from '../../platform/contract/identity.js';
import type { RedisClient } from '../../platform/redis/client.js';
import type { RouterMetrics } from '../metrics.js';
import { scopeKey, sha256, type CachePolicy } from './keys.js';
import { LOCAL_TTL_CAP_MS, LocalLayer } from './localLayer.js';
import type { RecordedVersions, TagVersions, VersionSnapshot } from './tagVersions.js';

/** One entity as cached: its result, what it read, and its policy. */
export interface CachedEntity {
  readonly entity: unknown;
  /** The fetch's read tags as the subgraph reported them (and its `policy:` tag). */
  readonly reads: readonly string[];
  readonly scope: CachePolicy['scope'];
  /** When the entry expires (ms since the epoch): a hit's remaining maxAge. */
  readonly expiresAt: number;
}

/** Who asks: the part of the key that decides who may share an entry. */
export interface EntityCaller {
  readonly identity: Identity;
  readonly restricted: boolean;
}

interface StoredEntity {
  readonly d: unknown;
  readonly r: readonly string[];
  readonly s: CachePolicy['scope'];
  readonly x: number;
  readonly e?: string;
  readonly t?: readonly string[];
  readonly v?: readonly number[];
}

/** How long a fetch shape found uncacheable skips the cache before it is tried again. */
export const UNCACHEABLE_RETRY_MS = 60_000;

export class EntityCache {
  private readonly local: LocalLayer;

  constructor(
    private readonly redis: RedisClient,
    private readonly versions: TagVersions,
    metrics: RouterMetrics,
    options: { localMaxBytes?: number } = {},
  ) {
    this.local = new LocalLayer(options.localMaxBytes ?? 16 * 1024 * 1024, {
      cacheEntries: metrics.entityCacheLocalEntries,
    });
    versions.onLocalInvalidation((what) => this.local.purge(what));
  }

  /** True when Redis is usable; otherwise fetches go to the subgraph whole. */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Fetch shapes (subgraph + fetch text) whose last answer carried no cacheable policy. Their
   * lookups could only miss — at two Redis reads and a hash per representation, which made
   * the router-bound benchmark's uncacheable fetches 4× as costly — so they go straight to
   * the subgraph until the memo expires and the shape is tried again. Bypassing a cache is
   * always correct; this only decides when trying it is worth it.
   */
  private readonly uncacheable = new LRUCache<string, true>({
    max: 10_000,
    ttl: UNCACHEABLE_RETRY_MS,
  });

  isKnownUncacheable(subgraph: string, query: string): boolean {
    return this.uncacheable.has(`${subgraph}\n${query}`);
  }

  rememberUncacheable(subgraph: string, query: string): void {
    this.uncacheable.set(`${subgraph}\n${query}`, true);
  }

  /** A shape answered with a cacheable policy again (e.g. its SDL changed): cache it again. */
  forgetUncacheable(subgraph: string, query: string): void {
    this.uncacheable.delete(`${subgraph}\n${query}`);
  }

  /** Taken before a fetch's lookups (TagVersions.snapshot): what its misses are stored under. */
  snapshot(): VersionSnapshot | undefined {
    return this.versions.snapshot();
  }

  /** The shape of a fetch: what, besides the representation and the caller, decides its result. */
  shapeOf(subgraph: string, query: string, variables: Record<string, unknown>): string {
    const others = Object.entries(variables).filter(([name]) => name !== 'representations');
    return sha256(`${subgraph}\n${query}\n${JSON.stringify(others)}`);
  }

  keyOf(shape: string, caller: EntityCaller, scope: CachePolicy['scope'], rep: string): string {
    return sha256(`${shape}|${scopeKey(caller.identity, scope, caller.restricted)}|${rep}`);
  }

  /**
   * The current entry of each representation (its PRIVATE entry for this caller first, then
   * the PUBLIC one), or undefined. Throws when Redis fails: the caller fetches everything.
   */
  async lookup(
    shape: string,
    caller: EntityCaller,
    reps: readonly string[],
  ): Promise<(CachedEntity | undefined)[]> {
    return Promise.all(
      reps.map(async (rep) => {
        for (const scope of ['PRIVATE', 'PUBLIC'] as const) {
          const found = await this.get(this.keyOf(shape, caller, scope, rep));
          if (found) return found;
        }
        return undefined;
      }),
    );
  }

  /**
   * Stores the entities of one fetch under the versions of the fetch's read tags, if none
   * moved since `snapshot`; returns how many were stored (0 when refused).
   */
  async store(
    shape: string,
    caller: EntityCaller,
    policy: CachePolicy,
    entities: readonly { readonly rep: string; readonly entity: unknown }[],
    reads: readonly string[],
    snapshot: VersionSnapshot | undefined,
  ): Promise<number> {
    if (entities.length === 0 || policy.maxAge <= 0) return 0;
    const tags = tagsOfEntry(reads);
    const recorded = await this.versions.recordFor(tags, snapshot);
    if (!recorded) return 0;
    const expiresAt = Date.now() + policy.maxAge * 1000;
    await Promise.all(
      entities.map(async ({ rep, entity }) => {
        const key = this.keyOf(shape, caller, policy.scope, rep);
        const cached: CachedEntity = { entity, reads, scope: policy.scope, expiresAt };
        await this.redis.set(`ent:${key}`, encode(cached, recorded), 'EX', policy.maxAge);
        if (this.versions.localUsable && this.versions.untouchedSince(snapshot!.mark, tags))
          this.setLocal(key, cached, tags);
      }),
    );
    return entities.length;
  }

  private async get(key: string): Promise<CachedEntity | undefined> {
    if (this.versions.localUsable) {
      const local = this.local.get(key);
      if (local) return decode(local.body)?.cached;
    }
    const mark = this.versions.mark;
    const stored = await this.redis.getBuffer(`ent:${key}`);
    if (!stored) return undefined;
    const entry = decode(stored);
    if (!entry?.recorded || !(await this.versions.isCurrent(entry.recorded))) {
      // Outdated for good (versions only move forward): gone before its TTL, best effort.
      this.redis.del(`ent:${key}`).catch(() => undefined);
      return undefined;
    }
    const { tags } = entry.recorded;
    if (this.versions.localUsable && this.versions.untouchedSince(mark, tags))
      this.setLocal(key, entry.cached, tags);
    return entry.cached;
  }

  private setLocal(key: string, cached: CachedEntity, tags: readonly string[]): void {
    const ttl = Math.min((cached.expiresAt - Date.now()) / 1000, LOCAL_TTL_CAP_MS / 1000);
    if (ttl <= 0) return;
    this.local.set(key, { body: encode(cached), contentType: '' }, tags, ttl);
  }
}

/** Every tag an entity depends on: what its fetch read, the types of those, and `*`. */
function tagsOfEntry(reads: readonly string[]): string[] {
  const types = new Set<string>();
  for (const tag of reads) {
    const colon = tag.indexOf(':');
    if (colon > 0 && !tag.startsWith('policy:')) types.add(`type:${tag.slice(0, colon)}`);
  }
  return ['*', ...new Set(reads), ...types];
}

function encode(cached: CachedEntity, recorded?: RecordedVersions): Buffer {
  const stored: StoredEntity = {
    d: cached.entity,
    r: cached.reads,
    s: cached.scope,
    x: cached.expiresAt,
    ...(recorded ? { e: recorded.epoch, t: recorded.tags, v: recorded.versions } : {}),
  };
  return Buffer.from(JSON.stringify(stored), 'utf8');
}

function decode(
  buffer: Buffer,
): { cached: CachedEntity; recorded: RecordedVersions | undefined } | undefined {
  try {
    const stored = JSON.parse(buffer.toString('utf8')) as StoredEntity;
    return {
      cached: { entity: stored.d, reads: stored.r, scope: stored.s, expiresAt: stored.x },
      recorded:
        stored.e && stored.t && stored.v
          ? { epoch: stored.e, tags: stored.t, versions: stored.v }
          : undefined,
    };
  } catch {
    return undefined;
  }
}
