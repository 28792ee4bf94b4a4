/**
 * Single flight within one router process: the executions running per flight key, which
 * concurrent misses of that key wait for instead of repeating (pipeline/singleFlight.ts decides
 * what a waiting request does with the leader's answer).
 *
 * @remarks
 * A follower may take the leader's answer only if no purge happened between the leader's
 * version snapshot and the follower's arrival (singleFlight.ts `mayTake`): under a live fleet,
 * with a write every few tens of milliseconds, a request often arrives after a write that the
 * running execution began before. It cannot use that execution's answer, and waiting for it
 * only to compute afterwards doubled its latency (session 29: 5.5 % of the live-fleet
 * dashboard's reads — the slowest ones — waited and then ran alone, each its own execution).
 * So a key has at most one *current* flight:
 *
 * - A flight is **outdated** once this instance knows of a purge newer than its leader's
 *   snapshot (its own, or one heard on the invalidation channel): no request arriving from then
 *   on could take its answer. A newcomer does not join it; it starts the key's current flight,
 *   which later newcomers join. The outdated flight still finishes for the followers it has.
 * - A follower that woke to an answer it could not take (the purge had not reached this instance
 *   when it arrived) looks once more: it joins a flight started after its own arrival, or leads
 *   one. The followers of one outdated flight wake together, so they share one fresh execution
 *   instead of each computing alone.
 *
 * Neither step changes what may be served: every answer handed to a follower still passes
 * `mayTake` against Redis's sequence read at that follower's arrival. They only decide who waits
 * for whom; a request that leads computes fresh data.
 */
import type { SharedAnswer } from './responseCache.js';
import type { TagVersions, VersionSnapshot } from './tagVersions.js';

export interface Flight {
  /** Larger for flights started later ({@link Flights.clock}). */
  readonly id: number;
  /** Requests waiting on this execution. */
  followers: number;
  /** The leader's version snapshot, recorded as its execution begins (before any fetch). */
  snapshot: VersionSnapshot | undefined;
  /** The leader's answer, offered to its followers (cacheSettle.ts). */
  answer: SharedAnswer | undefined;
}

export type FlightRole =
  /** This request computed; `replaced`: the key's running flight was outdated for it. */
  | { readonly role: 'leader'; readonly replaced: boolean }
  | { readonly role: 'follower'; readonly answer: SharedAnswer | undefined };

export class Flights {
  private readonly current = new Map<string, { flight: Flight; done: Promise<void> }>();
  private lastId = 0;

  constructor(private readonly versions: TagVersions) {}

  /** The id of the latest flight started: a flight started after now has a larger one. */
  get clock(): number {
    return this.lastId;
  }

  /** Requests waiting on the key's current flight (an admission signal, responseCache.ts). */
  followersOf(key: string): number {
    return this.current.get(key)?.flight.followers ?? 0;
  }

  /**
   * Joins the key's current flight if it may serve this request — not outdated, and started
   * after `startedAfter` when given — or runs `compute` as the key's new current flight.
   */
  async join(
    key: string,
    compute: (flight: Flight) => Promise<void>,
    options: { readonly onFollow?: () => void; readonly startedAfter?: number } = {},
  ): Promise<FlightRole> {
    const running = this.current.get(key);
    if (running && this.mayJoin(running.flight, options.startedAfter)) {
      running.flight.followers += 1;
      options.onFollow?.();
      await running.done.catch(() => undefined);
      return { role: 'follower', answer: running.flight.answer };
    }
    const flight: Flight = {
      id: ++this.lastId,
      followers: 0,
      snapshot: undefined,
      answer: undefined,
    };
    const entry = {
      flight,
      done: compute(flight).finally(() => {
        if (this.current.get(key) === entry) this.current.delete(key);
      }),
    };
    this.current.set(key, entry);
    await entry.done;
    return { role: 'leader', replaced: running !== undefined };
  }

  /** Whether {@link join} would make the caller a follower now (else it would lead). */
  wouldFollow(key: string): boolean {
    const running = this.current.get(key);
    return running !== undefined && this.mayJoin(running.flight, undefined);
  }

  private mayJoin(flight: Flight, startedAfter: number | undefined): boolean {
    return flight.id > (startedAfter ?? 0) && !this.isOutdated(flight);
  }

  /** Whether this instance knows of a purge after the flight's snapshot (or a new epoch). */
  private isOutdated(flight: Flight): boolean {
    const snapshot = flight.snapshot;
    const known = snapshot && this.versions.snapshot();
    return known !== undefined && (known.epoch !== snapshot!.epoch || known.seq > snapshot!.seq);
  }
}
