/**
 * Reading a fleet's stream (contract.ts): one retained event by id, and following the stream
 * as it grows. The fleet subgraph's event query fields and its own subscription resolvers use
 * them.
 *
 * @remarks
 * An event's age is judged from its id (`<ms>-<seq>`, the time Redis appended it), not from
 * whether Redis still holds it: trimming with `~` removes whole stream nodes, so an entry may
 * outlive the window by a little, and a reader must not serve it then — the window is the
 * contract, the trimming only how memory is reclaimed.
 */
import type { RedisClient } from '../redis/client.js';
import {
  EVENT_RETENTION_MS,
  fleetStreamKey,
  fromStreamEntry,
  STREAM_ID,
  type FleetEvent,
} from './contract.js';

/** The milliseconds part of a stream id. */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Whether a stream id is older than the retention window (and so no longer served). */
export function isExpired(id: string, now = Date.now(), retentionMs = EVENT_RETENTION_MS): boolean {
  return streamIdTime(id) < now - retentionMs;
}

/**
 * The retained event `eventId` of the fleet's stream; undefined when the stream does not hold
 * it, it is past the retention window, or the entry is not a fleet event. `eventId` must match
 * {@link STREAM_ID} (checked by the caller, which names the argument).
 */
export async function readEvent(
  redis: RedisClient,
  fleetId: string,
  eventId: string,
  now = Date.now(),
): Promise<FleetEvent | undefined> {
  if (!STREAM_ID.test(eventId) || isExpired(eventId, now)) return undefined;
  const entries = await redis.xrange(fleetStreamKey(fleetId), eventId, eventId);
  const [entry] = entries;
  return entry ? fromStreamEntry(entry[0], entry[1]) : undefined;
}

/** The id of the fleet's newest event, or `0-0` when its stream is empty or gone. */
export async function newestEventId(redis: RedisClient, fleetId: string): Promise<string> {
  const [newest] = await redis.xrevrange(fleetStreamKey(fleetId), '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}

export interface FollowOptions {
  /** A connection of the follower's own (XREAD BLOCK holds it), closed when the follower ends. */
  readonly connection: RedisClient;
  readonly fleetId: string;
  /** Deliver the events after this id. */
  readonly after: string;
  /** Which of the stream's events to deliver. */
  readonly filter: (event: FleetEvent) => boolean;
  /** How long one XREAD blocks; default 5 s. */
  readonly blockMs?: number;
}

/** Entries one XREAD returns at most. */
const READ_COUNT = 100;
/** Pause after a failed read (Redis away: the connection reconnects by itself). */
const RETRY_MS = 500;

/**
 * The fleet's events after `after`, as they are appended, filtered: an async iterator that ends
 * only when `return()` is called (which closes its connection, ending a pending XREAD at once —
 * an async generator could not return before that read came back). A read that fails (Redis
 * restarting) is retried from the same id, so no retained event is skipped.
 */
export class FleetStreamFollower implements AsyncIterableIterator<FleetEvent> {
  private readonly key: string;
  private cursor: string;
  private readonly buffer: FleetEvent[] = [];
  private ended = false;

  constructor(private readonly options: FollowOptions) {
    this.key = fleetStreamKey(options.fleetId);
    this.cursor = options.after;
  }

  async next(): Promise<IteratorResult<FleetEvent>> {
    while (!this.ended) {
      const buffered = this.buffer.shift();
      if (buffered) return { value: buffered, done: false };
      try {
        const reply = await this.options.connection.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          this.options.blockMs ?? 5000,
          'STREAMS',
          this.key,
          this.cursor,
        );
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.cursor = id;
            const event = fromStreamEntry(id, fields);
            if (event && this.options.filter(event)) this.buffer.push(event);
          }
        }
      } catch {
        if (!this.ended) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<FleetEvent>> {
    this.ended = true;
    this.buffer.length = 0;
    this.options.connection.disconnect();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<FleetEvent>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
