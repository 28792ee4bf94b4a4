/**
 * The signing secrets: one key per purpose, and the rules production holds them to.
 *
 * @remarks
 * Three HMAC keys, each protecting one thing, so that a leak of one forges nothing else:
 * - `JWT_SECRET` — HS256 user tokens, in development and tests only (the router);
 * - `IDENTITY_SIGNING_SECRET` — the identity the router forwards to every subgraph (both);
 * - `CURSOR_SIGNING_SECRET` — pagination cursors handed to clients (the subgraphs);
 * and one bearer credential held to the same rules, `OPERATOR_TOKEN` — the router's operations
 * listener (purges of any tenant's cache).
 *
 * Outside production an unset secret is its own development value, below. Those values are
 * published (they are in this repository), so production refuses them, every other value the
 * repository shows as an example ({@link PUBLISHED_SECRETS}), placeholders such as `xxxx…`, and
 * two purposes sharing one value; and the router's JWTs must come from a JWKS, never HS256
 * ({@link refuseSymmetricJwts}). Messages name the variable, never the value.
 */
import { z } from 'zod';

type Context = z.core.$RefinementCtx;

/** The development value of each secret: used only outside production, refused in it. */
export const DEVELOPMENT_SECRETS = {
  JWT_SECRET: 'fleetgraph-development-jwt-secret-do-not-use-in-production',
  IDENTITY_SIGNING_SECRET: 'fleetgraph-development-identity-secret-do-not-use-in-production',
  CURSOR_SIGNING_SECRET: 'fleetgraph-development-cursor-secret-do-not-use-in-production',
  OPERATOR_TOKEN: 'fleetgraph-development-operator-token-do-not-use-in-production',
} as const;
export type SecretVariable = keyof typeof DEVELOPMENT_SECRETS;

/**
 * Every secret value this repository has ever published: the development values, the single
 * development secret used for all three purposes before they were split, and the examples in
 * the docs, docker-compose.yml, `.env` examples and the dev Kubernetes overlay
 * (test/unit/config.test.ts and test/unit/k8s-manifests.test.ts fail when one of those shows a
 * secret missing here). Production refuses each of them.
 */
export const PUBLISHED_SECRETS: readonly string[] = [
  ...Object.values(DEVELOPMENT_SECRETS),
  'fleetgraph-development-secret-do-not-use-in-production',
  // .env.example (docker-compose.yml) and deploy/k8s/overlays/dev/secret.yaml.
  'example-identity-signing-secret-replace-me-0123456789',
  'example-cursor-signing-secret-replace-me-0123456789',
  'example-jwt-hs256-secret-for-development-replace-me-0123456789',
  'example-operator-token-replace-me-0123456789',
];

/** Fewer distinct characters than this is a placeholder (`xxxx…`, `changeme…`), not a key. */
const MIN_DISTINCT_CHARACTERS = 8;

const fail = (ctx: Context, variable: string, message: string): never => {
  ctx.addIssue({ code: 'custom', path: [variable], message });
  return z.NEVER;
};

/**
 * The value of one secret: outside production the variable or its development value; in
 * production the variable, which must be set and must not be a published value or a
 * placeholder.
 */
export function secretOf(
  variable: SecretVariable,
  value: string | undefined,
  isProduction: boolean,
  ctx: Context,
): string {
  if (!isProduction) return value ?? DEVELOPMENT_SECRETS[variable];
  if (!value) return fail(ctx, variable, 'is required in production');
  if (PUBLISHED_SECRETS.includes(value))
    fail(ctx, variable, 'is a published development value; generate a secret of your own');
  else if (new Set(value).size < MIN_DISTINCT_CHARACTERS)
    fail(ctx, variable, 'looks like a placeholder; generate a random secret (≥ 32 characters)');
  return value;
}

/**
 * Refuses one value serving two purposes: whoever holds the key of one could then forge the
 * other (a cursor key would sign identities, a JWT key would sign both).
 */
export function requireDistinct(
  secrets: Partial<Record<SecretVariable, string | undefined>>,
  ctx: Context,
): void {
  const seen = new Map<string, string>();
  for (const [variable, value] of Object.entries(secrets)) {
    if (!value) continue;
    const first = seen.get(value);
    if (first) fail(ctx, variable, `must differ from ${first}: one key per purpose`);
    else seen.set(value, variable);
  }
}

/**
 * Production accepts only tokens its identity provider signed with an asymmetric key: a JWKS
 * URL (https, or http on the loopback interface), an issuer and an audience, and no HS256
 * secret — anyone holding a shared secret can mint any user's token.
 */
export function refuseSymmetricJwts(
  env: { JWT_SECRET?: string; JWT_JWKS_URL?: string; JWT_ISSUER?: string; JWT_AUDIENCE?: string },
  ctx: Context,
): void {
  if (env.JWT_SECRET)
    fail(ctx, 'JWT_SECRET', 'must not be set in production: HS256 tokens are for development');
  if (!env.JWT_JWKS_URL)
    fail(ctx, 'JWT_JWKS_URL', "is required in production (the identity provider's public keys)");
  else if (!/^https:|^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(env.JWT_JWKS_URL))
    fail(ctx, 'JWT_JWKS_URL', 'must be https in production (http only on 127.0.0.1)');
  if (!env.JWT_ISSUER) fail(ctx, 'JWT_ISSUER', 'is required in production');
  if (!env.JWT_AUDIENCE) fail(ctx, 'JWT_AUDIENCE', 'is required in production');
}
