/**
 * The response cache's in-process layer in front of Redis: spares the hottest entries a Redis
 * round trip, and is purged by entity tag like Redis (locally, and on other instances through
 * the invalidation channel, responseCache.ts).
 */
import { LRUCache } from 'lru-cache';
import type { RouterMetrics } from '../metrics.js';

export interface CachedResponse {
  /**
   * The response bytes, encoded once when stored: a hit hands the socket a Buffer. Serving the
   * string made every hit measure and encode it again (Buffer.byteLength and the UTF-8 write
   * were 11% of the router's busy time on 83 KB hits, bench/results/profile-top.md).
   */
  readonly body: Buffer;
  readonly contentType: string;
}

interface LocalEntry extends CachedResponse {
  readonly tags: readonly string[];
}

/** Local copies live at most this long: bounds the window of a missed pub/sub message. */
export const LOCAL_TTL_CAP_MS = 5_000;

export class LocalLayer {
  private readonly entries: LRUCache<string, LocalEntry>;
  private readonly byTag = new Map<string, Set<string>>();

  constructor(maxBytes: number, metrics: RouterMetrics) {
    this.entries = new LRUCache<string, LocalEntry>({
      maxSize: maxBytes,
      sizeCalculation: (entry) => entry.body.length + 64,
      ttlAutopurge: false,
      dispose: (entry, key) => {
        for (const tag of entry.tags) this.byTag.get(tag)?.delete(key);
        metrics.cacheEntries.set(this.entries.size);
      },
    });
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedResponse | undefined {
    return this.entries.get(key);
  }

  /**
   * A copy found only in Redis is kept locally briefly, without tags: its short local TTL
   * and the pub/sub purge bound its staleness.
   */
  keepCopy(key: string, contentType: string, body: Buffer): CachedResponse {
    const entry = { contentType, body, tags: [] };
    this.entries.set(key, entry, { ttl: LOCAL_TTL_CAP_MS });
    return entry;
  }

  /** An entry just stored in Redis, indexed under its tags. */
  set(key: string, response: CachedResponse, tags: readonly string[], ttlSeconds: number): void {
    this.entries.set(
      key,
      { ...response, tags },
      { ttl: Math.min(ttlSeconds * 1000, LOCAL_TTL_CAP_MS) },
    );
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  purge(tags: readonly string[]): void {
    if (tags.includes('*')) {
      this.entries.clear();
      this.byTag.clear();
      return;
    }
    for (const tag of tags) {
      for (const key of this.byTag.get(tag) ?? []) this.entries.delete(key);
      this.byTag.delete(tag);
    }
    // Copies pulled from Redis carry no tags; they expire within LOCAL_TTL_CAP_MS, but a purge
    // we take part in should not wait for that.
    for (const [key, entry] of this.entries.entries())
      if (entry.tags.length === 0) this.entries.delete(key);
  }
}
