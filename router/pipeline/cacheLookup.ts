/**
 * Stage 4: the response cache's hit path, before the body is parsed (the cache's design:
 * ../cache/responseCache.ts). Computes the request's hash, its cache key for this caller (once
 * its policy is known) and its single-flight key; answers a hit. Redis trouble only costs the
 * cache: the request goes on uncached.
 */
import type { ServerResponse } from 'node:http';
import { requestHash, scopeKey } from '../cache/keys.js';
import type { CachedResponse } from '../cache/localLayer.js';
import type { ResponseCache } from '../cache/responseCache.js';
import { passesCsrfPrevention } from '../http/csrf.js';
import type { RouterMetrics } from '../metrics.js';
import type { SupergraphState } from '../supergraph.js';
import { ANSWERED, NEXT, type RequestState, type StageOutcome } from './requestState.js';

export interface CacheAnswerOptions {
  readonly metrics: RouterMetrics;
  /** Whether to leave out the x-cache header (HIT / MISS / UNKNOWN), a debugging aid. */
  readonly isProduction: boolean;
}

export function cacheLookupStage(
  deps: CacheAnswerOptions & {
    readonly responseCache: ResponseCache | undefined;
    readonly supergraph: SupergraphState;
  },
): (state: RequestState) => Promise<StageOutcome> {
  const { responseCache, metrics, supergraph } = deps;
  return async function cacheLookup(state) {
    const { method, auth } = state;
    if (!responseCache || (method !== 'POST' && method !== 'GET')) return NEXT;
    // What Apollo Server would refuse as CSRF is not answered from the cache either: it runs
    // on uncached (and is refused there), with no hash, so it is never stored either.
    if (!passesCsrfPrevention(state.headers)) return NEXT;
    const restricted = auth.requireTrustedDocuments;
    // Cached responses belong to the schema that produced them: a reload starts afresh.
    const hash = requestHash(
      `${supergraph.version}|${method}`,
      state.raw ?? state.search,
      state.headers.get('accept'),
    );
    state.requestHash = hash;
    if (!responseCache.available) {
      metrics.redisBypasses.inc({ purpose: 'response_cache' });
    } else {
      try {
        state.cacheKey = await responseCache.keyFor(hash, auth.identity, restricted);
        const hit = state.cacheKey ? await responseCache.get(state.cacheKey) : undefined;
        if (hit) {
          sendCached(state.res, hit, deps);
          return ANSWERED;
        }
        if (state.cacheKey) metrics.cacheMisses.inc();
      } catch {
        metrics.redisBypasses.inc({ purpose: 'response_cache' });
        state.cacheKey = undefined;
      }
    }
    // Until the policy is known, only this caller's identical requests share a flight.
    state.flightKey = state.cacheKey ?? `${hash}|${scopeKey(auth.identity, 'PRIVATE', restricted)}`;
    return NEXT;
  };
}

export function sendCached(
  res: ServerResponse,
  hit: CachedResponse,
  options: CacheAnswerOptions,
): void {
  options.metrics.cacheHits.inc();
  res.statusCode = 200;
  res.setHeader('content-type', hit.contentType);
  if (!options.isProduction) res.setHeader('x-cache', 'HIT');
  res.end(hit.body);
}
