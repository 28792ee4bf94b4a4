/**
 * The callers of a benchmark: a pool of distinct user identities (one JWT each) handed out in
 * rotation, one per request, and the partner API keys of the partner scenario.
 *
 * @remarks
 * Tokens are minted by the run's identity provider (ES256, served as a JWKS: the production
 * routers accept nothing else), or for a development router by mintDevelopmentToken with its
 * JWT secret: distinct `sub` (fresh uuids), one organization, the
 * same roles, and no `sid` — so the router
 * verifies each signature (the real per-request cost) without a session-revocation check.
 * The pool is larger than a run's request count at the rates seen here, so a response cached
 * for one caller (PRIVATE scope) is not served to "another" request of the same caller within
 * a run; responses cached per organization and roles (PUBLIC scope) may be, as in production.
 */
import { randomUUID } from 'node:crypto';
import { mintDevelopmentToken } from '../../router/auth/jwt.js';
import { ApiKeyStore } from '../../router/auth/apiKeys.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';

export interface TokenPool {
  readonly size: number;
  /** The next token in rotation (shared by every scenario and target). */
  next(): string;
  /** Total tokens handed out: runs × requests, to tell how often the pool wrapped. */
  readonly handedOut: number;
}

export const BENCH_ROLES = ['admin', 'operator', 'viewer'] as const;

/** Signs one token: an identity provider's `mint` (test/support/jwksIssuer.ts). */
export type TokenMinter = (
  claims: { userId: string; organizationId: string; roles: string[] },
  expiresIn: string,
) => Promise<string>;

/** `signer`: the issuer's minter, or a development JWT secret (HS256, development routers). */
export async function mintTokenPool(
  signer: string | TokenMinter,
  organizationId: string,
  size: number,
): Promise<TokenPool> {
  const mint: TokenMinter =
    typeof signer === 'string'
      ? (claims, expiresIn) => mintDevelopmentToken(signer, claims, expiresIn)
      : signer;
  const tokens: string[] = [];
  for (let i = 0; i < size; i++) {
    tokens.push(
      await mint(
        { userId: randomUUID(), organizationId, roles: [...BENCH_ROLES] },
        // Long enough for the slowest full run; expiry is checked on every request.
        '3h',
      ),
    );
  }
  let index = 0;
  return {
    size,
    next: () => tokens[index++ % size]!,
    get handedOut() {
      return index;
    },
  };
}

export interface PartnerKeys {
  readonly tokens: readonly string[];
  readonly keyIds: readonly string[];
  /** What the bare gateway forwards for each key (it does not look keys up; see bare-gateway.ts). */
  readonly identities: Readonly<
    Record<string, { apiKeyId: string; organizationId: string; scopes: string[] }>
  >;
  next(): string;
  revokeAll(): Promise<void>;
}

export const PARTNER_SCOPES = ['fleet:read', 'telemetry:read'];

/**
 * Creates `count` partner keys of one organization through ApiKeyStore (so they are real rows
 * the router authenticates), in a rate class the benchmark router is configured not to limit.
 * They are revoked when the benchmark ends.
 */
export async function createPartnerKeys(
  cassandra: CassandraClient,
  organizationId: string,
  rateClass: string,
  count: number,
): Promise<PartnerKeys> {
  const store = new ApiKeyStore(cassandra);
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      store.create({
        organizationId,
        name: `bench partner ${i}`,
        scopes: PARTNER_SCOPES,
        rateClass,
        expiresAt: new Date(Date.now() + 6 * 3_600_000),
      }),
    ),
  );
  let index = 0;
  return {
    tokens: created.map((key) => key.token),
    keyIds: created.map((key) => key.keyId),
    identities: Object.fromEntries(
      created.map((key) => [
        key.token,
        { apiKeyId: key.keyId, organizationId, scopes: [...PARTNER_SCOPES] },
      ]),
    ),
    next: () => created[index++ % created.length]!.token,
    revokeAll: async () => {
      await Promise.all(created.map((key) => store.revoke(key.keyId)));
    },
  };
}
