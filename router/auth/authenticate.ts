/**
 * Where identity is checked: turns a request's credentials into the Identity that is signed
 * and forwarded to subgraphs.
 *
 * - `Authorization: Bearer <jwt>`: a user; its session (claim `sid`) must not be revoked.
 * - `X-Api-Key: fgk_…` (or `Authorization: ApiKey fgk_…`): a partner key.
 * - nothing: the anonymous identity, if ROUTER_ALLOW_ANONYMOUS.
 * Any presented credential that fails is UNAUTHENTICATED — never silently downgraded to anonymous.
 */
import { ANONYMOUS, type Identity } from '../../platform/contract/identity.js';
import type { ApiKeyStore } from './apiKeys.js';
import type { JwtVerifier } from './jwt.js';
import type { SessionRevocationCheck } from './sessionRevocation.js';

export type Authentication =
  | {
      readonly ok: true;
      readonly identity: Identity;
      readonly rateSubject: string;
      readonly rateClass: string;
      readonly requireTrustedDocuments: boolean;
    }
  | { readonly ok: false; readonly message: string };

export class Authenticator {
  constructor(
    private readonly deps: {
      readonly jwt: JwtVerifier;
      readonly apiKeys: ApiKeyStore;
      readonly sessions: SessionRevocationCheck;
      readonly allowAnonymous: boolean;
    },
  ) {}

  async authenticate(
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
      if (identity.sessionId) {
        const state = await this.deps.sessions.state(identity.sessionId);
        if (state === 'unavailable')
          return { ok: false, message: 'The session could not be checked; try again' };
        if (state !== 'active')
          return {
            ok: false,
            message: `The session has been ${state === 'unknown' ? 'ended' : state}`,
          };
      }
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
}
