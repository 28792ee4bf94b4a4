/**
 * users subgraph: who may read and change what — data only; the rules live in
 * kit/authz/rules.ts, the wiring in kit/authz/shield.ts, the policy in
 * docs/authorization.md.
 *
 * - Root fields and sensitive fields have rules (graphql-shield, applied to these fields only).
 * - Every other field is covered by its type's object-level check: users and organizations of
 *   another organization are null (as if unknown), checked once per object in the loaders and
 *   in `__resolveReference` (context.ts, resolvers.ts).
 */
import type { PermissionMap } from '../kit/authz/coverage.js';
import { entity, valueOf, type ObjectChecks } from '../kit/authz/objects.js';
import { allow, audienceRule, hasRole, isSelfOr, type Audience } from '../kit/authz/rules.js';
import type { OrganizationModel, UserModel } from './repository.js';

/** People of the organization: its users, and partner keys with users:read (no emails). */
export const USER_READERS: Audience = { users: 'viewer', scopes: ['users:read'] };
/** The organization itself (id, name): its users and any partner key reading its data. */
export const ORGANIZATION_READERS: Audience = {
  users: 'viewer',
  scopes: ['fleet:read', 'users:read'],
};

export const userCheck = entity<UserModel>({
  readers: USER_READERS,
  tenantOf: (user) => user.organizationId,
  description: "users_by_id's organization_id, in the userById loader and User.__resolveReference",
});

export const organizationCheck = entity<OrganizationModel>({
  readers: ORGANIZATION_READERS,
  tenantOf: (organization) => organization.id,
  description:
    'the organization is the tenant: organizationById loader and Organization.__resolveReference',
});

export const usersObjectChecks: ObjectChecks = {
  User: userCheck,
  Organization: organizationCheck,
  UserConnection: valueOf('Organization.users'),
  PageInfo: valueOf('UserConnection.pageInfo'),
};

export const usersPermissions: PermissionMap = {
  // Query._service and Query._entities are added by the kit (kit/authz/federation.ts).
  // The caller themselves; null for anybody who is not a signed-in user (the SDL's contract).
  'Query.me': allow,
  'Query.user': audienceRule(USER_READERS),
  'Query.users': audienceRule(USER_READERS),
  'Query.organization': audienceRule(ORGANIZATION_READERS),

  // Only admins manage people, and only in their own organization (another organization's
  // user or organization is NOT_FOUND, as if unknown).
  'Mutation.createUser': hasRole('admin'),
  'Mutation.updateUser': hasRole('admin'),
  'Mutation.setUserRoles': hasRole('admin'),

  // Sensitive: an email is personal data — the user themselves and their organization's admins.
  'User.email': isSelfOr({ users: 'admin' }),
  // Who holds which role is the organization's business: its users, not partner keys.
  'User.roles': isSelfOr({ users: 'viewer' }),
};
