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
 * - **Admission** (decision, as the response cache's RESPONSE_CACHE_MIN_USES = 2): an entity is
 *   looked up in Redis and stored only from the second time this process is asked for it
 *   (same fetch shape, same PUBLIC scope group, same representation) within
 *   {@link SEEN_WINDOW_MS}. The first sight costs a hash and an LRU entry, no Redis command: the
 *   router-bound benchmark, whose hundreds of entities per fetch are never asked for again, ran
 *   at 0.41–0.47× the bare gateway when every one of them was looked up and stored. Skipping a
 *   lookup is always correct (a miss), and an entity another instance stored is found on this
 *   instance's second sight.
 * - **Round trips**: the lookups of one fetch are one pipeline per Redis node (a scope's key for
 *   each representation), their version check one HMGET over the union of their tags, the
 *   stores one pipeline per node; the scope a shape's entries were stored under is remembered,
 *   so a lookup asks for one key per representation once it is known.
 * - **Fail-safe**: Redis not ready, slow or failing: every lookup is a miss, nothing is stored.
 */
import { LRUCache } from 'lru-cache';
import type { Identity } from '../../platform/contract/identity.js';
import type { RedisClient } from '../../platform/redis/client.js';
import { inPipelinesPerNode } from '../../platform/redis/pipelines.js';
import type { RouterMetrics } from '../metrics.js';
import { scopeKey, sha256, type CachePolicy } from './keys.js';
import { LOCAL_TTL_CAP_MS, LocalLayer } from './localLayer.js';
import { decode, encode, type DecodedEntity } from './entityEncoding.js';
import type { TagVersions, VersionSnapshot } from './tagVersions.js';

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

/** How long a fetch shape found uncacheable skips the cache before it is tried again. */
export const UNCACHEABLE_RETRY_MS = 60_000;

/** How long a first sight counts toward admission (see Admission above). */
export const SEEN_WINDOW_MS = 600_000;

type Scope = CachePolicy['scope'];

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
   * the PUBLIC one), or undefined: also for a representation seen here for the first time,
   * which is not looked up (Admission). Throws when Redis fails: the caller fetches everything.
   */
  async lookup(
    shape: string,
    caller: EntityCaller,
    reps: readonly string[],
  ): Promise<(CachedEntity | undefined)[]> {
    const results: (CachedEntity | undefined)[] = new Array<undefined>(reps.length);
    const knownScope = this.scopeOfShape.get(shape);
    const scopes: readonly Scope[] = knownScope ? [knownScope] : ['PRIVATE', 'PUBLIC'];
    const wanted: { at: number; keys: string[] }[] = [];
    reps.forEach((rep, at) => {
      if (this.sightedBefore(shape, caller, rep))
        wanted.push({ at, keys: scopes.map((scope) => this.keyOf(shape, caller, scope, rep)) });
    });
    // In-process copies, once every purge Redis holds was heard here (tagVersions.ts).
    const localUsable =
      this.versions.localUsable &&
      wanted.some(({ keys }) => keys.some((key) => this.local.has(key))) &&
      (await this.versions.heardAllPurges());
    // Per representation still to ask Redis: its keys, in the order of `scopes`.
    const pending: { at: number; keys: string[] }[] = [];
    wanted.forEach(({ at, keys }) => {
      if (localUsable) {
        for (const key of keys) {
          const local = this.local.get(key);
          if (local) return void (results[at] = decode(local.body)?.cached);
        }
      }
      pending.push({ at, keys });
    });
    if (pending.length === 0) return results;
    const mark = this.versions.mark;
    const stored = await this.getAll(pending.flatMap(({ keys }) => keys));
    const candidates: { at: number; key: string; entry: DecodedEntity }[] = [];
    let next = 0;
    for (const { at, keys } of pending) {
      let chosen: { key: string; entry: DecodedEntity } | undefined;
      for (const key of keys) {
        const buffer = stored[next++];
        const entry = buffer ? decode(buffer) : undefined;
        if (!chosen && entry) chosen = { key, entry };
      }
      if (chosen) candidates.push({ at, ...chosen });
    }
    const current = await this.versions.areCurrent(candidates.map((c) => c.entry.recorded));
    candidates.forEach(({ at, key, entry }, i) => {
      if (!current[i]) {
        // Outdated for good (versions only move forward): gone before its TTL, best effort.
        this.redis.del(`ent:${key}`).catch(() => undefined);
        return;
      }
      results[at] = entry.cached;
      const tags = entry.recorded!.tags;
      if (this.versions.localUsable && this.versions.untouchedSince(mark, tags))
        this.setLocal(key, entry.cached, tags);
    });
    return results;
  }

  /**
   * Stores the entities of one fetch that were asked for before (Admission) under the
   * versions of the fetch's read tags, if none moved since `snapshot`; returns how many were
   * stored (0 when refused).
   */
  async store(
    shape: string,
    caller: EntityCaller,
    policy: CachePolicy,
    entities: readonly { readonly rep: string; readonly entity: unknown }[],
    reads: readonly string[],
    snapshot: VersionSnapshot | undefined,
  ): Promise<number> {
    if (policy.maxAge <= 0) return 0;
    this.scopeOfShape.set(shape, policy.scope);
    const admitted = entities.filter(({ rep }) => this.askedTwice(shape, caller, rep));
    if (admitted.length === 0) return 0;
    const tags = tagsOfEntry(reads);
    const recorded = await this.versions.recordFor(tags, snapshot);
    if (!recorded) return 0;
    const expiresAt = Date.now() + policy.maxAge * 1000;
    const keepLocal =
      this.versions.localUsable && this.versions.untouchedSince(snapshot!.mark, tags);
    const writes = admitted.map(({ rep, entity }) => {
      const key = this.keyOf(shape, caller, policy.scope, rep);
      const cached: CachedEntity = { entity, reads, scope: policy.scope, expiresAt };
      if (keepLocal) this.setLocal(key, cached, tags);
      return { key: `ent:${key}`, value: encode(cached, recorded) };
    });
    await inPipelinesPerNode(this.redis, writes, (pipeline, { key, value }) =>
      pipeline.set(key, value, 'EX', policy.maxAge),
    );
    return admitted.length;
  }

  /** The scope each fetch shape's entries were last stored under: one key per lookup. */
  private readonly scopeOfShape = new LRUCache<string, Scope>({ max: 10_000 });

  /** Sightings per (shape, PUBLIC scope group, representation): the admission doorkeeper. */
  private readonly sightings = new LRUCache<string, number>({ max: 200_000, ttl: SEEN_WINDOW_MS });

  private sightingKey(shape: string, caller: EntityCaller, rep: string): string {
    return `${shape}|${scopeKey(caller.identity, 'PUBLIC', caller.restricted)}|${rep}`;
  }

  /** Counts a sighting; true when this one is not the first. */
  private sightedBefore(shape: string, caller: EntityCaller, rep: string): boolean {
    const key = this.sightingKey(shape, caller, rep);
    const seen = this.sightings.get(key) ?? 0;
    this.sightings.set(key, seen + 1);
    return seen > 0;
  }

  private askedTwice(shape: string, caller: EntityCaller, rep: string): boolean {
    return (this.sightings.get(this.sightingKey(shape, caller, rep)) ?? 0) >= 2;
  }

  /** GETs of many keys: one pipeline per node, all at once; replies in the keys' order. */
  private async getAll(keys: readonly string[]): Promise<(Buffer | null)[]> {
    const replies: (Buffer | null)[] = new Array<null>(keys.length).fill(null);
    await inPipelinesPerNode(
      this.redis,
      keys.map((key, at) => ({ key: `ent:${key}`, at })),
      (pipeline, { key }) => pipeline.getBuffer(key),
      (entry, reply) => {
        if (reply[0]) throw reply[0];
        replies[entry.at] = reply[1] as Buffer | null;
      },
    );
    return replies;
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
