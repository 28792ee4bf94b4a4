/**
 * Partner API keys, stored hashed in Cassandra (api_keys_by_id).
 *
 * A key reads `fgk_<keyId>_<secret>`: the id finds the row, the secret's SHA-256 must match
 * (compared in constant time). Keys carry an organization, scopes, a rate-limit class, an
 * expiry, and can be revoked or rotated (rotation = new key + old one revoked with
 * `replaced_by`). Lookups are cached in-process for a few seconds: a revocation takes effect
 * within {@link KEY_CACHE_MS}.
 *
 * A presented key costs a Cassandra read only when it could be one we issued: {@link
 * KEY_PATTERN} is exactly the shape {@link ApiKeyStore.create} makes (16 hex digits, then the
 * base64url of 32 random bytes), so a malformed one is refused without a read. An id that has no
 * row is remembered for {@link UNKNOWN_KEY_CACHE_MS} in a cache of its own (so a flood of them
 * cannot evict the keys in use); random ids are held back by the per-address limit on failed
 * authentication (failureLimit.ts), which is checked before any lookup.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { WRITE_PROFILE } from '../../platform/cassandra/client.js';
import type { Identity } from '../../platform/contract/identity.js';

export const KEY_CACHE_MS = 3000;
/**
 * How long an id without a row is remembered. Ids are random (8 bytes) and nobody presents one
 * before it is created, so a longer wait costs nothing; a minute bounds the wait of a key
 * created with the very id somebody guessed just before.
 */
export const UNKNOWN_KEY_CACHE_MS = 60_000;
/**
 * `fgk_<keyId>_<secret>` as created: the id is 8 random bytes in hex; the secret 32 random
 * bytes in unpadded base64url, 43 characters whose last carries only 4 bits (16 letters).
 */
export const KEY_PATTERN = /^fgk_([0-9a-f]{16})_([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$/;

export type PartnerIdentity = Extract<Identity, { kind: 'partner' }>;

interface KeyRow {
  readonly secretSha256: string;
  readonly organizationId: string;
  readonly scopes: string[];
  readonly rateClass: string;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly requireTrustedDocuments: boolean;
}

export interface AuthenticatedKey {
  readonly identity: PartnerIdentity;
  readonly rateClass: string;
  /** Only registered client operations (schema/operations) may be sent with this key. */
  readonly requireTrustedDocuments: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class ApiKeyStore {
  private readonly cache = new Map<string, { row: KeyRow | null; at: number }>();
  private readonly unknown = new LRUCache<string, true>({ max: 50_000, ttl: UNKNOWN_KEY_CACHE_MS });

  constructor(private readonly cassandra: CassandraClient) {}

  /** The key's identity, or an Error whose message is fit for UNAUTHENTICATED. */
  async authenticate(presented: string, now = new Date()): Promise<AuthenticatedKey | Error> {
    const match = KEY_PATTERN.exec(presented);
    if (!match) return new Error('The API key is malformed');
    const [, keyId, secret] = match as unknown as [string, string, string];
    const row = await this.lookup(keyId);
    const given = Buffer.from(sha256(secret), 'hex');
    if (!row || !timingSafeEqual(given, Buffer.from(row.secretSha256, 'hex')))
      return new Error('The API key is invalid');
    if (row.revokedAt) return new Error('The API key has been revoked');
    if (row.expiresAt && row.expiresAt <= now) return new Error('The API key has expired');
    return {
      identity: {
        kind: 'partner',
        apiKeyId: keyId,
        organizationId: row.organizationId,
        scopes: row.scopes,
      },
      rateClass: row.rateClass,
      requireTrustedDocuments: row.requireTrustedDocuments,
    };
  }

  private async lookup(keyId: string): Promise<KeyRow | null> {
    if (this.unknown.has(keyId)) return null;
    const cached = this.cache.get(keyId);
    if (cached && Date.now() - cached.at < KEY_CACHE_MS) return cached.row;
    const result = await this.cassandra.execute(
      'SELECT secret_sha256, organization_id, scopes, rate_class, expires_at, revoked_at, require_trusted_documents FROM api_keys_by_id WHERE key_id = ?',
      [keyId],
      { prepare: true },
    );
    const r = result.first();
    const row: KeyRow | null = r
      ? {
          secretSha256: r['secret_sha256'],
          organizationId: String(r['organization_id']),
          scopes: [...((r['scopes'] as string[] | null) ?? [])],
          rateClass: r['rate_class'] ?? 'partner-standard',
          expiresAt: r['expires_at'] ?? null,
          revokedAt: r['revoked_at'] ?? null,
          requireTrustedDocuments: r['require_trusted_documents'] === true,
        }
      : null;
    if (!row) {
      this.unknown.set(keyId, true);
      return null;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(keyId, { row, at: Date.now() });
    return row;
  }

  /** Creates a key; the returned token is shown once and never stored. */
  async create(input: {
    organizationId: string;
    name: string;
    scopes: string[];
    rateClass: string;
    expiresAt: Date | null;
    requireTrustedDocuments?: boolean;
  }): Promise<{ keyId: string; token: string }> {
    const keyId = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    this.unknown.delete(keyId);
    await this.cassandra.batch(
      [
        {
          query:
            'INSERT INTO api_keys_by_id (key_id, secret_sha256, organization_id, name, scopes, rate_class, created_at, expires_at, require_trusted_documents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          params: [
            keyId,
            sha256(secret),
            input.organizationId,
            input.name,
            input.scopes,
            input.rateClass,
            new Date(),
            input.expiresAt,
            input.requireTrustedDocuments ?? false,
          ],
        },
        {
          query:
            'INSERT INTO api_keys_by_organization (organization_id, key_id, name) VALUES (?, ?, ?)',
          params: [input.organizationId, keyId, input.name],
        },
      ],
      { prepare: true, logged: true, executionProfile: WRITE_PROFILE },
    );
    return { keyId, token: `fgk_${keyId}_${secret}` };
  }

  async revoke(keyId: string, replacedBy: string | null = null): Promise<boolean> {
    const result = await this.cassandra.execute(
      'UPDATE api_keys_by_id SET revoked_at = ?, replaced_by = ? WHERE key_id = ? IF EXISTS',
      [new Date(), replacedBy, keyId],
      { prepare: true, executionProfile: WRITE_PROFILE },
    );
    this.cache.delete(keyId);
    return result.wasApplied();
  }

  /** Issues a new key with the old one's organization, scopes and class, and revokes the old. */
  async rotate(keyId: string): Promise<{ keyId: string; token: string } | null> {
    const result = await this.cassandra.execute(
      'SELECT organization_id, name, scopes, rate_class, expires_at, revoked_at, require_trusted_documents FROM api_keys_by_id WHERE key_id = ?',
      [keyId],
      { prepare: true },
    );
    const row = result.first();
    if (!row || row['revoked_at']) return null;
    const created = await this.create({
      organizationId: String(row['organization_id']),
      name: row['name'],
      scopes: [...(row['scopes'] ?? [])],
      rateClass: row['rate_class'],
      expiresAt: row['expires_at'] ?? null,
      requireTrustedDocuments: row['require_trusted_documents'] === true,
    });
    await this.revoke(keyId, created.keyId);
    return created;
  }

  async listForOrganization(organizationId: string): Promise<{ keyId: string; name: string }[]> {
    const result = await this.cassandra.execute(
      'SELECT key_id, name FROM api_keys_by_organization WHERE organization_id = ?',
      [organizationId],
      { prepare: true },
    );
    return result.rows.map((r) => ({ keyId: r['key_id'], name: r['name'] }));
  }
}
