/**
 * The one reader of the fleets' event streams per router process (platform/events/contract.ts):
 * a blocking `XREAD` over every fleet stream that has a subscriber here, on a connection of its
 * own, dispatching each entry to that stream's listeners (subscription groups, manager.ts).
 *
 * @remarks
 * - **Positions, not `$`**: the hub keeps, per stream, the id of the last entry it read and
 *   always reads after it. When Redis restarts (or the connection drops) the next `XREAD` asks
 *   for what came after that id, so every entry Redis still holds is delivered exactly once
 *   to the listeners registered at the time; a listener that joins gets the entries after the
 *   position at which it joined ({@link StreamHub.join}), never an earlier one.
 * - **Its own connection** (platform/redis/client.ts `createSubscriber`): a blocked `XREAD`
 *   would hold up every other command on a shared connection, and the process's command
 *   timeout (REDIS_COMMAND_TIMEOUT_MS, 100 ms) would cut every block short. A stream added
 *   while the reader is blocked interrupts it (`CLIENT UNBLOCK`), so a new fleet's first event
 *   is not held back by the block time.
 * - **Redis Cluster**: one `XREAD` may only name keys of one slot (each fleet's stream has its
 *   own hash tag), and `CLIENT UNBLOCK` would have to find the node; with REDIS_CLUSTER_NODES the
 *   hub instead polls: one non-blocking `XREAD` per stream every {@link CLUSTER_POLL_MS}.
 */
import { Cluster } from 'ioredis';
import {
  EVENT_RETENTION_MS,
  fleetStreamKey,
  fromStreamEntry,
  type FleetEvent,
} from '../../platform/events/contract.js';
import type { Logger } from '../../platform/logger.js';
import { createSubscriber, type RedisClient } from '../../platform/redis/client.js';
import type { RouterMetrics } from '../metrics.js';
import { compareIds } from './streamIds.js';

/** Told, in stream order, the events of one fleet read after the position it joined at. */
export type StreamListener = (events: readonly FleetEvent[]) => void;

/** How long one blocking read waits for new entries before it is sent again. */
const BLOCK_MS = 5000;
/** Entries read per stream and read. */
const READ_COUNT = 500;
/** Entries per page of a resuming subscriber's backlog (XRANGE). */
const BACKLOG_PAGE = 200;
const CLUSTER_POLL_MS = 100;

interface Stream {
  /** The id of the last entry read (and dispatched); '0-0' for an empty stream. */
  lastId: string;
  readonly listeners: Set<StreamListener>;
}

export class StreamHub {
  private readonly streams = new Map<string, Stream>();
  /** Streams being added: their current last id is being read. */
  private readonly joining = new Map<string, Promise<Stream>>();
  private readonly reader: RedisClient;
  private readonly prefix: string;
  private readonly cluster: boolean;
  private readerId: number | undefined;
  private running = true;
  private blocked = false;
  /** Counts blocking reads, so a late UNBLOCK does not cut short a read that includes the stream. */
  private reads = 0;
  private wake: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: { readonly logger: Logger; readonly metrics: RouterMetrics },
  ) {
    this.cluster = redis instanceof Cluster;
    this.reader = createSubscriber(redis);
    this.prefix =
      (redis instanceof Cluster ? redis.options.keyPrefix : redis.options.keyPrefix) ?? '';
    // The reader's connection id (for CLIENT UNBLOCK) changes with each reconnection.
    this.reader.on('close', () => (this.readerId = undefined));
    this.loop = this.run();
  }

  /**
   * Adds a listener to a fleet's stream; resolves the position it joined at: it is told every
   * entry after that id. Rejects when Redis cannot be asked for the stream's current end.
   */
  async join(fleetId: string, listener: StreamListener): Promise<string> {
    const stream = this.streams.get(fleetId) ?? (await this.add(fleetId));
    stream.listeners.add(listener);
    return stream.lastId;
  }

  leave(fleetId: string, listener: StreamListener): void {
    const stream = this.streams.get(fleetId);
    if (!stream) return;
    stream.listeners.delete(listener);
    if (stream.listeners.size === 0) this.streams.delete(fleetId);
  }

  /** The fleets whose streams are read (for tests and metrics). */
  get fleets(): readonly string[] {
    return [...this.streams.keys()];
  }

  /**
   * The entries of a fleet's stream after `after` up to `until` (both ids; `until` included),
   * one page at a time; 'expired' when entries after `after` may have been trimmed away.
   */
  async *backlog(
    fleetId: string,
    after: string,
    until: string,
  ): AsyncGenerator<readonly FleetEvent[] | 'expired'> {
    const key = fleetStreamKey(fleetId);
    if (await this.trimmedAfter(key, after)) {
      yield 'expired';
      return;
    }
    let from = after;
    while (compareIds(from, until) < 0) {
      const entries = await this.redis.xrange(key, `(${from}`, until, 'COUNT', BACKLOG_PAGE);
      if (entries.length === 0) return;
      from = entries[entries.length - 1]![0];
      yield eventsOf(entries);
      if (entries.length < BACKLOG_PAGE) return;
    }
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.reader.disconnect();
    await this.loop;
  }

  /** Whether a stream entry after `after` has been deleted (trimmed past the retention). */
  private async trimmedAfter(key: string, after: string): Promise<boolean> {
    // Older than the retention window: what followed it may be gone, even the whole stream
    // (a quiet fleet's key expires), and approximate trimming (`~`) keeps no exact record.
    if (Date.now() - Number(after.split('-')[0]) > EVENT_RETENTION_MS) return true;
    let info: unknown[];
    try {
      info = (await this.redis.xinfo('STREAM', key)) as unknown[];
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return false;
      throw error;
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    const maxDeleted = field('max-deleted-entry-id');
    // Redis ≥ 7 says which entry was deleted last; before that, an entry newer than the
    // resume point at the head of the stream may mean others were trimmed: expired, to be safe.
    if (typeof maxDeleted === 'string') return compareIds(after, maxDeleted) < 0;
    const first = field('first-entry') as [string, string[]] | null | undefined;
    return Boolean(first && compareIds(first[0], after) > 0);
  }

  private add(fleetId: string): Promise<Stream> {
    const pending = this.joining.get(fleetId);
    if (pending) return pending;
    const adding = (async () => {
      const last = await this.redis.xrevrange(fleetStreamKey(fleetId), '+', '-', 'COUNT', 1);
      const stream: Stream = { lastId: last[0]?.[0] ?? '0-0', listeners: new Set() };
      this.streams.set(fleetId, stream);
      this.interrupt();
      return stream;
    })().finally(() => this.joining.delete(fleetId));
    this.joining.set(fleetId, adding);
    return adding;
  }

  /** Makes the reader start a new read that includes the streams added since its last one. */
  private interrupt(): void {
    if (this.wake) {
      this.wake();
      return;
    }
    if (!this.blocked) return;
    // The read may not have reached Redis yet (then UNBLOCK finds nothing): once more shortly.
    const read = this.reads;
    const unblock = () => {
      if (this.blocked && this.reads === read && this.readerId !== undefined)
        void this.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
    };
    unblock();
    setTimeout(unblock, 50).unref();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (this.streams.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        const read = this.cluster ? await this.poll() : await this.readBlocking();
        failures = 0;
        this.options.metrics.subscriptionStreamReads.inc({ outcome: read ? 'events' : 'empty' });
      } catch (error) {
        if (!this.running) return;
        this.options.metrics.subscriptionStreamReads.inc({ outcome: 'error' });
        if (failures++ === 0)
          this.options.logger.warn({ err: error }, 'event stream read failed; retrying');
        await sleep(Math.min(100 * 2 ** failures, 2000));
      }
    }
  }

  /** One XREAD BLOCK over every stream; true when it returned entries. */
  private async readBlocking(): Promise<boolean> {
    const fleets = [...this.streams.keys()];
    const ids = fleets.map((fleet) => this.streams.get(fleet)!.lastId);
    this.readerId ??= (await this.reader.client('ID')) as number;
    this.reads++;
    this.blocked = true;
    let reply: [string, [string, string[]][]][] | null;
    try {
      reply = (await this.reader.xread(
        'COUNT',
        READ_COUNT,
        'BLOCK',
        BLOCK_MS,
        'STREAMS',
        ...fleets.map(fleetStreamKey),
        ...ids,
      )) as [string, [string, string[]][]][] | null;
    } finally {
      this.blocked = false;
    }
    if (!reply) return false;
    for (const [key, entries] of reply) this.dispatch(key, entries);
    return true;
  }

  /** Redis Cluster: one non-blocking XREAD per stream, then a pause when nothing came. */
  private async poll(): Promise<boolean> {
    const fleets = [...this.streams.keys()];
    const replies = await Promise.all(
      fleets.map(
        (fleet) =>
          this.redis.xread(
            'COUNT',
            READ_COUNT,
            'STREAMS',
            fleetStreamKey(fleet),
            this.streams.get(fleet)!.lastId,
          ) as Promise<[string, [string, string[]][]][] | null>,
      ),
    );
    let any = false;
    for (const reply of replies)
      for (const [key, entries] of reply ?? []) {
        any = true;
        this.dispatch(key, entries);
      }
    if (!any) await sleep(CLUSTER_POLL_MS);
    return any;
  }

  private dispatch(prefixedKey: string, entries: [string, string[]][]): void {
    const key = prefixedKey.startsWith(this.prefix)
      ? prefixedKey.slice(this.prefix.length)
      : prefixedKey;
    const fleetId = /^events:\{fleet:(.+)\}$/.exec(key)?.[1];
    const stream = fleetId === undefined ? undefined : this.streams.get(fleetId);
    if (!stream || entries.length === 0) return;
    // A stream re-added since this read started may already be past some of these entries.
    const fresh = entries.filter(([id]) => compareIds(id, stream.lastId) > 0);
    if (fresh.length === 0) return;
    stream.lastId = fresh[fresh.length - 1]![0];
    const events = eventsOf(fresh);
    if (events.length === 0) return;
    for (const listener of [...stream.listeners]) {
      try {
        listener(events);
      } catch (error) {
        this.options.logger.error({ err: error }, 'subscription listener failed');
      }
    }
  }
}

function eventsOf(entries: readonly [string, string[]][]): FleetEvent[] {
  const events: FleetEvent[] = [];
  for (const [id, fields] of entries) {
    const event = fromStreamEntry(id, fields);
    if (event) events.push(event);
  }
  return events;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
