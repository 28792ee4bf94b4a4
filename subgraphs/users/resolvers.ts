/**
 * users subgraph resolvers: thin — validate arguments, then call a loader or the repository.
 * Authorization: root and sensitive fields have rules (permissions.ts); users and
 * organizations are checked once per object — in the tenant-scoped loaders (another
 * organization's is null, as if unknown; so a mutation on it is NOT_FOUND) and in
 * `__resolveReference`, which graphql-shield never wraps.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { requireAudience } from '../kit/authz/objects.js';
import { entityReference } from '../kit/authz/references.js';
import { byIdQuery, byIdsQuery } from '../kit/byIdQuery.js';
import { connection } from '../kit/connection.js';
import { loadOrNotFound } from '../kit/loadOrNotFound.js';
import { badUserInput } from '../../platform/contract/errors.js';
import type { Role } from '../../platform/contract/identity.js';
import { DateTimeScalar } from '../kit/scalars.js';
import { requireNonEmpty, requirePageSize, requireUuid } from '../kit/validate.js';
import type { UsersContext } from './context.js';
import { organizationCheck, userCheck } from './permissions.js';
import { usersRepository, type OrganizationModel, type UserModel } from './repository.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function requireEmail(argumentName: string, value: string): string {
  const email = value.trim().toLowerCase();
  if (!EMAIL.test(email) || email.length > 254)
    throw badUserInput(argumentName, `must be an email address (got "${value}")`);
  return email;
}

export const usersResolvers: GraphQLResolverMap<UsersContext> = {
  DateTime: DateTimeScalar,
  Role: { VIEWER: 'viewer', OPERATOR: 'operator', ADMIN: 'admin' },

  Query: {
    me: (_root, _args, ctx) =>
      ctx.identity.kind === 'user' ? ctx.loaders.userById.load(ctx.identity.userId) : null,
    user: byIdQuery((ctx: UsersContext) => ctx.loaders.userById),
    users: byIdsQuery((ctx: UsersContext) => ctx.loaders.userById),
    organization: byIdQuery((ctx: UsersContext) => ctx.loaders.organizationById),
  },

  Mutation: {
    async createUser(
      _root,
      {
        input,
      }: { input: { organizationId: string; email: string; displayName: string; roles: Role[] } },
      ctx,
    ) {
      const organizationId = requireUuid('input.organizationId', input.organizationId);
      const email = requireEmail('input.email', input.email);
      const displayName = requireNonEmpty('input.displayName', input.displayName, 100);
      await loadOrNotFound(ctx.loaders.organizationById, 'Organization', organizationId);
      const user = await usersRepository.createUser(ctx.db, {
        organizationId,
        email,
        displayName,
        roles: [...new Set(input.roles)],
      });
      ctx.loaders.userById.prime(user.id, user);
      return user;
    },
    async updateUser(
      _root,
      { input }: { input: { id: string; email?: string | null; displayName?: string | null } },
      ctx,
    ) {
      const current = await loadOrNotFound(ctx.loaders.userById, 'User', input.id, {
        argument: 'input.id',
      });
      const user = await usersRepository.updateUser(ctx.db, current, {
        ...(input.email != null ? { email: requireEmail('input.email', input.email) } : {}),
        ...(input.displayName != null
          ? { displayName: requireNonEmpty('input.displayName', input.displayName, 100) }
          : {}),
      });
      ctx.loaders.userById.clear(user.id).prime(user.id, user);
      return user;
    },
    async setUserRoles(_root, args: { userId: string; roles: Role[] }, ctx) {
      const current = await loadOrNotFound(ctx.loaders.userById, 'User', args.userId, {
        argument: 'userId',
      });
      const user = await usersRepository.setRoles(ctx.db, current, [...new Set(args.roles)]);
      ctx.loaders.userById.clear(user.id).prime(user.id, user);
      return user;
    },
  },

  Organization: {
    __resolveReference: entityReference(
      organizationCheck,
      (ctx: UsersContext) => ctx.loaders.organizationById,
    ),
    async users(
      org: OrganizationModel,
      args: { first?: number | null; after?: string | null },
      ctx,
    ) {
      // Partner keys reading fleets see their Organization, not its people: checked once for
      // the list, before any read.
      requireAudience(ctx.identity, userCheck.readers);
      const page = await usersRepository.userIdsOfOrganization(
        ctx.db,
        ctx.cursors,
        org.id,
        requirePageSize('first', args.first),
        args.after,
      );
      const users = await ctx.loaders.userById.loadMany(page.rows);
      return connection(
        users.filter((user): user is UserModel => user !== null && !(user instanceof Error)),
        page,
      );
    },
  },

  User: {
    __resolveReference: entityReference(userCheck, (ctx: UsersContext) => ctx.loaders.userById),
    // Declared (not the default resolver) because they carry rules: middleware applied to
    // declared resolvers would silently skip a default one.
    email: (user: UserModel) => user.email,
    roles: (user: UserModel) => user.roles,
    organization: (user: UserModel, _args, ctx: UsersContext) =>
      loadOrNotFound(ctx.loaders.organizationById, 'Organization', user.organizationId),
  },
};
