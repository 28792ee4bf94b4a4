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

/**
 * Local copies live at most this long: a backstop only — a purge, heard or made here, drops
 * them at once, and a lost message empties the layer (tagVersions.ts).
 */
export const LOCAL_TTL_CAP_MS = 5_000;

export class LocalLayer {
  private readonly entries: LRUCache<string, LocalEntry>;
  private readonly byTag = new Map<string, Set<string>>();

  /** `metrics.cacheEntries`: the gauge of this layer's size (the response or entity cache's). */
  constructor(maxBytes: number, metrics: Pick<RouterMetrics, 'cacheEntries'>) {
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

  /** Whether a copy is held (without counting as a use). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): CachedResponse | undefined {
    return this.entries.get(key);
  }

  /**
   * An entry stored in Redis (or found there and checked current), indexed under its tags so
   * that a purge finds it; kept at most {@link LOCAL_TTL_CAP_MS}.
   */
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

  /** Drops the entries holding any of `tags`, or every entry. */
  purge(what: readonly string[] | 'all'): void {
    if (what === 'all' || what.includes('*')) {
      this.entries.clear();
      this.byTag.clear();
      return;
    }
    for (const tag of what) {
      for (const key of this.byTag.get(tag) ?? []) this.entries.delete(key);
      this.byTag.delete(tag);
    }
  }
}
