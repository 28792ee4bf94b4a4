/**
 * "Has this JWT's session been revoked?" — asked of the sessions subgraph
 * (`Query.sessionValidity`, one Cassandra partition read) and cached in Redis.
 *
 * @remarks
 * An active answer is cached for SESSION_CHECK_CACHE_SECONDS (default 5 s) in Redis and for
 * at most 1 s in process: together they bound how long a revoked session keeps working. A revoked or expired answer is final and cached for an
 * hour. Redis is only a cache: when it is slow or down the subgraph is asked directly. When the
 * sessions subgraph itself cannot answer, the request is refused (fail closed): accepting a
 * possibly revoked session is the worse failure.
 */
import { LRUCache } from 'lru-cache';
import { request } from 'undici';
import { signIdentity } from '../../subgraphs/shared/identity.js';
import type { RedisClient } from '../../subgraphs/shared/redis/client.js';

export type SessionState = 'active' | 'revoked' | 'expired' | 'unknown' | 'unavailable';

const QUERY = 'query SessionValidity($id: ID!) { sessionValidity(id: $id) { active reason } }';

/** An active answer is also kept in process this long, saving a Redis round trip per request. */
const LOCAL_ACTIVE_MS = 1000;

export class SessionRevocationCheck {
  private readonly local = new LRUCache<string, SessionState>({ max: 50_000 });

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
    this.remember(sessionId, state, LOCAL_ACTIVE_MS);
    if (state !== 'unavailable' && (state !== 'active' || this.options.activeTtlSeconds > 0)) {
      const ttl = state === 'active' ? this.options.activeTtlSeconds : 3600;
      await this.options.redis.set(key, state, 'EX', ttl).catch(() => undefined);
    }
    return state;
  }

  private remember(sessionId: string, state: SessionState, activeMs: number): void {
    if (state === 'unavailable') return;
    const ttl =
      state === 'active' ? Math.min(activeMs, this.options.activeTtlSeconds * 1000) : 3_600_000;
    if (ttl > 0) this.local.set(sessionId, state, { ttl });
  }

  /** Forgets a cached answer (after a revocation through this router). */
  async forget(sessionId: string): Promise<void> {
    this.local.delete(sessionId);
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
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
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
