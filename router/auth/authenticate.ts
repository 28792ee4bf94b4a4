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
 *
 * **Deferred revocation** (`deferRevocation`, the GraphQL request path only): a token whose
 * signature verified is accepted at once with its revocation check still running
 * (`revocation`), so that the request's cache lookup, or its wait for another request's
 * execution, overlaps the check instead of following it. The check decides before anything is
 * sent or executed: the pipeline awaits it before answering from the cache or from a shared
 * execution, and before admitting an execution of its own (pipeline/authenticate.ts,
 * `confirmNotRevokedStage`). Why: a caller the router has not seen yet (a new session, a sign-in
 * wave, every request of the benchmarks) waits for a round trip to the sessions subgraph, and
 * with the check in front that round trip was added to every such read (docs/authorization.md).
 * Subscriptions and the other callers of {@link Authenticator.check} wait for the whole check.
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
      /** Only with `deferRevocation`: the token's revocation check, still running. */
      readonly revocation?: PendingRevocation;
    }
  | {
      readonly ok: false;
      readonly message: string;
      /** Set when the address is over its failed-authentication limit: answer 429. */
      readonly retryAfterSeconds?: number;
      /** The failure is ours (a check could not be made), not the caller's: not counted. */
      readonly retryable?: true;
    };

export type Refusal = Extract<Authentication, { ok: false }>;
export type Accepted = Extract<Authentication, { ok: true }>;

/** Accepted with its revocation check still running: it settles to a refusal or undefined. */
export type PendingRevocation = Promise<Refusal | undefined>;

export interface AuthenticateOptions {
  /** Return as soon as the credential verifies; the revocation check settles `revocation`. */
  readonly deferRevocation?: boolean;
}

function ourFailure(message: string): Refusal {
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

  /**
   * The caller's identity, or why not. With `deferRevocation`, an accepted token may carry its
   * revocation check still running (`revocation`, never rejecting); its refusal counts as a
   * failed authentication of the address like any other.
   */
  async authenticate(
    headers: { get(name: string): string | undefined },
    clientAddress: string,
    options: AuthenticateOptions = {},
  ): Promise<Authentication> {
    const { failures } = this.deps;
    const presented = Boolean(headers.get('authorization') || headers.get('x-api-key'));
    if (!presented || !failures) return this.check(headers, clientAddress, options);
    const retryAfterSeconds = failures.retryAfterSeconds(clientAddress);
    if (retryAfterSeconds > 0)
      return {
        ok: false,
        message: `Too many failed authentication attempts from this address; retry after ${retryAfterSeconds}s`,
        retryAfterSeconds,
      };
    const result = await this.check(headers, clientAddress, options);
    if (!result.ok) {
      if (!result.retryable) failures.recordFailure(clientAddress);
      return result;
    }
    if (!result.revocation) return result;
    const revocation = result.revocation.then((refusal) => {
      if (refusal && !refusal.retryable) failures.recordFailure(clientAddress);
      return refusal;
    });
    return { ...result, revocation };
  }

  /**
   * The same checks without the failed-authentication limit: for credentials accepted before
   * and checked again while they are in use (a subscription's periodic re-check,
   * router/subscriptions/), whose refusal is a revocation, not a guess to be counted.
   */
  async check(
    headers: { get(name: string): string | undefined },
    clientAddress: string,
    options: AuthenticateOptions = {},
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
      // Never rejects: a check that throws is a check that could not be made (fail closed).
      const revocation = this.revoked(identity, bearer[1]!).catch(() =>
        ourFailure('The session could not be checked; try again'),
      );
      const accepted: Accepted = {
        ok: true,
        identity,
        rateSubject: `user:${identity.userId}`,
        rateClass: 'user',
        requireTrustedDocuments: false,
      };
      if (options.deferRevocation) return { ...accepted, revocation };
      return (await revocation) ?? accepted;
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
  private async revoked(identity: UserIdentity, token: string): Promise<Refusal | undefined> {
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
