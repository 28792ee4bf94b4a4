/**
 * JWT verification with jose: HS256 with JWT_SECRET in development, a JWKS URL with issuer and
 * audience checks in production; clock skew tolerated per JWT_CLOCK_TOLERANCE_SECONDS.
 *
 * Claims: `sub` (user id), `org` (organization id), `roles` (viewer|operator|admin), `sid`
 * (session id, checked against revocation).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { Config } from '../../subgraphs/shared/config.js';
import { ROLES, type Identity } from '../../subgraphs/shared/identity.js';

const claimsSchema = z.object({
  sub: z.string().uuid(),
  org: z.string().uuid(),
  roles: z.array(z.enum(ROLES)).default(['viewer']),
  sid: z.string().uuid().optional(),
});

export type UserIdentity = Extract<Identity, { kind: 'user' }>;

export class JwtVerifier {
  private readonly key: KeyObject | JWTVerifyGetKey;
  /**
   * Tokens already verified, until they expire: a client sends the same token with every
   * request, and re-checking its signature is the costliest step of authentication. Keyed by
   * the whole token string, so a changed byte is a different (unverified) token.
   */
  private readonly verified = new LRUCache<string, { identity: UserIdentity; exp: number }>({
    max: 20_000,
  });

  constructor(private readonly config: Config) {
    this.key = config.jwt.jwksUrl
      ? createRemoteJWKSet(new URL(config.jwt.jwksUrl))
      : // A KeyObject, made once: jose converts it to a CryptoKey once (a WeakMap), where a
        // Uint8Array secret is imported again on every verification.
        createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  /** Resolves the identity, or rejects with a message fit for an UNAUTHENTICATED error. */
  async verify(token: string): Promise<UserIdentity> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() / 1000 <= known.exp + this.config.jwt.clockToleranceSeconds)
        return known.identity;
      this.verified.delete(token);
      throw new Error('The token has expired');
    }
    let payload: unknown;
    try {
      const verified = await jwtVerify(token, this.key as KeyObject, {
        algorithms: this.config.jwt.jwksUrl ? ['RS256', 'ES256', 'EdDSA'] : ['HS256'],
        clockTolerance: this.config.jwt.clockToleranceSeconds,
        ...(this.config.jwt.issuer ? { issuer: this.config.jwt.issuer } : {}),
        ...(this.config.jwt.audience ? { audience: this.config.jwt.audience } : {}),
        requiredClaims: ['exp', 'sub'],
      });
      payload = verified.payload;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new Error(
        code === 'ERR_JWT_EXPIRED' ? 'The token has expired' : 'The token is invalid',
      );
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new Error('The token lacks the sub, org or roles claims');
    const identity: UserIdentity = {
      kind: 'user',
      userId: claims.data.sub,
      organizationId: claims.data.org,
      roles: claims.data.roles,
      sessionId: claims.data.sid ?? null,
    };
    this.verified.set(token, { identity, exp: Number((payload as { exp: number }).exp) });
    return identity;
  }
}

/** Mints an HS256 development token (scripts/mint-token.ts, tests). */
export async function mintDevelopmentToken(
  secret: string,
  claims: { userId: string; organizationId: string; roles: string[]; sessionId?: string },
  expiresIn = '1h',
): Promise<string> {
  return new SignJWT({
    org: claims.organizationId,
    roles: claims.roles,
    ...(claims.sessionId ? { sid: claims.sessionId } : {}),
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
