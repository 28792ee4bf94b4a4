/**
 * Where identity is checked: turns a request's credentials into the Identity that is signed
 * and forwarded to subgraphs.
 *
 * - `Authorization: Bearer <jwt>`: a user; its session (claim `sid`) must not be revoked, and a
 *   token without a session (e.g. from an external identity provider) must have been issued
 *   (`iat`) after the user's last "sign out everywhere" (sessionRevocation.ts).
 * - `X-Api-Key: fgk_…` (or `Authorization: ApiKey fgk_…`): a partner key.
 * - nothing: the anonymous identity, if ROUTER_ALLOW_ANONYMOUS.
 * Any presented credential that fails is UNAUTHENTICATED — never silently downgraded to anonymous.
 * Failures are counted per client address (failureLimit.ts): past the limit, credentials from
 * that address are refused with `retryAfterSeconds` (429) before any of the checks above.
 */
import { ANONYMOUS, type Identity } from '../../platform/contract/identity.js';
import type { ApiKeyStore } from './apiKeys.js';
import type { AuthFailureLimiter } from './failureLimit.js';
import type { JwtVerifier, UserIdentity } from './jwt.js';
import type { SessionRevocationCheck } from './sessionRevocation.js';

export type Authentication =
  | {
      readonly ok: true;
      readonly identity: Identity;
      readonly rateSubject: string;
      readonly rateClass: string;
      readonly requireTrustedDocuments: boolean;
    }
  | {
      readonly ok: false;
      readonly message: string;
      /** Set when the address is over its failed-authentication limit: answer 429. */
      readonly retryAfterSeconds?: number;
      /** The failure is ours (a check could not be made), not the caller's: not counted. */
      readonly retryable?: true;
    };

function ourFailure(message: string): Authentication {
  return { ok: false, message, retryable: true };
}

export class Authenticator {
  constructor(
    private readonly deps: {
      readonly jwt: JwtVerifier;
      readonly apiKeys: ApiKeyStore;
      readonly sessions: SessionRevocationCheck;
      readonly allowAnonymous: boolean;
      readonly failures?: AuthFailureLimiter;
    },
  ) {}

  async authenticate(
    headers: { get(name: string): string | undefined },
    clientAddress: string,
  ): Promise<Authentication> {
    const { failures } = this.deps;
    const presented = Boolean(headers.get('authorization') || headers.get('x-api-key'));
    if (!presented || !failures) return this.check(headers, clientAddress);
    const retryAfterSeconds = failures.retryAfterSeconds(clientAddress);
    if (retryAfterSeconds > 0)
      return {
        ok: false,
        message: `Too many failed authentication attempts from this address; retry after ${retryAfterSeconds}s`,
        retryAfterSeconds,
      };
    const result = await this.check(headers, clientAddress);
    if (!result.ok && !result.retryable) failures.recordFailure(clientAddress);
    return result;
  }

  /**
   * The same checks without the failed-authentication limit: for credentials accepted before
   * and checked again while they are in use (a subscription's periodic re-check,
   * router/subscriptions/), whose refusal is a revocation, not a guess to be counted.
   */
  async check(
    headers: { get(name: string): string | undefined },
    clientAddress: string,
  ): Promise<Authentication> {
    const authorization = headers.get('authorization')?.trim();
    const apiKey =
      headers.get('x-api-key')?.trim() ??
      (authorization?.startsWith('ApiKey ') ? authorization.slice(7).trim() : undefined);
    if (apiKey) {
      const key = await this.deps.apiKeys.authenticate(apiKey);
      if (key instanceof Error) return { ok: false, message: key.message };
      return {
        ok: true,
        identity: key.identity,
        rateSubject: `key:${key.identity.apiKeyId}`,
        rateClass: key.rateClass,
        requireTrustedDocuments: key.requireTrustedDocuments,
      };
    }
    if (authorization) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!bearer)
        return {
          ok: false,
          message: 'The Authorization header must be "Bearer <token>" or "ApiKey <key>"',
        };
      let identity;
      try {
        identity = await this.deps.jwt.verify(bearer[1]!);
      } catch (error) {
        return { ok: false, message: (error as Error).message };
      }
      const refused = await this.revoked(identity, bearer[1]!);
      if (refused) return refused;
      return {
        ok: true,
        identity,
        rateSubject: `user:${identity.userId}`,
        rateClass: 'user',
        requireTrustedDocuments: false,
      };
    }
    if (!this.deps.allowAnonymous) return { ok: false, message: 'Authentication is required' };
    return {
      ok: true,
      identity: ANONYMOUS,
      rateSubject: `anon:${clientAddress}`,
      rateClass: 'anonymous',
      requireTrustedDocuments: false,
    };
  }

  /** Why a verified token may no longer be used, or undefined when it may. */
  private async revoked(
    identity: UserIdentity,
    token: string,
  ): Promise<Authentication | undefined> {
    const { sessions } = this.deps;
    if (identity.sessionId) {
      const state = await sessions.state(identity.sessionId);
      if (state === 'unavailable') return ourFailure('The session could not be checked; try again');
      if (state === 'active') return undefined;
      return {
        ok: false,
        message: `The session has been ${state === 'unknown' ? 'ended' : state}`,
      };
    }
    // No session to revoke: the user's "tokens issued before" mark decides, by the token's iat.
    const issuedAt = issuedAtOf(token);
    if (issuedAt === undefined)
      return {
        ok: false,
        message: 'A token without a session (sid) must carry its issue time (iat)',
      };
    const state = await sessions.tokenState(identity.userId, identity.organizationId, issuedAt);
    if (state === 'unavailable') return ourFailure('The token could not be checked; try again');
    return state === 'active'
      ? undefined
      : { ok: false, message: "The token has been revoked (the user's sessions were ended)" };
  }
}

/**
 * The `iat` claim (seconds) of a token whose signature was verified, or undefined. Read here
 * rather than by the verifier: only tokens without a session need it.
 */
function issuedAtOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { iat?: unknown };
    return typeof payload.iat === 'number' && Number.isFinite(payload.iat)
      ? payload.iat
      : undefined;
  } catch {
    return undefined;
  }
}
