/**
 * Writing resolved events to SSE connections in distinct connections mode (one subscription per
 * connection, the mode the graphql-sse client and curl use): each event serialised once for all
 * the subscribers it goes to, and each subscriber's waiting events written together at most every
 * SUBSCRIPTION_FLUSH_MS.
 *
 * @remarks
 * Why not graphql-sse's own stream for these events: it runs `JSON.stringify` on every result for
 * every subscriber, and writes each event on its own, through several promise hops. With 1,000
 * subscribers of a fleet at 50 events/s that is 50,000 serialisations and writes a second, which is
 * what stopped one router at about 12,000 deliveries/s in the fan-out benchmark (bench/fanout/,
 * `BENCH_SCENARIOS=fan-out`). Here an event a group resolved once (groups.ts) becomes one string
 * that every member's connection is given, and a burst costs one write per subscriber, not one
 * per event. graphql-sse still answers the request (validation, refusals, the stream's headers,
 * its first comment and the final error or `complete`); single connection mode (stream tokens)
 * stays on its path, since its events are wrapped per operation.
 *
 * Back-pressure is the connection's: while its buffer is full nothing more is written, the events
 * wait in the subscriber's bounded queue, and one past SUBSCRIPTION_BUFFER_EVENTS ends that
 * subscriber alone with SLOW_CONSUMER (groups.ts).
 */
import type { ServerResponse } from 'node:http';
import type { EventResult, Subscriber } from './subscriber.js';

const frames = new WeakMap<EventResult, string>();

/**
 * An event as an SSE message, `id:` (its stream id: a reconnecting client's `Last-Event-ID`), then
 * graphql-sse's `next` event: serialised once however many subscribers share the result.
 */
export function sseFrameOf(item: EventResult): string {
  let frame = frames.get(item);
  if (frame === undefined) {
    frame = `id: ${item.eventId}\nevent: next\ndata: ${JSON.stringify(item.result)}\n\n`;
    frames.set(item, frame);
  }
  return frame;
}

/**
 * Runs the pending flushes of every SSE stream of the process together, at most once every
 * `flushMs`: a throttle, not a delay. An event after a quiet spell is written at the end of the
 * loop's turn (every member of its group at once); events closer together than `flushMs` wait
 * for the next flush and go out together.
 */
export class SseFlusher {
  private readonly dirty = new Set<SseDirectStream>();
  private scheduled = false;
  private lastRun = -Infinity;

  constructor(private readonly flushMs: number) {}

  schedule(stream: SseDirectStream): void {
    this.dirty.add(stream);
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.lastRun + this.flushMs - performance.now();
    if (wait > 0) setTimeout(this.run, wait);
    else setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    this.lastRun = performance.now();
    const streams = [...this.dirty];
    this.dirty.clear();
    this.flushSlice(streams, 0);
  };

  /**
   * Flushes {@link STREAMS_PER_SLICE} streams, then yields to the event loop before the next
   * slice. Written in one go, 1,000 streams held the loop for ~50 ms per flush, and every
   * subgraph answer an event's execution waited for sat behind it: in the fan-out benchmark a
   * users fetch the subgraph answered in a millisecond took 119 ms at p50 in the router's
   * histogram, and an event's execution 66 ms. A stream scheduled again meanwhile is in the next
   * run as well; flushing it twice writes its queue once, in order (the queue is its own).
   */
  private flushSlice(streams: readonly SseDirectStream[], from: number): void {
    const end = Math.min(streams.length, from + STREAMS_PER_SLICE);
    for (let i = from; i < end; i++) streams[i]!.flush();
    if (end < streams.length) setImmediate(() => this.flushSlice(streams, end));
  }
}

/** How many connections one turn of the event loop writes to (SseFlusher.flushSlice). */
const STREAMS_PER_SLICE = 100;

/** One subscriber's connection, written to directly. */
export class SseDirectStream {
  private res: ServerResponse | undefined;
  private waitingForDrain = false;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly flusher: SseFlusher,
  ) {
    subscriber.deliverDirectly(() => flusher.schedule(this));
  }

  /** The connection, once its status and headers have been written. */
  open(res: ServerResponse): void {
    this.res = res;
    this.flusher.schedule(this);
  }

  flush(): void {
    const res = this.res;
    if (!res || res.destroyed || this.subscriber.closed) return;
    if (res.writableNeedDrain) {
      if (!this.waitingForDrain) {
        this.waitingForDrain = true;
        res.once('drain', () => {
          this.waitingForDrain = false;
          this.flusher.schedule(this);
        });
      }
      return;
    }
    const items = this.subscriber.takeQueued();
    if (items.length === 0) return;
    let chunk = '';
    for (const item of items) chunk += sseFrameOf(item);
    res.write(chunk);
  }
}
