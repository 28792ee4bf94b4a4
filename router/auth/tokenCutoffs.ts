/**
 * Revocation of tokens that carry no session (`sid`), typically from an external identity
 * provider: the sessions subgraph keeps, per user and organization, the instant the user was
 * signed out everywhere (`Query.tokensRevokedBefore`, written by `revokeAllSessions`); a token
 * issued (`iat`) at or before it is revoked.
 *
 * @remarks
 * Why a per-user mark rather than a list of revoked tokens: such tokens have no id we issued
 * (`jti` is optional and the provider's), and "sign out everywhere" is the revocation users and
 * admins actually ask for; one row per user who ever did, read once per user and
 * SESSION_CHECK_CACHE_SECONDS. `iat` has a one-second grain, so a token issued within the same
 * second as the mark counts as before it (refused: the safe side).
 *
 * Cached like an active session (sessionRevocation.ts): in Redis for SESSION_CHECK_CACHE_SECONDS
 * under `token-cutoff:<user id>` (one string, single-key commands: cluster-safe), in process
 * for at most 1 s; both are forgotten when this router hears a write to the user
 * ({@link TokenCutoffs.forget}). Asked for the users of concurrent requests together
 * (sessionsFieldBatch.ts). A mark only moves forward, so a stale copy can only let a
 * token through late, never refuse one wrongly. When the subgraph cannot answer, the mark this
 * router last learned within STALE_IF_UNAVAILABLE_MS still applies; without one, fail closed.
 */
import { LRUCache } from 'lru-cache';
import type { RedisClient } from '../../platform/redis/client.js';
import { SessionsFieldBatch } from './sessionsFieldBatch.js';
import type { SessionsSubgraph } from './sessionsQuery.js';

export type TokenState = 'active' | 'revoked' | 'unavailable';

/** A user's mark in one organization: ms since epoch, 0 when never signed out everywhere. */
interface Cutoff {
  readonly organizationId: string;
  readonly before: number;
}

const LOCAL_MS = 1000;

export class TokenCutoffs {
  private readonly local = new LRUCache<string, Cutoff>({ max: 50_000 });
  private readonly lastKnown: LRUCache<string, Cutoff>;
  /** `tokensRevokedBefore`, asked for the users of concurrent requests together. */
  private readonly marks: SessionsFieldBatch<{ userId: string; organizationId: string }, string>;

  constructor(
    private readonly options: {
      readonly subgraph: SessionsSubgraph;
      readonly redis: RedisClient;
      readonly ttlSeconds: number;
      readonly staleIfUnavailableMs: number;
    },
  ) {
    this.lastKnown = new LRUCache({ max: 100_000, ttl: options.staleIfUnavailableMs });
    this.marks = new SessionsFieldBatch(options.subgraph, {
      operationName: 'TokensRevokedBefore',
      field: 'tokensRevokedBefore',
      argumentNames: ['userId', 'organizationId'],
      selection: '',
    });
  }

  /** Whether a token of this user and organization issued at `issuedAt` (s) may be used. */
  async state(userId: string, organizationId: string, issuedAt: number): Promise<TokenState> {
    const before = await this.cutoffOf(userId, organizationId);
    if (before === undefined) return 'unavailable';
    return issuedAt * 1000 <= before ? 'revoked' : 'active';
  }

  /**
   * Forgets the user's cached mark: here, and in Redis when `shared`. The last known one too: a
   * write to the user may have moved it (revokeAllSessions), and applying the old one while the
   * subgraph cannot answer would let the tokens just revoked through (as sessionRevocation.ts
   * drops a session's last "active" on a write to it).
   */
  async forget(userId: string, shared: boolean): Promise<void> {
    this.local.delete(userId);
    this.lastKnown.delete(userId);
    if (shared) await this.options.redis.del(`token-cutoff:${userId}`).catch(() => undefined);
  }

  /** Forgets every mark held in process (Redis copies expire on their own). */
  clearLocal(): void {
    this.local.clear();
  }

  private async cutoffOf(userId: string, organizationId: string): Promise<number | undefined> {
    const { redis, ttlSeconds } = this.options;
    const local = this.local.get(userId);
    if (local?.organizationId === organizationId) return local.before;
    const key = `token-cutoff:${userId}`;
    const cached = parse(await redis.get(key).catch(() => null));
    if (cached?.organizationId === organizationId) {
      this.remember(userId, cached, 250);
      return cached.before;
    }
    // No answer includes a field error: its null is not "never signed out" (sessionsFieldBatch.ts).
    const answer = await this.marks.ask({ userId, organizationId });
    if (!answer) {
      const known = this.lastKnown.get(userId);
      return known?.organizationId === organizationId ? known.before : undefined;
    }
    const before = answer.value ? Date.parse(answer.value) : 0;
    if (!Number.isFinite(before)) return undefined;
    const cutoff = { organizationId, before };
    this.remember(userId, cutoff, LOCAL_MS);
    if (ttlSeconds > 0)
      await redis
        .set(key, `${organizationId}=${cutoff.before}`, 'EX', ttlSeconds)
        .catch(() => undefined);
    return cutoff.before;
  }

  private remember(userId: string, cutoff: Cutoff, ms: number): void {
    this.lastKnown.set(userId, cutoff);
    const ttl = Math.min(ms, this.options.ttlSeconds * 1000);
    if (ttl > 0) this.local.set(userId, cutoff, { ttl });
  }
}

function parse(value: string | null): Cutoff | undefined {
  const match = value ? /^([\w-]+)=(\d+)$/.exec(value) : null;
  return match ? { organizationId: match[1]!, before: Number(match[2]) } : undefined;
}
