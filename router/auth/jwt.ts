/**
 * JWT verification: HS256 with JWT_SECRET outside production, or a JWKS URL (JWT_JWKS_URL),
 * which production requires (platform/config refuses HS256 there, and requires the issuer and
 * audience); issuer and audience checked, and required in the token, whenever configured;
 * clock skew tolerated per JWT_CLOCK_TOLERANCE_SECONDS.
 *
 * Two libraries, one per kind of key (decision):
 * - **HS256 — fast-jwt**, synchronous HMAC through node:crypto. jose (v6) verifies only through
 *   WebCrypto, where each HMAC is an asynchronous job plus a CryptoKey hand-off: 125-160 µs per
 *   token against fast-jwt's 10-26 µs, measured side by side on this machine. Every request of
 *   a new caller pays it, and on the response-cache hit path it was the router's largest cost
 *   (WebCrypto and jose's claims check ≈ 22% of busy time, bench/results/profile-top.md).
 * - **JWKS — jose**: remote key sets with caching, rotation by `kid` and cooldown, RS256, ES256
 *   and EdDSA. Asymmetric verification dominates there anyway, so WebCrypto's overhead is small.
 *
 * Claims: `sub` (user id), `org` (organization id), `roles` (viewer|operator|admin), `sid`
 * (session id, checked against revocation).
 */
import { createVerifier, TokenError } from 'fast-jwt';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { JwtSettings } from '../../platform/config/load.js';
import { ROLES, type Identity } from '../../platform/contract/identity.js';

const claimsSchema = z.object({
  sub: z.string().uuid(),
  org: z.string().uuid(),
  roles: z.array(z.enum(ROLES)).default(['viewer']),
  sid: z.string().uuid().optional(),
});

export type UserIdentity = Extract<Identity, { kind: 'user' }>;

/**
 * What a JWKS may sign with: asymmetric algorithms only, so a token signed with a symmetric
 * key (HS256 with any secret, or the JWKS's public key used as an HMAC key) never verifies.
 */
export const JWKS_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export class JwtVerifier {
  /** Resolves the verified payload, or rejects with jose's or fast-jwt's error. */
  private readonly verifySignatureAndClaims: (token: string) => Promise<unknown>;
  /**
   * Tokens already verified, until they expire: a client sends the same token with every
   * request, and re-checking its signature is the costliest step of authentication. Keyed by
   * the whole token string, so a changed byte is a different (unverified) token.
   */
  private readonly verified = new LRUCache<string, { identity: UserIdentity; exp: number }>({
    max: 20_000,
  });

  constructor(private readonly settings: JwtSettings) {
    const { issuer, audience, clockToleranceSeconds } = settings;
    if (settings.mode === 'jwks') {
      const keySet: JWTVerifyGetKey = createRemoteJWKSet(new URL(settings.url));
      this.verifySignatureAndClaims = async (token) =>
        (
          await jwtVerify(token, keySet, {
            algorithms: JWKS_ALGORITHMS,
            clockTolerance: clockToleranceSeconds,
            ...(issuer ? { issuer } : {}),
            ...(audience ? { audience } : {}),
            requiredClaims: [
              'exp',
              'sub',
              ...(issuer ? ['iss'] : []),
              ...(audience ? ['aud'] : []),
            ],
          })
        ).payload;
    } else {
      const verifySync = createVerifier({
        key: settings.secret,
        algorithms: ['HS256'],
        clockTolerance: clockToleranceSeconds * 1000,
        ...(issuer ? { allowedIss: issuer } : {}),
        ...(audience ? { allowedAud: audience } : {}),
        // fast-jwt checks iss and aud only when present (jose requires them once configured):
        // required here, or a token without them would pass.
        requiredClaims: ['exp', 'sub', ...(issuer ? ['iss'] : []), ...(audience ? ['aud'] : [])],
        // Verified tokens are remembered below, with the identity already parsed.
        cache: false,
      });
      this.verifySignatureAndClaims = (token) => {
        try {
          return Promise.resolve(verifySync(token) as unknown);
        } catch (error) {
          return Promise.reject(error as Error);
        }
      };
    }
  }

  /** Resolves the identity, or rejects with a message fit for an UNAUTHENTICATED error. */
  async verify(token: string): Promise<UserIdentity> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() / 1000 <= known.exp + this.settings.clockToleranceSeconds)
        return known.identity;
      this.verified.delete(token);
      throw new Error('The token has expired');
    }
    let payload: unknown;
    try {
      payload = await this.verifySignatureAndClaims(token);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new Error(
        code === 'ERR_JWT_EXPIRED' || code === TokenError.codes.expired
          ? 'The token has expired'
          : 'The token is invalid',
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
