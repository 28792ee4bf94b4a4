/**
 * Stampede protection, around admission and execution: concurrent misses for one flight key
 * compute once; the others then take the leader's answer when they provably miss no write by
 * it ({@link mayTake}), else share one execution started after they came (../cache/flights.ts),
 * else read the stored response, else compute themselves. A request does not wait for an
 * execution this instance already knows to be outdated for it: it starts the key's current one.
 * Without a usable cache every request simply runs.
 */
import type { Flight } from '../cache/flights.js';
import type { ResponseCache, SharedAnswer } from '../cache/responseCache.js';
import type { TagVersions } from '../cache/tagVersions.js';
import { answerCached, type CacheAnswerOptions } from './cacheLookup.js';
import { ANSWERED, type RequestState } from './requestState.js';

export function singleFlightStage(
  deps: CacheAnswerOptions & {
    readonly responseCache: ResponseCache | undefined;
    readonly versions: TagVersions | undefined;
  },
): (state: RequestState, run: (state: RequestState) => Promise<void>) => Promise<void> {
  const { responseCache, versions, metrics } = deps;
  const followed = (outcome: string) => metrics.cacheFollowers.inc({ outcome });
  return async function singleFlight(state, run) {
    const { requestHash, flightKey } = state;
    if (!responseCache || !requestHash || !flightKey || !responseCache.available) return run(state);
    const { flights } = responseCache;
    // A request leads only once its revocation check has passed: the requests that joined its
    // flight would otherwise wait for its check too, and for nothing if it is refused. Until
    // then it may follow (the gate is passed again before it is answered).
    if (state.auth.revocation && !flights.wouldFollow(flightKey)) {
      if ((await deps.confirmNotRevoked(state)) === ANSWERED) return;
    }
    const lead = (flight: Flight) => {
      state.flight = flight;
      return run(state);
    };
    // Taken as this request joins a flight ({@link mayTake}): Redis's sequence, which then covers
    // every purge of a write acknowledged before it (a purge lands before its write is
    // acknowledged), and whether Redis had confirmed every purge this instance made.
    let arrival: Promise<{ epoch: string; seq: number } | undefined> | undefined;
    let confirmedAtArrival = false;
    const arrivedAt = flights.clock;
    const joined = await flights.join(flightKey, lead, {
      onFollow: () => {
        confirmedAtArrival = versions?.localUsable === true;
        arrival = versions?.inRedis().catch(() => undefined);
      },
    });
    if (joined.role === 'leader') {
      if (joined.replaced) followed('started_current');
      return;
    }
    const mayTakeAnswer = async (answer: SharedAnswer | undefined) =>
      answer !== undefined &&
      arrival !== undefined &&
      confirmedAtArrival &&
      mayTake(answer, await arrival);
    if (await mayTakeAnswer(joined.answer)) {
      followed('took_answer');
      return answerCached(state, joined.answer!.response, deps);
    }
    if (joined.answer) {
      // The answer predates a write acknowledged before this request came. So it does for every
      // request that joined after that write: they wake together, and share one execution
      // started after their arrival (flights.ts) rather than each computing alone.
      const again = await flights.join(flightKey, lead, { startedAfter: arrivedAt });
      if (again.role === 'leader') return followed('led_afresh');
      if (await mayTakeAnswer(again.answer)) {
        followed('took_answer');
        return answerCached(state, again.answer!.response, deps);
      }
    }
    const { identity, requireTrustedDocuments: restricted } = state.auth;
    const key =
      state.cacheKey ??
      (await responseCache.keyFor(requestHash, identity, restricted).catch(() => undefined));
    const hit = key ? await responseCache.get(key).catch(() => undefined) : undefined;
    if (hit) {
      followed('stored');
      return answerCached(state, hit, deps);
    }
    followed('ran');
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
