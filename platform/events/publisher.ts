/**
 * The write path's half of the fleet's change events: appends each event to its fleet's stream
 * (contract.ts) once the write it describes has been acknowledged by Cassandra.
 *
 * @remarks
 * - **A slow or dead Redis never fails a write.** {@link EventPublisher.publish} waits for the
 *   event's first append at most `waitMs` (the Redis command timeout: what this project calls a
 *   slow Redis), then returns whatever happened. An event that could not be appended stays in an
 *   in-process outbox and is tried again, with backoff, until Redis takes it.
 * - **Why wait at all**: a client that has the mutation's answer and then subscribes (or resumes
 *   from an earlier id) finds the event already in the stream whenever Redis is healthy.
 * - **Ordered per fleet**: each fleet has its own queue, sent one event at a time, and a new
 *   event always goes behind the fleet's queued ones — never around them. Fleets do not wait for
 *   each other, except that a failure anywhere backs every queue off (Redis is one).
 * - **At-least-once while the process lives**: an event leaves its queue only when Redis has
 *   answered its XADD. An XADD that timed out after Redis applied it is appended again, so a
 *   subscriber may see an event twice (the copy after later events of its fleet); events carry
 *   ids and kinds only, so a copy resolves to current state, never to older values.
 * - **What is lost**: the outbox is memory. A process that dies (or stops, after
 *   {@link EventPublisher.close}'s grace period) while Redis is unreachable loses the events it
 *   holds; so does an outbox at `maxOutbox` events, which drops new ones. Both are counted
 *   (`dropped`) and logged. The write itself is never lost: a subscriber that reconnects after a
 *   gap refetches state by query.
 * - **Retention** (contract.ts): every XADD trims entries older than the retention window
 *   (`MINID ~`), caps the stream at `maxLength` entries (`XTRIM MAXLEN ~`, in the same MULTI: XADD
 *   takes one trimming strategy) and sets the key to expire one window after its newest event, so
 *   a fleet whose robots stay quiet costs no memory. `~` trims whole stream nodes (Redis's
 *   `stream-node-max-entries`, 100 by default): a few older entries may linger, which is why
 *   readers also judge an id's age themselves.
 */
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/client.js';
import {
  EVENT_RETENTION_MAX_LENGTH,
  EVENT_RETENTION_MS,
  fleetStreamKey,
  toStreamFields,
  type FleetEvent,
  type FleetEventKind,
} from './contract.js';

/** What became of an event by the time {@link EventPublisher.publish} returned. */
export type PublishOutcome =
  /** Appended to its fleet's stream. */
  | 'published'
  /** In the outbox, to be appended when Redis answers again. */
  | 'queued'
  /** Not kept: the outbox was full, or the publisher closed. */
  | 'dropped';

/** Counters the publisher reports to (the fleet subgraph's prom-client counters). */
export interface PublisherMetrics {
  /** An event was appended. */
  published(kind: FleetEventKind): void;
  /** An append failed and the event stays queued for another attempt. */
  retried(kind: FleetEventKind): void;
  /** An event was given up (outbox full, or closed with events still queued). */
  dropped(kind: FleetEventKind): void;
}

export interface EventPublisherOptions {
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly metrics?: PublisherMetrics;
  /** How long publish() waits for the first append; default 100 ms. */
  readonly waitMs?: number;
  /** Events held while Redis is unreachable, across fleets; default 10,000. */
  readonly maxOutbox?: number;
  readonly retentionMs?: number;
  readonly maxLength?: number;
  /** Backoff between failed attempts: doubling from `initialMs` up to `maxMs`. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly now?: () => number;
}

/** An event as the write path hands it over: everything but the id Redis will give it. */
export type NewFleetEvent = Omit<FleetEvent, 'id'>;

interface Pending {
  readonly event: NewFleetEvent;
  /** Settles the publish() call that is (perhaps still) waiting; later calls are ignored. */
  readonly settle: (outcome: PublishOutcome) => void;
}

const DEFAULT_MAX_OUTBOX = 10_000;
const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5000 };

export class EventPublisher {
  private readonly redis: RedisClient;
  private readonly logger: Logger;
  private readonly metrics: PublisherMetrics | undefined;
  private readonly waitMs: number;
  private readonly maxOutbox: number;
  private readonly retentionMs: number;
  private readonly maxLength: number;
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  private readonly now: () => number;
  /** Per fleet, its events not yet appended, oldest first (the head is being sent). */
  private readonly queues = new Map<string, Pending[]>();
  private size = 0;
  /** Consecutive failed appends, across fleets: the backoff grows with it. */
  private failures = 0;
  private resumeAt = 0;
  private closed = false;
  /** Wakes the queues sleeping out a backoff (Redis is ready again, or closing). */
  private readonly wakers = new Set<() => void>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly onReady = () => this.wakeAll();

  constructor(options: EventPublisherOptions) {
    this.redis = options.redis;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.waitMs = options.waitMs ?? 100;
    this.maxOutbox = options.maxOutbox ?? DEFAULT_MAX_OUTBOX;
    this.retentionMs = options.retentionMs ?? EVENT_RETENTION_MS;
    this.maxLength = options.maxLength ?? EVENT_RETENTION_MAX_LENGTH;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.now = options.now ?? Date.now;
    // A reconnected Redis is tried at once rather than at the end of the current backoff.
    this.redis.on('ready', this.onReady);
  }

  /** Events waiting in the outbox (all fleets). */
  get outboxSize(): number {
    return this.size;
  }

  /**
   * Queues `event` behind its fleet's earlier events and waits for its append at most `waitMs`.
   * Never rejects: what happened is the outcome.
   */
  publish(event: NewFleetEvent): Promise<PublishOutcome> {
    if (this.closed || this.size >= this.maxOutbox) {
      this.metrics?.dropped(event.kind);
      this.logger.warn(
        { fleetId: event.fleetId, kind: event.kind, outbox: this.size },
        this.closed ? 'fleet event dropped: publisher closed' : 'fleet event dropped: outbox full',
      );
      return Promise.resolve('dropped');
    }
    return new Promise<PublishOutcome>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => settle('queued'), this.waitMs);
      timer.unref();
      const settle = (outcome: PublishOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const queue = this.queues.get(event.fleetId);
      this.size++;
      if (queue) {
        queue.push({ event, settle });
      } else {
        this.queues.set(event.fleetId, [{ event, settle }]);
        void this.drain(event.fleetId);
      }
    });
  }

  /** Resolves once the outbox is empty (every event published or dropped). */
  flushed(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  /**
   * Stops taking events; lets queued ones drain for up to `graceMs`, then drops (and counts)
   * what is left. The Redis connection is the caller's to close afterwards.
   */
  async close(graceMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flushed(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    this.closed = true;
    this.redis.off('ready', this.onReady);
    this.wakeAll();
  }

  /** Sends one fleet's queue, oldest first, until it is empty (or the publisher closed). */
  private async drain(fleetId: string): Promise<void> {
    const queue = this.queues.get(fleetId)!;
    while (queue.length > 0) {
      const wait = this.resumeAt - this.now();
      if (wait > 0 && !this.closed) await this.sleep(wait);
      const head = queue[0]!;
      if (this.closed) {
        const dropped = queue.splice(0);
        this.size -= dropped.length;
        for (const pending of dropped) {
          this.metrics?.dropped(pending.event.kind);
          pending.settle('dropped');
        }
        this.logger.warn(
          { fleetId, dropped: dropped.length },
          'fleet events dropped: publisher closed before Redis took them',
        );
        break;
      }
      try {
        await this.append(head.event);
        queue.shift();
        this.size--;
        if (this.failures > 0)
          this.logger.info({ failures: this.failures }, 'fleet events: Redis appends again');
        this.failures = 0;
        this.resumeAt = 0;
        this.metrics?.published(head.event.kind);
        head.settle('published');
      } catch (error) {
        if (this.failures === 0)
          this.logger.warn(
            { err: error, outbox: this.size },
            'fleet events: Redis append failed; events wait in the outbox',
          );
        this.failures++;
        this.resumeAt =
          this.now() +
          Math.min(this.backoff.initialMs * 2 ** (this.failures - 1), this.backoff.maxMs);
        this.metrics?.retried(head.event.kind);
        // Nobody waits for an event behind a failure: their writes are answered now.
        for (const pending of queue) pending.settle('queued');
      }
    }
    this.queues.delete(fleetId);
    if (this.size === 0) {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters.clear();
    }
  }

  /** XADD with the retention trims and the key's expiry, in one MULTI (one round trip). */
  private async append(event: NewFleetEvent): Promise<string> {
    const key = fleetStreamKey(event.fleetId);
    const minId = Math.max(0, this.now() - this.retentionMs);
    const replies = await this.redis
      .multi()
      .xadd(key, 'MINID', '~', String(minId), '*', ...toStreamFields(event))
      .xtrim(key, 'MAXLEN', '~', String(this.maxLength))
      .pexpire(key, this.retentionMs)
      .exec();
    if (!replies) throw new Error('MULTI was discarded');
    for (const [error] of replies) if (error) throw error;
    return replies[0]![1] as string;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wakers.add(wake);
    });
  }

  private wakeAll(): void {
    this.resumeAt = 0;
    for (const wake of [...this.wakers]) wake();
  }
}
