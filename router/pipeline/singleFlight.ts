/**
 * Stampede protection, around admission and execution: concurrent misses for one flight key
 * compute once; the others then read the stored response (or compute themselves if it was not
 * cacheable). Without a usable cache every request simply runs.
 */
import type { ResponseCache } from '../cache/responseCache.js';
import { sendCached, type CacheAnswerOptions } from './cacheLookup.js';
import type { RequestState } from './requestState.js';

export function singleFlightStage(
  deps: CacheAnswerOptions & { readonly responseCache: ResponseCache | undefined },
): (state: RequestState, run: (state: RequestState) => Promise<void>) => Promise<void> {
  const { responseCache } = deps;
  return async function singleFlight(state, run) {
    const { requestHash, flightKey } = state;
    if (!responseCache || !requestHash || !flightKey || !responseCache.available) return run(state);
    const role = await responseCache.singleFlight(flightKey, () => run(state));
    if (role === 'leader') return;
    const { identity, requireTrustedDocuments: restricted } = state.auth;
    const key =
      state.cacheKey ??
      (await responseCache.keyFor(requestHash, identity, restricted).catch(() => undefined));
    const hit = key ? await responseCache.get(key).catch(() => undefined) : undefined;
    if (hit) return sendCached(state.res, hit, deps);
    return run(state);
  };
}
