/**
 * Stampede protection, around admission and execution: concurrent misses for one flight key
 * compute once; the others then take the leader's answer when they provably miss no write by
 * it ({@link mayTake}), else read the stored response, else compute themselves. Without a
 * usable cache every request simply runs.
 */
import type { ResponseCache, SharedAnswer } from '../cache/responseCache.js';
import type { TagVersions } from '../cache/tagVersions.js';
import { sendCached, type CacheAnswerOptions } from './cacheLookup.js';
import type { RequestState } from './requestState.js';

export function singleFlightStage(
  deps: CacheAnswerOptions & {
    readonly responseCache: ResponseCache | undefined;
    readonly versions: TagVersions | undefined;
  },
): (state: RequestState, run: (state: RequestState) => Promise<void>) => Promise<void> {
  const { responseCache, versions } = deps;
  return async function singleFlight(state, run) {
    const { requestHash, flightKey } = state;
    if (!responseCache || !requestHash || !flightKey || !responseCache.available) return run(state);
    // Taken as this request joins a flight ({@link mayTake}): Redis's sequence, which then covers
    // every purge of a write acknowledged before it (a purge lands before its write is
    // acknowledged), and whether Redis had confirmed every purge this instance made.
    let arrival: Promise<{ epoch: string; seq: number } | undefined> | undefined;
    let confirmedAtArrival = false;
    const joined = await responseCache.singleFlight(
      flightKey,
      () => run(state),
      () => {
        confirmedAtArrival = versions?.localUsable === true;
        arrival = responseCache.versionState().catch(() => undefined);
      },
    );
    if (joined.role === 'leader') return;
    const { answer } = joined;
    if (answer && arrival && confirmedAtArrival && mayTake(answer, await arrival))
      return sendCached(state.res, answer.response, deps);
    const { identity, requireTrustedDocuments: restricted } = state.auth;
    const key =
      state.cacheKey ??
      (await responseCache.keyFor(requestHash, identity, restricted).catch(() => undefined));
    const hit = key ? await responseCache.get(key).catch(() => undefined) : undefined;
    if (hit) return sendCached(state.res, hit, deps);
    return run(state);
  };
}

/**
 * Whether a follower may take its leader's answer although it was not stored (a write landed
 * during the execution): only if no purge happened between the leader's snapshot and the
 * follower's arrival. Redis's sequence, read after the arrival, is still the snapshot's, so
 * every write acknowledged before the follower came was purged before the leader read anything;
 * and this instance had no purge of its own unconfirmed at the arrival (a write it acknowledged
 * while Redis was unreachable, which the sequence cannot show). Writes after the arrival are
 * concurrent with the follower: either value is right. Comparing the answer's tags' versions
 * would not do: a tag keeps only its last purge, which can hide an earlier one.
 */
function mayTake(answer: SharedAnswer, arrival: { epoch: string; seq: number } | undefined) {
  const { snapshot } = answer;
  return arrival !== undefined && arrival.epoch === snapshot.epoch && arrival.seq <= snapshot.seq;
}
