/**
 * Versioned entity tags: the invalidation state every router instance shares through Redis,
 * whatever its own cache setting (docs/caching.md: the design, and why it is never stale).
 * One Redis hash holds a version per tag (`Robot:<id>`, `type:Robot`, `*`, `policy:<name>`), a
 * sequence `~seq` and an epoch `~epoch`; a purge is one Lua script that bumps `~seq`, sets every
 * purged tag to it and publishes the message, so purges are totally ordered. Fields are never
 * removed one by one: a lost hash takes its epoch with it and reads as "everything changed". An
 * entry is stored only if none of its tags moved since a snapshot taken before its fetches, and
 * served only while its recorded versions are current. One hash (one key, one slot) because a
 * Redis Cluster runs a script only over keys of one slot; the entries spread over the cluster.
 */
import { randomUUID } from 'node:crypto';
import {
  definePurgeCommand,
  EPOCH_FIELD,
  SEQ_FIELD,
  VERSIONS_KEY,
  type PurgeCommand,
} from './purgeScript.js';
import type { RedisClient } from '../../platform/redis/client.js';
import type { RouterMetrics } from '../metrics.js';
import { subscribeToInvalidations, type Subscription } from './invalidationChannel.js';
import { RecentInvalidations } from './recentInvalidations.js';
import { SharedRoundTrip } from './sharedRoundTrip.js';
import type {
  InvalidationListener,
  LocalInvalidation,
  RecordedVersions,
  VersionSnapshot,
} from './versionTypes.js';

/** How often an unconfirmed purge is tried again, at first; doubled up to 1 s. */
const RETRY_MS = 100;

export type * from './versionTypes.js';

export class TagVersions {
  /** The newest epoch and sequence this instance has seen (messages, own purges, reads). */
  private known: { readonly epoch: string; readonly seq: number } | undefined;
  /** The sequence of the last message heard, to notice a lost one. */
  private lastMessageSeq: number | undefined;
  /** Tags whose purge Redis has not confirmed: nothing holding them is served or stored. */
  private readonly unconfirmed = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MS;
  private subscriber: Subscription | undefined;
  private subscribed = false;
  private readonly purgeCommand: PurgeCommand;
  private readonly listeners: InvalidationListener[] = [];
  private readonly recent = new RecentInvalidations();
  /** The policy fingerprint last seen from each subgraph ({@link policySeen}). */
  private readonly fingerprints = new Map<string, string>();
  /** {@link heardAllPurges}' read of Redis, shared by the callers that asked before it left. */
  private readonly barrier = new SharedRoundTrip(() => this.inRedis());

  constructor(
    private readonly redis: RedisClient,
    /** The pub/sub channel (ioredis does not prefix channels: callers add the key prefix). */
    private readonly channel: string,
    private readonly metrics: Pick<RouterMetrics, 'cacheInvalidations' | 'cachePurgesUnconfirmed'>,
  ) {
    this.purgeCommand = definePurgeCommand(redis);
    this.listen();
  }

  /** Called with what in-process layers must drop, from its own purge ('local') or a message. */
  onLocalInvalidation(listener: InvalidationListener): void {
    this.listeners.push(listener);
  }

  /** Whether in-process copies may be kept: the channel is heard without a gap ({@link onMessage}). */
  get localUsable(): boolean {
    return this.subscribed && this.known !== undefined && this.unconfirmed.size === 0;
  }

  /**
   * Whether this instance has heard every purge Redis holds now (a round trip sent after the
   * caller's request arrived): only then may an in-process copy be served. A purge made before
   * the request is in Redis, but its message may not be handled here yet (another connection, a
   * network or proxy, or the event loop taking the request first): docs/caching.md, step 4.
   */
  async heardAllPurges(): Promise<boolean> {
    if (!this.localUsable) return false;
    const state = await this.barrier.ask();
    return (
      this.localUsable &&
      state !== undefined &&
      state.epoch === this.known?.epoch &&
      this.lastMessageSeq !== undefined &&
      state.seq <= this.lastMessageSeq
    );
  }

  /** The epoch and sequence as Redis holds them now (undefined: no state yet); rejects on errors. */
  async inRedis(): Promise<{ epoch: string; seq: number } | undefined> {
    const [epoch, seq] = await this.redis.hmget(VERSIONS_KEY, EPOCH_FIELD, SEQ_FIELD);
    return epoch ? { epoch, seq: Number(seq ?? 0) } : undefined;
  }

  /** Taken before an execution's fetches; undefined while the state is unknown (no store). */
  snapshot(): VersionSnapshot | undefined {
    return this.known && { ...this.known, mark: this.recent.mark };
  }

  /** A mark to pass to {@link untouchedSince} later. */
  get mark(): number {
    return this.recent.mark;
  }

  /** Whether no local invalidation since `mark` touched `tags` (else a copy may not enter a layer). */
  untouchedSince(mark: number, tags: readonly string[]): boolean {
    return this.recent.untouchedSince(mark, tags);
  }

  /**
   * Purges `tags` (entity tags, `type:<Typename>`, `*`): dropped locally at once, then bumped in
   * Redis. Resolves when Redis confirmed; if it did not (down, slow), the tags stay unconfirmed
   * — never served nor stored here — and the purge is retried until it lands. Never throws:
   * a write must not fail because the cache is down.
   */
  async purge(tags: Iterable<string>): Promise<boolean> {
    const list = [...new Set(tags)];
    if (list.length === 0) return true;
    this.emit(list.includes('*') ? 'all' : list, 'local');
    try {
      await this.bump(list);
      this.metrics.cacheInvalidations.inc(list.length);
      return true;
    } catch {
      this.metrics.cachePurgesUnconfirmed.inc();
      for (const tag of list) this.unconfirmed.add(tag);
      this.scheduleRetry();
      return false;
    }
  }

  /** The versions of `tags` if none moved since `snapshot` (a response may be stored), or undefined. */
  async recordFor(
    tags: readonly string[],
    snapshot: VersionSnapshot | undefined,
  ): Promise<RecordedVersions | undefined> {
    if (!snapshot || this.touchesUnconfirmed(tags)) return undefined;
    // A purge of one of them heard since the snapshot settles it without a round trip (under
    // live writes, the common case for a fleet's dashboard).
    if (!this.recent.untouchedSince(snapshot.mark, tags)) return undefined;
    const current = await this.redis.hmget(VERSIONS_KEY, EPOCH_FIELD, ...tags);
    if (current[0] !== snapshot.epoch) return undefined;
    const versions = current.slice(1).map((value) => Number(value ?? 0));
    if (versions.some((version) => version > snapshot.seq)) return undefined;
    return { epoch: snapshot.epoch, tags, versions };
  }

  /** Whether an entry's recorded versions are still the current ones. */
  async isCurrent(recorded: RecordedVersions): Promise<boolean> {
    if (this.touchesUnconfirmed(recorded.tags)) return false;
    const current = await this.redis.hmget(VERSIONS_KEY, EPOCH_FIELD, ...recorded.tags);
    if (current[0] !== recorded.epoch) return false;
    for (let i = 0; i < recorded.versions.length; i++) {
      if (Number(current[i + 1] ?? 0) !== recorded.versions[i]) return false;
    }
    return true;
  }

  /** {@link isCurrent} of many entries in one HMGET over their tags' union; undefined: not current. */
  async areCurrent(entries: readonly (RecordedVersions | undefined)[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const fields = new Map<string, number>();
    for (const entry of entries)
      for (const tag of entry?.tags ?? []) if (!fields.has(tag)) fields.set(tag, fields.size + 1);
    const current =
      fields.size === 0 ? [] : await this.redis.hmget(VERSIONS_KEY, EPOCH_FIELD, ...fields.keys());
    return entries.map((entry) => {
      if (!entry || entry.tags.length === 0 || current[0] !== entry.epoch) return false;
      if (this.touchesUnconfirmed(entry.tags)) return false;
      return entry.tags.every(
        (tag, i) => Number(current[fields.get(tag)!] ?? 0) === entry.versions[i],
      );
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.subscriber?.close();
  }

  /**
   * Purges `policy:<subgraph>` if `fingerprint` is not the one Redis last saw from it: a
   * subgraph now answering under other rules (a tightened permission, a new schema) makes
   * every entry that read from it unservable, on every instance. Best effort: a failure is
   * retried at the subgraph's next answer.
   */
  policySeen(subgraph: string, fingerprint: string): void {
    if (this.fingerprints.get(subgraph) === fingerprint) return;
    this.fingerprints.set(subgraph, fingerprint);
    const tag = `policy:${subgraph}`;
    this.bump([tag], [`fp:${subgraph}`, fingerprint]).then(
      (purged) => {
        if (purged) this.emit([tag], 'local');
      },
      () => this.fingerprints.delete(subgraph),
    );
  }

  /** Runs the purge script; resolves whether it purged (false: its condition held). */
  private async bump(
    tags: readonly string[],
    unless: [string, string] = ['', ''],
  ): Promise<boolean> {
    const [epoch, seq] = await this.purgeCommand(this.channel, randomUUID(), unless, tags);
    if (Number(seq) === 0) return false;
    this.learn({ epoch, seq: Number(seq) });
    return true;
  }

  private touchesUnconfirmed(tags: readonly string[]): boolean {
    if (this.unconfirmed.size === 0) return false;
    if (this.unconfirmed.has('*')) return true;
    return tags.some((tag) => this.unconfirmed.has(tag));
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const pending = [...this.unconfirmed];
      this.bump(pending).then(
        () => {
          for (const tag of pending) this.unconfirmed.delete(tag);
          this.retryDelay = RETRY_MS;
        },
        () => {
          this.retryDelay = Math.min(this.retryDelay * 2, 1000);
          this.scheduleRetry();
        },
      );
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  /** Only ever moves forward within an epoch; a new epoch replaces the old one. */
  private learn(next: { readonly epoch: string; readonly seq: number }): void {
    const known = this.known;
    if (!known || known.epoch !== next.epoch || next.seq > known.seq)
      this.known = { epoch: next.epoch, seq: next.seq };
  }

  private emit(what: LocalInvalidation, origin: 'local' | 'channel' = 'channel'): void {
    this.recent.record(what);
    for (const listener of this.listeners) listener(what, origin);
  }

  /** A purge heard on the channel: in order, or the local layer cannot be trusted. */
  private onMessage(message: string): void {
    let purge: { e: string; s: number; t: string[] | Record<string, never> };
    try {
      purge = JSON.parse(message) as typeof purge;
    } catch {
      return this.emit('all');
    }
    // cjson encodes an empty table as {}: a purge of no tags (never sent) is still in order.
    const tags = Array.isArray(purge.t) ? purge.t : [];
    const inOrder =
      this.known?.epoch === purge.e &&
      this.lastMessageSeq !== undefined &&
      purge.s === this.lastMessageSeq + 1;
    this.emit(inOrder && !tags.includes('*') ? tags : 'all');
    this.lastMessageSeq = purge.s;
    this.learn({ epoch: purge.e, seq: purge.s });
  }

  /**
   * Reads the current epoch and sequence (at start and after every reconnect); the local layer
   * starts empty from there.
   */
  private async refresh(): Promise<void> {
    const state = await this.inRedis();
    if (state) {
      this.learn(state);
    } else {
      // No state yet (a fresh Redis): a purge of nothing creates the epoch for everyone.
      await this.bump([]);
    }
    this.lastMessageSeq = this.known?.seq;
    this.emit('all');
  }

  private listen(): void {
    this.subscriber = subscribeToInvalidations(this.redis, this.channel, {
      onMessage: (message) => this.onMessage(message),
      onLost: () => {
        this.subscribed = false;
        this.emit('all');
      },
      onSubscribed: async () => {
        await this.refresh();
        this.subscribed = true;
      },
    });
  }
}
