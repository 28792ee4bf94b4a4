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
  /** The gate of a deferred revocation check (authenticate.ts), passed before any answer. */
  readonly confirmNotRevoked: (state: RequestState) => Promise<StageOutcome>;
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
    // A mutation is never cached; not even its policy is looked up (each write's body is new,
    // so the lookup was a Redis round trip that always missed), nor does it share a flight.
    if (method === 'POST' && !responseCache.knowsPolicy(hash) && isMutationBody(state.raw))
      return NEXT;
    if (!responseCache.available) {
      metrics.redisBypasses.inc({ purpose: 'response_cache' });
    } else {
      let hit: CachedResponse | undefined;
      try {
        state.cacheKey = await responseCache.keyFor(hash, auth.identity, restricted);
        hit = state.cacheKey ? await responseCache.get(state.cacheKey) : undefined;
        if (!hit && state.cacheKey) metrics.cacheMisses.inc();
      } catch {
        metrics.redisBypasses.inc({ purpose: 'response_cache' });
        state.cacheKey = undefined;
      }
      if (hit) {
        await answerCached(state, hit, deps);
        return ANSWERED;
      }
    }
    // Until the policy is known, only this caller's identical requests share a flight.
    state.flightKey = state.cacheKey ?? `${hash}|${scopeKey(auth.identity, 'PRIVATE', restricted)}`;
    return NEXT;
  };
}

/**
 * A body whose `query` text starts with `mutation` (after whitespace). Wrong either way costs
 * only the cache, never correctness: a false positive (a variable named "query" holding such
 * text, or a document whose first operation is a mutation but whose operationName picks a query)
 * is executed uncached; a false negative (a persisted document's hash, a leading comment) looks
 * its policy up as before.
 */
const MUTATION_BODY = /"query"\s*:\s*"(?:\s|\\[nrt])*mutation\b/;

export function isMutationBody(raw: string | undefined): boolean {
  return raw !== undefined && MUTATION_BODY.test(raw);
}

/** Answers with a cached or shared response, once the caller's revocation check has passed. */
export async function answerCached(
  state: RequestState,
  hit: CachedResponse,
  options: CacheAnswerOptions,
): Promise<void> {
  if ((await options.confirmNotRevoked(state)) === ANSWERED) return;
  sendCached(state.res, hit, options);
}

function sendCached(res: ServerResponse, hit: CachedResponse, options: CacheAnswerOptions): void {
  options.metrics.cacheHits.inc();
  res.statusCode = 200;
  res.setHeader('content-type', hit.contentType);
  if (!options.isProduction) res.setHeader('x-cache', 'HIT');
  res.end(hit.body);
}
