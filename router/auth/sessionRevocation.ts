/**
 * "Has this JWT's session been revoked?" — asked of the sessions subgraph
 * (`Query.sessionValidity`, one Cassandra partition read; the sessions of concurrent requests
 * asked together, sessionsFieldBatch.ts) and cached in Redis. Tokens without a
 * session are checked against the user's "signed out everywhere" mark instead (tokenCutoffs.ts).
 *
 * @remarks
 * An active answer is cached for SESSION_CHECK_CACHE_SECONDS (default 5 s) in Redis and for
 * at most 1 s in process: together they bound how long a revoked session keeps working, and
 * a revocation through any router shortens that to the time its purge takes to be heard
 * ({@link SessionRevocationCheck.invalidate}). A revoked or expired answer is final and cached
 * for an hour. An "unknown" one is not final — the session may be created right after it was
 * asked about (a sign-in's token used before its startSession landed, a read that missed a
 * fresh write) — so it is kept only {@link UNKNOWN_TTL_SECONDS}: long enough to absorb a
 * client retrying with a dead session, short enough that a new session is usable almost at
 * once (before, an hour). Redis is only a cache: when it is slow or down the subgraph is asked
 * directly.
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
import type { RedisClient } from '../../platform/redis/client.js';
import type { SessionsSubgraph } from './sessionsQuery.js';
import { SessionsFieldBatch } from './sessionsFieldBatch.js';
import { TokenCutoffs, type TokenState } from './tokenCutoffs.js';

export type SessionState = 'active' | 'revoked' | 'expired' | 'unknown' | 'unavailable';

/** An active answer is also kept in process this long, saving a Redis round trip per request. */
const LOCAL_ACTIVE_MS = 1000;
/** How long a final answer (revoked, expired) is kept, in Redis and in process. */
const FINAL_TTL_SECONDS = 3600;
/** How long an "unknown session" answer is kept, in Redis and in process (not final). */
export const UNKNOWN_TTL_SECONDS = 2;
/** How long a session last seen active is still accepted while the sessions subgraph is down. */
export const STALE_IF_UNAVAILABLE_MS = 5 * 60_000;

export class SessionRevocationCheck {
  private readonly local = new LRUCache<string, SessionState>({ max: 50_000 });
  /** Sessions confirmed active by the subgraph (or Redis), for stale-if-error. */
  private readonly lastActive = new LRUCache<string, true>({
    max: 100_000,
    ttl: STALE_IF_UNAVAILABLE_MS,
  });

  private readonly cutoffs: TokenCutoffs;
  private readonly subgraph: SessionsSubgraph;
  /** `sessionValidity`, asked for the sessions of concurrent requests together. */
  private readonly validities: SessionsFieldBatch<
    { id: string },
    { active: boolean; reason: string | null }
  >;

  constructor(
    private readonly options: {
      readonly sessionsUrl: () => string;
      readonly signingSecret: string;
      readonly redis: RedisClient;
      readonly activeTtlSeconds: number;
      readonly timeoutMs: number;
    },
  ) {
    const { sessionsUrl: url, signingSecret, timeoutMs, redis, activeTtlSeconds } = options;
    this.subgraph = { url, signingSecret, timeoutMs };
    this.validities = new SessionsFieldBatch(this.subgraph, {
      operationName: 'SessionValidity',
      field: 'sessionValidity',
      argumentNames: ['id'],
      selection: '{ active reason }',
    });
    this.cutoffs = new TokenCutoffs({
      subgraph: this.subgraph,
      redis,
      ttlSeconds: activeTtlSeconds,
      staleIfUnavailableMs: STALE_IF_UNAVAILABLE_MS,
    });
  }

  /** For a token without a session: whether it was issued (`iat`, s) after the user's mark. */
  tokenState(userId: string, organizationId: string, issuedAt: number): Promise<TokenState> {
    return this.cutoffs.state(userId, organizationId, issuedAt);
  }

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
    const ttl = this.ttlSecondsOf(state);
    if (ttl > 0) await this.options.redis.set(key, state, 'EX', ttl).catch(() => undefined);
    return state;
  }

  private ttlSecondsOf(state: SessionState): number {
    if (state === 'active') return this.options.activeTtlSeconds;
    return state === 'unknown' ? UNKNOWN_TTL_SECONDS : FINAL_TTL_SECONDS;
  }

  private remember(sessionId: string, state: SessionState, activeMs: number): void {
    if (state === 'unavailable') return;
    if (state === 'active') this.lastActive.set(sessionId, true);
    else this.lastActive.delete(sessionId);
    // Only a final answer is kept longer in process than `activeMs`.
    const final = state === 'revoked' || state === 'expired';
    const ttl = final
      ? FINAL_TTL_SECONDS * 1000
      : Math.min(activeMs, this.ttlSecondsOf(state) * 1000);
    if (ttl > 0) this.local.set(sessionId, state, { ttl });
  }

  /**
   * Forgets a cached answer: in process, and in Redis when `shared` (by the router that made
   * the write; the others heard it on the invalidation channel and clear only their own).
   */
  async forget(sessionId: string, shared = true): Promise<void> {
    this.local.delete(sessionId);
    this.lastActive.delete(sessionId);
    if (shared) await this.options.redis.del(`session-state:${sessionId}`).catch(() => undefined);
  }

  /**
   * Told every entity tag a mutation wrote, by any router (cache/tagVersions.ts: at once for
   * this router's own writes, `origin` 'local'; through Redis for the others', 'channel'):
   * a written session (`Session:<id>`: started, touched, revoked) or user (`User:<id>`: e.g.
   * revokeAllSessions, which also moves the user's token mark) is asked about afresh.
   * 'all' (a purge of everything, or messages possibly lost) clears the in-process answers.
   */
  invalidate(what: readonly string[] | 'all', origin: 'local' | 'channel'): void {
    if (what === 'all') {
      this.local.clear();
      this.cutoffs.clearLocal();
      return;
    }
    const shared = origin === 'local';
    for (const tag of what) {
      if (tag.startsWith('Session:')) void this.forget(tag.slice(8), shared);
      else if (tag.startsWith('User:')) void this.cutoffs.forget(tag.slice(5), shared);
    }
  }

  private async ask(sessionId: string): Promise<SessionState> {
    const validity = (await this.validities.ask({ id: sessionId }))?.value;
    if (!validity) return 'unavailable';
    if (validity.active) return 'active';
    return validity.reason === 'revoked' || validity.reason === 'expired'
      ? validity.reason
      : 'unknown';
  }
}
