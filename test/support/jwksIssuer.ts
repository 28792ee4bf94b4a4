/**
 * A local identity provider for routers run with FLEETGRAPH_ENV=production in tests and the
 * bench: an ES256 key pair generated per run (jose), its public key served as a JWKS on
 * 127.0.0.1:<free port>, and tokens minted with an issuer and an audience — what a production
 * router's JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE point at. Production refuses HS256 and the
 * published development secrets, so nothing here uses them.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface TokenClaims {
  readonly userId: string;
  readonly organizationId: string;
  readonly roles: readonly string[];
  readonly sessionId?: string;
}

export interface JwksIssuer {
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  /** JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE for a router that trusts this issuer. */
  readonly env: Readonly<Record<string, string>>;
  /** An ES256 token for `claims`, signed by this issuer's key (jose's expiry syntax: '10m'). */
  mint(claims: TokenClaims, expiresIn?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the issuer. Its server does not keep the process alive (`unref`), so a bench that
 * forgets to close it still exits.
 */
export async function startJwksIssuer(
  options: { issuer?: string; audience?: string } = {},
): Promise<JwksIssuer> {
  const issuer = options.issuer ?? 'https://identity.fleetgraph.test/';
  const audience = options.audience ?? 'fleetgraph-api';
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return {
    url,
    issuer,
    audience,
    env: { JWT_JWKS_URL: url, JWT_ISSUER: issuer, JWT_AUDIENCE: audience },
    mint: (claims, expiresIn = '10m') =>
      new SignJWT({
        org: claims.organizationId,
        roles: [...claims.roles],
        ...(claims.sessionId ? { sid: claims.sessionId } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject(claims.userId)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The secrets of the processes of one production-mode run: random, distinct, never a published
 * value (platform/config/secrets.ts refuses those in production). Each process reads only its
 * own (the router no cursor secret, a subgraph no operator token).
 */
export function randomProductionSecrets(): {
  IDENTITY_SIGNING_SECRET: string;
  CURSOR_SIGNING_SECRET: string;
  OPERATOR_TOKEN: string;
} {
  const random = () => randomBytes(32).toString('base64url');
  return {
    IDENTITY_SIGNING_SECRET: random(),
    CURSOR_SIGNING_SECRET: random(),
    OPERATOR_TOKEN: random(),
  };
}
