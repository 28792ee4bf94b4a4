/**
 * The identity the router verified, as forwarded to subgraphs, and its signature.
 *
 * @remarks
 * The router authenticates the caller (JWT or partner API key) and forwards the result in
 * three headers: `x-fleetgraph-identity` (base64url JSON), `x-fleetgraph-timestamp` (ms since
 * epoch) and `x-fleetgraph-signature` (hex HMAC-SHA256 over `timestamp.identity` with
 * IDENTITY_SIGNING_SECRET). A subgraph accepts a request only when the signature verifies and
 * the timestamp is within {@link MAX_SIGNATURE_AGE_MS}; so nobody can call a subgraph's
 * `_entities` directly with a made-up identity, and a captured header set expires quickly.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const IDENTITY_HEADER = 'x-fleetgraph-identity';
export const TIMESTAMP_HEADER = 'x-fleetgraph-timestamp';
export const SIGNATURE_HEADER = 'x-fleetgraph-signature';
export const REQUEST_ID_HEADER = 'x-request-id';

/** How old (or how far in the future, for clock skew) a signed identity may be. */
export const MAX_SIGNATURE_AGE_MS = 60_000;

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const identitySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('anonymous') }),
  z.object({
    kind: z.literal('user'),
    userId: z.string(),
    organizationId: z.string(),
    roles: z.array(z.enum(ROLES)),
    sessionId: z.string().nullable(),
  }),
  z.object({
    kind: z.literal('partner'),
    apiKeyId: z.string(),
    organizationId: z.string(),
    scopes: z.array(z.string()),
  }),
  /** The router itself or an internal service (e.g. the auth service calling startSession). */
  z.object({ kind: z.literal('service'), service: z.string() }),
]);
export type Identity = z.infer<typeof identitySchema>;
export const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous' });

function hmac(secret: string, timestamp: string, encodedIdentity: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${encodedIdentity}`).digest('hex');
}

/** The three headers that carry `identity`, signed now. */
export function signIdentity(
  identity: Identity,
  secret: string,
  now = Date.now(),
): Record<string, string> {
  const encoded = Buffer.from(JSON.stringify(identity)).toString('base64url');
  const timestamp = String(now);
  return {
    [IDENTITY_HEADER]: encoded,
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: hmac(secret, timestamp, encoded),
  };
}

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: string };

/** Verifies the signed identity headers of an incoming subgraph request. */
export function verifyIdentity(
  headers: { get(name: string): string | undefined | null },
  secret: string,
  now = Date.now(),
): VerifyResult {
  const encoded = headers.get(IDENTITY_HEADER);
  const timestamp = headers.get(TIMESTAMP_HEADER);
  const signature = headers.get(SIGNATURE_HEADER);
  if (!encoded || !timestamp || !signature)
    return { ok: false, reason: 'missing identity signature' };
  const expected = Buffer.from(hmac(secret, timestamp, encoded), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'invalid identity signature' };
  }
  const age = now - Number(timestamp);
  if (!Number.isFinite(age) || Math.abs(age) > MAX_SIGNATURE_AGE_MS) {
    return { ok: false, reason: 'stale identity signature' };
  }
  try {
    const parsed = identitySchema.safeParse(
      JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')),
    );
    return parsed.success
      ? { ok: true, identity: parsed.data }
      : { ok: false, reason: 'malformed identity' };
  } catch {
    return { ok: false, reason: 'malformed identity' };
  }
}
