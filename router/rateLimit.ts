/**
 * Rate limiting per API key and per user: fixed one-minute windows with limits by class
 * (RATE_LIMITS), counted in process and shared between router instances through Redis.
 *
 * @remarks
 * Each instance decides locally, without waiting for Redis: a request is allowed while
 *   (the window's count last read from Redis — every instance's requests)
 *   + (this instance's requests not yet sent to Redis) ≤ the limit.
 * Increments are sent in the background, one pipeline per {@link FLUSH_INTERVAL_MS} for all
 * subjects (INCRBY + EXPIRE each), and the replies refresh the shared counts.
 *
 * Why not one INCR round trip per request (the first version): it put Redis on every request's
 * path, cache hits included, and cost a MULTI/EXEC per request in the router's CPU profile.
 * What it costs: with N instances a subject can overshoot by what the other instances admit
 * within one flush interval (a fraction of a second of its traffic); within one instance the
 * count is exact. Fixed windows also allow up to twice the limit across a window edge; both
 * are accepted for the cost.
 *
 * **Redis down** (decision): neither fail open nor closed — degrade to per-instance limits.
 * The local counts keep applying, so each instance still enforces the full limit by itself
 * (N instances admit at most N × the limit), and unsent increments are kept and sent once
 * Redis is back. Failing closed would turn a cache outage into an API outage; failing open
 * would lift every partner's limit for as long as Redis is down. Requests decided while Redis
 * is unreachable — the connection is not ready, or flushes have failed for
 * {@link SHARED_COUNTS_STALE_MS} — are counted as bypasses
 * (fleetgraph_router_redis_bypass_total{purpose="rate_limit"}).
 *
 * **Keys, and why they are cluster-safe**: one string per subject and window,
 * `rl:<subject>:<window>` (under REDIS_KEY_PREFIX), touched only by single-key commands (INCRBY,
 * EXPIRE); nothing multi-key, no MULTI/EXEC, no script — so no hash tag, and the subjects spread
 * over every master. A flush's pipeline is not atomic and need not be, but ioredis refuses a
 * Cluster pipeline whose keys are served by different nodes: the subjects are grouped by node
 * ({@link pipelineGroupOf}) and one pipeline per node is sent, all at once — still one round trip
 * per flush. With one Redis there is one group. While part of a cluster is unreachable, the
 * subjects it serves keep their increments pending (per-instance decisions for them); the others
 * are shared as usual.
 */
import { pipelineGroupOf, type RedisClient } from '../platform/redis/client.js';

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfterSeconds: number;
  /** True when the decision could not take other instances into account (Redis unreachable). */
  readonly bypassed: boolean;
}

/** How often local increments are sent to Redis (and other instances' counts learned). */
export const FLUSH_INTERVAL_MS = 100;
const WINDOW_MS = 60_000;
/** Subjects per flush pipeline. */
const FLUSH_CHUNK = 250;
/**
 * How long flushes may keep failing on a ready connection before decisions count as per
 * instance. One flush slower than the command timeout on a loaded machine leaves the shared
 * counts 200 ms old instead of 100 ms — not an outage; a second of failures is.
 */
const SHARED_COUNTS_STALE_MS = 1_000;

interface WindowCount {
  readonly window: number;
  /** The window's count in Redis at the last flush (all instances), including what we sent. */
  shared: number;
  /** This instance's requests in the window not yet added to Redis. */
  pending: number;
  /** Whether this instance has already set the key's expiry (once per key and window). */
  expirySent: boolean;
}

export class RateLimiter {
  private readonly counts = new Map<string, WindowCount>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  /** When flushes started failing (undefined while they succeed). */
  private failingSince: number | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly limits: Readonly<Record<string, number>>,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
    // Back from an outage: share the counts now rather than at the next tick.
    this.redis.on('ready', this.flushOnReady);
  }

  check(subject: string, rateClass: string, now = Date.now()): RateDecision {
    const limit = this.limits[rateClass] ?? this.limits['user'] ?? 600;
    const window = Math.floor(now / WINDOW_MS);
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
    let count = this.counts.get(subject);
    if (!count || count.window !== window) {
      // A new window (the previous one's unsent increments no longer matter to anyone).
      count = { window, shared: 0, pending: 0, expirySent: false };
      this.counts.set(subject, count);
    }
    // Refused requests count too, as with the INCR before: a client hammering past its limit
    // stays limited.
    count.pending += 1;
    const used = count.shared + count.pending;
    return {
      allowed: used <= limit,
      limit,
      remaining: Math.max(0, limit - used),
      retryAfterSeconds,
      bypassed:
        this.redis.status !== 'ready' ||
        (this.failingSince !== undefined && now - this.failingSince >= SHARED_COUNTS_STALE_MS),
    };
  }

  /** Sends the pending increments (one pipeline) and learns the shared counts. */
  flush(now = Date.now()): Promise<void> {
    this.flushing ??= this.sendPending(now).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private readonly flushOnReady = () => void this.flush();

  /** Stops the background flushes after a last one. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.redis.off('ready', this.flushOnReady);
    await this.flush().catch(() => undefined);
  }

  private async sendPending(now: number): Promise<void> {
    const current = Math.floor(now / WINDOW_MS);
    const batch: Pending[] = [];
    for (const [subject, count] of this.counts) {
      if (count.window < current) this.counts.delete(subject);
      else if (count.pending > 0)
        batch.push({ key: `rl:${subject}:${count.window}`, count, sent: count.pending });
    }
    if (batch.length === 0) return;
    if (this.redis.status !== 'ready') {
      this.failingSince ??= now;
      return;
    }
    // One pipeline per node (a Cluster's; one Redis is one group), the nodes at once. Within a
    // node, in chunks: after an outage every subject of the window is pending at once, and one
    // pipeline of thousands of commands could outlast the command timeout as a whole.
    const groupOf = pipelineGroupOf(this.redis);
    const byNode = new Map<string, Pending[]>();
    for (const entry of batch) {
      const group = groupOf(entry.key);
      const list = byNode.get(group);
      if (list) list.push(entry);
      else byNode.set(group, [entry]);
    }
    const answered = await Promise.all(
      [...byNode.values()].map(async (entries) => {
        let any = false;
        for (let start = 0; start < entries.length; start += FLUSH_CHUNK)
          if (await this.sendChunk(entries.slice(start, start + FLUSH_CHUNK))) any = true;
        return any;
      }),
    );
    if (!answered.includes(true)) this.failingSince ??= now;
  }

  /** One pipeline (keys of one node); true when Redis answered for at least one subject. */
  private async sendChunk(chunk: readonly Pending[]): Promise<boolean> {
    const pipeline = this.redis.pipeline();
    // The INCRBY's reply index per subject: EXPIRE goes only with a key's first increment
    // of the window (a key without it would outlive its window; one that has it keeps it).
    const replyAt: number[] = [];
    let commands = 0;
    for (const { key, count, sent } of chunk) {
      replyAt.push(commands);
      pipeline.incrby(key, sent);
      commands += 1;
      if (!count.expirySent) {
        pipeline.expire(key, 61);
        commands += 1;
      }
    }
    let anyAnswered = false;
    try {
      const replies = await pipeline.exec();
      const recreated: string[] = [];
      for (const [i, { key, count, sent }] of chunk.entries()) {
        const [error, value] = replies?.[replyAt[i]!] ?? [new Error('no reply'), null];
        if (error) continue; // stays pending, sent next time
        if (count.expirySent) {
          // A key that holds only what was just sent was created by this INCRBY (Redis lost
          // it, e.g. restarted empty): it needs its expiry again.
          if (Number(value) === sent) recreated.push(key);
        } else {
          const expiry = replies?.[replyAt[i]! + 1];
          if (expiry && !expiry[0]) count.expirySent = true;
        }
        count.pending -= sent;
        count.shared = Math.max(count.shared, Number(value));
        anyAnswered = true;
        // Reachable again as soon as one chunk is answered (after an outage, the remaining
        // chunks of the backlog may take a while).
        this.failingSince = undefined;
      }
      if (recreated.length > 0) {
        // The same node's keys: one pipeline is accepted by a Cluster too.
        const expiries = this.redis.pipeline();
        for (const key of recreated) expiries.expire(key, 61);
        await expiries.exec();
      }
    } catch {
      // Timed out or disconnected: the increments stay pending and are sent next time (an
      // increment that did reach Redis may then count twice — the safe direction).
    }
    return anyAnswered;
  }
}

interface Pending {
  readonly key: string;
  readonly count: WindowCount;
  /** The pending increments this flush sends (more may arrive while it is under way). */
  readonly sent: number;
}
