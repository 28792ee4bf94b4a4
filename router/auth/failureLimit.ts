/**
 * Failed authentication, limited per client address: after `limit` failures within a one-minute
 * window, an address presenting credentials is answered 429 RATE_LIMITED (with Retry-After)
 * until the window ends — before any JWT is verified, session checked or API key looked up in
 * Cassandra.
 *
 * @remarks
 * Why: the per-caller limits (rateLimit.ts) apply only once a caller is known, so before this a
 * client could try random API keys (a Cassandra read each) or tokens as fast as it could send
 * them (security issue 16).
 *
 * The decision is local and synchronous, so no request waits on Redis: a failure is counted in
 * process at once and added to the address's shared count in Redis (`authfail:<address>:
 * <window>`, INCR + EXPIRE on one key: cluster-safe) in the background; the reply teaches this
 * instance what every instance counted. An address failing on N instances is stopped after
 * the limit plus at most one failure per instance. **Redis down**: fail open to the in-process
 * counts — each instance still stops an address after `limit` of its own failures — never
 * closed (a cache outage must not lock everybody out). The in-process counts are an LRU of
 * {@link MAX_TRACKED_ADDRESSES}: memory stays bounded however many addresses fail.
 *
 * Addresses: IPv4 as is (an IPv4-mapped IPv6 address is its IPv4 address); IPv6 by its /64,
 * which one host is usually given whole. Behind a proxy the socket address is the proxy's —
 * the limit then applies to everybody behind it, and would need the proxy's client address.
 */
import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { RedisClient } from '../../platform/redis/client.js';

const WINDOW_MS = 60_000;
/** Addresses whose failures are counted in process at once. */
export const MAX_TRACKED_ADDRESSES = 100_000;

interface FailureCount {
  readonly window: number;
  count: number;
}

export class AuthFailureLimiter {
  private readonly counts = new LRUCache<string, FailureCount>({ max: MAX_TRACKED_ADDRESSES });

  constructor(
    private readonly redis: RedisClient,
    /** Failures allowed per address and minute. */
    private readonly limit: number,
    /** Told when a failure could not be shared (Redis unreachable). */
    private readonly onBypass: () => void = () => undefined,
  ) {}

  /** 0 when `address` may present credentials now, else the seconds until it may again. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const window = Math.floor(now / WINDOW_MS);
    const count = this.counts.get(subjectOf(address));
    if (!count || count.window !== window || count.count < this.limit) return 0;
    return Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
  }

  /** Counts a failed authentication from `address` (here at once, in Redis shortly). */
  recordFailure(address: string, now = Date.now()): void {
    const subject = subjectOf(address);
    const window = Math.floor(now / WINDOW_MS);
    let count = this.counts.get(subject);
    if (!count || count.window !== window) {
      count = { window, count: 0 };
      this.counts.set(subject, count);
    }
    count.count += 1;
    if (this.redis.status !== 'ready') return this.onBypass();
    const key = `authfail:${subject}:${window}`;
    const shared = count;
    this.redis
      .pipeline()
      .incr(key)
      .expire(key, 61)
      .exec()
      .then((replies) => {
        const [error, value] = replies?.[0] ?? [new Error('no reply'), null];
        if (error) return this.onBypass();
        shared.count = Math.max(shared.count, Number(value));
      })
      .catch(() => this.onBypass());
  }
}

/** The unit an address is counted under: IPv4 as is, IPv6 by its /64. */
export function subjectOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
