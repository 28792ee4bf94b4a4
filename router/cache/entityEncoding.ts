/**
 * How an entity cache entry is stored in Redis (entityCache.ts): its result, read tags, scope and
 * expiry, and the versions it was recorded under, as compact JSON; decoded defensively (an
 * entry that does not parse is a miss).
 */
import type { CachedEntity } from './entityCache.js';
import type { CachePolicy } from './keys.js';
import type { RecordedVersions } from './tagVersions.js';

interface StoredEntity {
  readonly d: unknown;
  readonly r: readonly string[];
  readonly s: CachePolicy['scope'];
  readonly x: number;
  readonly e?: string;
  readonly t?: readonly string[];
  readonly v?: readonly number[];
}

export function encode(cached: CachedEntity, recorded?: RecordedVersions): Buffer {
  const stored: StoredEntity = {
    d: cached.entity,
    r: cached.reads,
    s: cached.scope,
    x: cached.expiresAt,
    ...(recorded ? { e: recorded.epoch, t: recorded.tags, v: recorded.versions } : {}),
  };
  return Buffer.from(JSON.stringify(stored), 'utf8');
}

export interface DecodedEntity {
  readonly cached: CachedEntity;
  readonly recorded: RecordedVersions | undefined;
}

export function decode(buffer: Buffer): DecodedEntity | undefined {
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
