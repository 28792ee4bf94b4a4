/**
 * users subgraph: every CQL statement it runs. Rows come back as plain models, re-ordered to
 * the keys they were asked for (the DataLoader contract), with per-key errors.
 */
import { randomUUID } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import { ALL_BUCKETS, bucketOf } from '../../platform/cassandra/buckets.js';
import type { Db } from '../kit/cassandra/db.js';
import { pageBucketsTogether, type CursorCodec, type Page } from '../kit/cassandra/pagination.js';
import { uniqueClaim } from '../kit/cassandra/uniqueClaim.js';
import type { Role } from '../../platform/contract/identity.js';

export interface OrganizationModel {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

export interface UserModel {
  readonly id: string;
  readonly organizationId: string;
  readonly email: string;
  readonly displayName: string;
  readonly roles: Role[];
  readonly createdAt: Date;
}

const SELECT_ORGANIZATION =
  'SELECT organization_id, name, created_at FROM organizations WHERE organization_id IN ?';
const SELECT_USER =
  'SELECT user_id, organization_id, email, display_name, roles, created_at FROM users_by_id WHERE user_id IN ?';
const SELECT_USERS_OF_ORGANIZATION =
  'SELECT user_id FROM users_by_organization WHERE organization_id = ? AND bucket IN ?';

/**
 * One user per email within an organization (users_by_organization_email), claimed before the
 * user's rows are written. Not across organizations: a user belongs to one organization, and
 * everything that identifies one (JWTs, sessions, the auth service's startSession) names it by
 * id and organization, never by email — a person in two organizations is two users. A global
 * claim told one tenant's admin which emails other tenants had (security issue 16).
 */
const emails = uniqueClaim({
  table: 'users_by_organization_email',
  organizationColumn: 'organization_id',
  valueColumn: 'email',
  ownerColumn: 'user_id',
  takenMessage: (email) =>
    `The email ${email} is already used by another user of this organization`,
});

function toOrganization(row: cassandra.types.Row): OrganizationModel {
  return { id: String(row['organization_id']), name: row['name'], createdAt: row['created_at'] };
}

function toUser(row: cassandra.types.Row): UserModel {
  return {
    id: String(row['user_id']),
    organizationId: String(row['organization_id']),
    email: row['email'],
    displayName: row['display_name'],
    roles: [...((row['roles'] as string[] | null) ?? [])].sort() as Role[],
    createdAt: row['created_at'],
  };
}

export const usersRepository = {
  organizationsById: (db: Db, ids: readonly string[]) =>
    db.readOneIn(SELECT_ORGANIZATION, ids, (row) => String(row['organization_id']), toOrganization),

  usersById: (db: Db, ids: readonly string[]) =>
    db.readOneIn(SELECT_USER, ids, (row) => String(row['user_id']), toUser),

  /** One page of an organization's user ids, walking its 16 buckets. */
  async userIdsOfOrganization(
    db: Db,
    codec: CursorCodec,
    organizationId: string,
    first: number,
    after: string | null | undefined,
  ): Promise<Page<string>> {
    const page = await pageBucketsTogether({
      db,
      codec,
      fingerprint: `organization-users:${organizationId}`,
      cql: SELECT_USERS_OF_ORGANIZATION,
      buckets: ALL_BUCKETS,
      paramsFor: (buckets) => [organizationId, buckets],
      first,
      after,
    });
    return { ...page, rows: page.rows.map((row) => String(row['user_id'])) };
  },

  /**
   * Creates a user. The email is claimed first (kit/cassandra/uniqueClaim.ts); the user rows
   * are then written in one logged batch, and if that fails the claim is released, so a
   * rejected mutation leaves nothing.
   */
  async createUser(
    db: Db,
    input: { organizationId: string; email: string; displayName: string; roles: Role[] },
  ): Promise<UserModel> {
    const id = randomUUID();
    const claim = { organizationId: input.organizationId, value: input.email };
    return emails.claimFor(db, claim, id, async () => {
      const now = new Date();
      await db.batch([
        {
          query:
            'INSERT INTO users_by_id (user_id, organization_id, email, display_name, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          params: [id, input.organizationId, input.email, input.displayName, input.roles, now, now],
        },
        {
          query:
            'INSERT INTO users_by_organization (organization_id, bucket, user_id) VALUES (?, ?, ?)',
          params: [input.organizationId, bucketOf(id), id],
        },
      ]);
      return {
        id,
        organizationId: input.organizationId,
        email: input.email,
        displayName: input.displayName,
        roles: [...input.roles].sort(),
        createdAt: now,
      };
    });
  },

  /** Changes email and/or display name; a new email is claimed before the old is released. */
  async updateUser(
    db: Db,
    current: UserModel,
    changes: { email?: string; displayName?: string },
  ): Promise<UserModel> {
    const email = changes.email ?? current.email;
    const displayName = changes.displayName ?? current.displayName;
    const update = () =>
      db.execute(
        'UPDATE users_by_id SET email = ?, display_name = ?, updated_at = ? WHERE user_id = ?',
        [email, displayName, new Date(), current.id],
        { write: true, idempotent: true },
      );
    if (email === current.email) {
      await update();
    } else {
      const organizationId = current.organizationId;
      await emails.claimFor(db, { organizationId, value: email }, current.id, update);
      await emails.release(db, { organizationId, value: current.email }, current.id);
    }
    return { ...current, email, displayName };
  },

  async setRoles(db: Db, current: UserModel, roles: Role[]): Promise<UserModel> {
    await db.execute(
      'UPDATE users_by_id SET roles = ?, updated_at = ? WHERE user_id = ?',
      [roles, new Date(), current.id],
      { write: true, idempotent: true },
    );
    return { ...current, roles: [...roles].sort() };
  },
};
