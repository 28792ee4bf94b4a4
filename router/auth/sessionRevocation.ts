/**
 * "Has this JWT's session been revoked?" — asked of the sessions subgraph
 * (`Query.sessionValidity`, one Cassandra partition read) and cached in Redis.
 *
 * @remarks
 * An active answer is cached for SESSION_CHECK_CACHE_SECONDS (default 5 s) in Redis and for
 * at most 1 s in process: together they bound how long a revoked session keeps working. A revoked or expired answer is final and cached for an
 * hour. Redis is only a cache: when it is slow or down the subgraph is asked directly.
 *
 * When the sessions subgraph itself cannot answer (down, or no complete answer within
 * SUBGRAPH_TIMEOUT_MS): a session this router saw active within the last
 * {@link STALE_IF_UNAVAILABLE_MS} stays accepted (stale-if-error); any other is refused (fail
 * closed). Why: revocations are made through the sessions subgraph, so while it is down
 * nobody can revoke a session, and the last "active" is as true as it was — refusing every
 * signed-in user would turn one subgraph's outage into the whole API's (found by
 * test/faults/subgraph-loss.test.ts). The bound caps what a partition between this router and
 * a still-working sessions subgraph could let through.
 *
 * **Keys, and why they are cluster-safe**: `session-state:<session id>` (under
 * REDIS_KEY_PREFIX), one string per session, read and written by single-key commands only
 * (GET, SET … EX, DEL): on a Redis Cluster each lands on its own slot's master, no hash tag is
 * needed, and reads never go to a replica (`scaleReads: 'master'` in platform/redis/client.ts),
 * which could still answer "active" for a session whose revocation the master already holds.
 */
import { LRUCache } from 'lru-cache';
import { request } from 'undici';
import { signIdentity } from '../../platform/contract/identity.js';
import type { RedisClient } from '../../platform/redis/client.js';

export type SessionState = 'active' | 'revoked' | 'expired' | 'unknown' | 'unavailable';

const QUERY = 'query SessionValidity($id: ID!) { sessionValidity(id: $id) { active reason } }';

/** An active answer is also kept in process this long, saving a Redis round trip per request. */
const LOCAL_ACTIVE_MS = 1000;
/** How long a session last seen active is still accepted while the sessions subgraph is down. */
export const STALE_IF_UNAVAILABLE_MS = 5 * 60_000;

export class SessionRevocationCheck {
  private readonly local = new LRUCache<string, SessionState>({ max: 50_000 });
  /** Sessions confirmed active by the subgraph (or Redis), for stale-if-error. */
  private readonly lastActive = new LRUCache<string, true>({
    max: 100_000,
    ttl: STALE_IF_UNAVAILABLE_MS,
  });

  constructor(
    private readonly options: {
      readonly sessionsUrl: () => string;
      readonly signingSecret: string;
      readonly redis: RedisClient;
      readonly activeTtlSeconds: number;
      readonly timeoutMs: number;
    },
  ) {}

  async state(sessionId: string): Promise<SessionState> {
    const local = this.local.get(sessionId);
    if (local) return local;
    const key = `session-state:${sessionId}`;
    const cached = (await this.options.redis.get(key).catch(() => null)) as SessionState | null;
    if (cached) {
      // Another instance may have stored it up to its full TTL ago: keep it only briefly.
      this.remember(sessionId, cached, 250);
      return cached;
    }
    const state = await this.ask(sessionId);
    if (state === 'unavailable') return this.lastActive.has(sessionId) ? 'active' : state;
    this.remember(sessionId, state, LOCAL_ACTIVE_MS);
    if (state !== 'active' || this.options.activeTtlSeconds > 0) {
      const ttl = state === 'active' ? this.options.activeTtlSeconds : 3600;
      await this.options.redis.set(key, state, 'EX', ttl).catch(() => undefined);
    }
    return state;
  }

  private remember(sessionId: string, state: SessionState, activeMs: number): void {
    if (state === 'unavailable') return;
    if (state === 'active') this.lastActive.set(sessionId, true);
    else this.lastActive.delete(sessionId);
    const ttl =
      state === 'active' ? Math.min(activeMs, this.options.activeTtlSeconds * 1000) : 3_600_000;
    if (ttl > 0) this.local.set(sessionId, state, { ttl });
  }

  /** Forgets a cached answer (after a revocation through this router). */
  async forget(sessionId: string): Promise<void> {
    this.local.delete(sessionId);
    this.lastActive.delete(sessionId);
    await this.options.redis.del(`session-state:${sessionId}`).catch(() => undefined);
  }

  private async ask(sessionId: string): Promise<SessionState> {
    try {
      const response = await request(this.options.sessionsUrl(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signIdentity({ kind: 'service', service: 'router' }, this.options.signingSecret),
        },
        body: JSON.stringify({ query: QUERY, variables: { id: sessionId } }),
        // A deadline on the whole answer: header and body timeouts alone let a subgraph that
        // drips its body hold authentication for as long as it drips.
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const body = (await response.body.json()) as {
        data?: { sessionValidity?: { active: boolean; reason: string | null } };
      };
      const validity = body.data?.sessionValidity;
      if (!validity) return 'unavailable';
      if (validity.active) return 'active';
      return validity.reason === 'revoked' || validity.reason === 'expired'
        ? validity.reason
        : 'unknown';
    } catch {
      return 'unavailable';
    }
  }
}
