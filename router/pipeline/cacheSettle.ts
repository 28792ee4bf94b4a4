/**
 * After an execution: purge what a mutation wrote (before its response is sent — on every
 * router, whatever its own cache setting: other instances share the Redis), store a cacheable
 * query's response, or remember that the request is not cacheable. Redis trouble only costs
 * the cache, never the request (an unconfirmed purge is retried, tagVersions.ts).
 */
import { entryKey } from '../cache/keys.js';
import type { ResponseCache } from '../cache/responseCache.js';
import type { TagVersions } from '../cache/tagVersions.js';
import type { RouterMetrics } from '../metrics.js';
import type { RequestState } from './requestState.js';

export function cacheSettleStage(deps: {
  readonly responseCache: ResponseCache | undefined;
  readonly versions: TagVersions | undefined;
  readonly metrics: RouterMetrics;
  /** Whether to leave out the x-cache header (MISS / UNKNOWN), a debugging aid. */
  readonly isProduction: boolean;
}): (state: RequestState, body: string) => Promise<void> {
  const { responseCache, versions, metrics, isProduction } = deps;

  async function settle(
    cache: ResponseCache,
    requestHash: string,
    state: RequestState,
    body: string,
  ) {
    const { cache: fetched, res, auth } = state;
    const status = res.statusCode;
    const contentType = String(res.getHeader('content-type') ?? 'application/json');
    try {
      if (fetched.operation !== 'query' || status !== 200) return;
      if (fetched.hadErrors) return; // errors (or denied fields) are never cached, nor remembered
      if (!fetched.policy || fetched.policy.maxAge <= 0) {
        // Awaited inside the try: a Redis timeout here must cost the cache, not the request.
        await cache.rememberUncacheable(requestHash);
        return;
      }
      offerToFollowers(cache, requestHash, state, body, contentType);
      await cache.store(
        requestHash,
        auth.identity,
        auth.requireTrustedDocuments,
        fetched.policy,
        { body, contentType },
        fetched.reads,
        state.snapshot,
        state.flight,
      );
    } catch {
      metrics.redisBypasses.inc({ purpose: 'response_cache' });
    }
  }

  return async function cacheSettle(state, body) {
    if (versions && state.cache.writes.size > 0) await versions.purge(state.cache.writes);
    if (!responseCache || !state.requestHash) return;
    await settle(responseCache, state.requestHash, state, body);
    if (!isProduction) state.res.setHeader('x-cache', state.cacheKey ? 'MISS' : 'UNKNOWN');
  };
}

/**
 * Offers a storable answer to the requests waiting on this execution (singleFlight.ts decides
 * whether each may take it), if they are owed the same answer: the flight was this caller's own
 * (no cache key yet), or its key is the one the answer's final scope gives (an execution that
 * turned PRIVATE is never handed to the other callers of a PUBLIC key).
 */
function offerToFollowers(
  cache: ResponseCache,
  requestHash: string,
  state: RequestState,
  body: string,
  contentType: string,
): void {
  const { flight, cacheKey, snapshot, auth, cache: fetched } = state;
  if (!flight || !snapshot || !fetched.policy) return;
  const restricted = auth.requireTrustedDocuments;
  const finalKey = entryKey(requestHash, auth.identity, fetched.policy.scope, restricted);
  if (cacheKey !== undefined && cacheKey !== finalKey) return;
  cache.shareAnswer(flight, () => ({
    response: { body: Buffer.from(body, 'utf8'), contentType },
    snapshot,
  }));
}
