/**
 * One subscriber's stream of results: what the transports (sse.ts, ws.ts) iterate. A bounded
 * queue of resolved events between the subscription's group (manager.ts), which pushes, and
 * the transport, which pulls only once the previous result has been written to the connection
 * — so the queue's length is the number of events waiting to be written.
 *
 * @remarks
 * A transport may instead take the queue itself ({@link Subscriber.deliverDirectly}): SSE in
 * distinct connections mode (sseDelivery.ts) writes a subscriber's waiting events in one write,
 * each event serialised once for all the subscribers it goes to. Then `next()` only yields the
 * final result (an error ending the stream) and the end.
 *
 * An object implementing AsyncGenerator by hand rather than an `async function*`: a generator
 * suspended in `await` cannot be returned from until its next value arrives, so a client that
 * hangs up between events would hold its subscription (and its slot in the limits) until the
 * next event of its fleet. Here `return()` ends it at once.
 */
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';

/** A resolved event, ready to send. */
export interface EventResult {
  readonly eventId: string;
  /** The entity the event is about (its robot, or mission): what coalescing collapses by. */
  readonly entity: string;
  readonly result: ExecutionResult;
}

export type EndReason = { readonly message: string; readonly code: string };

export class Subscriber implements AsyncGenerator<ExecutionResult, undefined, unknown> {
  private readonly queue: EventResult[] = [];
  /** The final error result, once ended with a reason. */
  private final: ExecutionResult | undefined;
  private ended = false;
  private waiting: ((result: IteratorResult<ExecutionResult, undefined>) => void) | undefined;
  private readonly closeHandlers: (() => void)[] = [];
  /** Set by {@link deliverDirectly}: told when the queue stops being empty. */
  private direct: (() => void) | undefined;
  /** The id of the last event queued (or skipped as not visible): events up to it are handled. */
  position: string;

  constructor(
    readonly options: {
      readonly bufferEvents: number;
      readonly coalesce: boolean;
      readonly onDelivered: () => void;
    },
    start: string,
  ) {
    this.position = start;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Events waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * From now on the queue is taken by the transport ({@link takeQueued}), which is told through
   * `onQueued` whenever an event is queued into an empty queue. Called before the transport's
   * first `next()`, so no event can reach the connection both ways (and out of order).
   */
  deliverDirectly(onQueued: () => void): void {
    this.direct = onQueued;
    if (this.queue.length > 0) onQueued();
  }

  /** The queued events, in order, handed to a direct transport (counted as delivered). */
  takeQueued(): EventResult[] {
    const items = this.queue.splice(0);
    for (let i = 0; i < items.length; i++) this.options.onDelivered();
    return items;
  }

  onClose(handler: () => void): void {
    if (this.ended) handler();
    else this.closeHandlers.push(handler);
  }

  /**
   * Queues a result; returns false when the buffer is full (the caller ends the subscriber).
   * With coalescing, a queued result of the same entity is replaced by this newer one.
   */
  push(item: EventResult): boolean {
    if (this.ended) return true;
    this.position = item.eventId;
    if (this.waiting && !this.direct) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.options.onDelivered();
      resolve({ value: item.result, done: false });
      return true;
    }
    if (this.options.coalesce) {
      const older = this.queue.findIndex((queued) => queued.entity === item.entity);
      if (older >= 0) this.queue.splice(older, 1);
    }
    if (this.queue.length >= this.options.bufferEvents) return false;
    this.queue.push(item);
    if (this.direct && this.queue.length === 1) this.direct();
    return true;
  }

  /** Resolves once the queue has room for `n` more (a resuming subscriber's backlog). */
  async room(n = 1): Promise<void> {
    while (!this.ended && this.queue.length + n > this.options.bufferEvents / 2)
      await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /**
   * Ends the stream: with a reason, the events not yet written are dropped (the client resumes
   * from the last id it received) and the reason is its last result; without one, it completes.
   */
  end(reason?: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    if (reason) {
      const error: GraphQLFormattedError = {
        message: reason.message,
        extensions: { code: reason.code },
      };
      this.final = { errors: [error as never] };
    }
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      const final = this.final;
      this.final = undefined;
      resolve(final ? { value: final, done: false } : { value: undefined, done: true });
    }
    for (const handler of this.closeHandlers.splice(0)) handler();
  }

  next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    const item = this.direct ? undefined : this.queue.shift();
    if (item) {
      this.options.onDelivered();
      return Promise.resolve({ value: item.result, done: false });
    }
    if (this.final) {
      const final = this.final;
      this.final = undefined;
      return Promise.resolve({ value: final, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.final = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.end();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
