/**
 * sessions subgraph resolvers: thin — validate arguments, then call a loader or the repository.
 * Mutations validate and load everything first and write last, so a rejected one writes nothing.
 * Authorization: root and sensitive fields have rules (permissions.ts); sessions are read
 * through the guarded sessionById loader (a session the caller may not see is null, so a
 * mutation on it is NOT_FOUND) and checked again in `__resolveReference`, which graphql-shield
 * never wraps.
 */
import { isIP } from 'node:net';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { entityReference, keyOnlyReference, type EntityRef } from '../kit/authz/references.js';
import { sameOrganization, userIdOf } from '../kit/authz/rules.js';
import { byIdQuery } from '../kit/byIdQuery.js';
import { connection, emptyConnection } from '../kit/connection.js';
import { loadOrNotFound } from '../kit/loadOrNotFound.js';
import { present } from '../kit/present.js';
import { badUserInput, conflict } from '../../platform/contract/errors.js';
import { DateTimeScalar } from '../kit/scalars.js';
import { optionalText, requirePageSize, requireUuid } from '../kit/validate.js';
import type { SessionsContext } from './context.js';
import { pageOfSessions } from './pageOfSessions.js';
import { sessionCheck, sessionUserCheck } from './permissions.js';
import {
  isActive,
  MAX_SESSIONS_PER_USER,
  sessionsRepository,
  stateOf,
  type SessionModel,
} from './repository.js';

/** A minute: shorter sessions would expire before a client could use them. */
export const MIN_TTL_SECONDS = 60;
/** 30 days: sessions_by_user's default_time_to_live, the longest a session row may live. */
export const MAX_TTL_SECONDS = 2_592_000;
const DEFAULT_TTL_SECONDS = 604_800;
const MAX_CLIENT_NAME = 64;
const MAX_USER_AGENT = 512;

/** The parent of User fields here: only the key, the rest of a User lives in users. */
type UserReference = EntityRef;

interface StartSessionInput {
  userId: string;
  organizationId: string;
  clientName?: string | null;
  userAgent?: string | null;
  ipAddress?: string | null;
  ttlSeconds?: number | null;
}

function requireTtlSeconds(argumentName: string, value: number | null | undefined): number {
  const ttl = value ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS) {
    throw badUserInput(
      argumentName,
      `must be between ${MIN_TTL_SECONDS} and ${MAX_TTL_SECONDS} seconds (got ${ttl})`,
    );
  }
  return ttl;
}

function optionalIpAddress(argumentName: string, value: string | null | undefined) {
  const address = optionalText(argumentName, value, 45);
  if (address !== null && isIP(address) === 0)
    throw badUserInput(argumentName, `must be an IPv4 or IPv6 address (got "${address}")`);
  return address;
}

/**
 * The session a mutation acts on, or NOT_FOUND. One that expired but whose row has not vanished
 * yet is treated as gone, so the answer does not depend on when the TTL fires.
 */
function loadSessionOrFail(ctx: SessionsContext, id: string, now: Date): Promise<SessionModel> {
  return loadOrNotFound(ctx.loaders.sessionById, 'Session', requireUuid('id', id), {
    isGone: (session) => stateOf(session, now) === 'expired',
  });
}

/**
 * Whether the caller may see `userId`'s sessions (User.sessions), given that the field's rule
 * already let them in (a service, the user themselves, or a user with the role the field asks
 * for). The User key this subgraph receives carries no organization, and sessions_by_user does
 * not store it; so for another user it is read from their newest session's sessions_by_id row —
 * the one place authorization reads a row of its own, one per such user and request, through
 * the sessionById loader's batch. A user of another organization then looks like an unknown
 * one: no sessions. (User.activeSessionCount needs no such read: see its resolver.)
 */
async function mayReadSessionsOf(ctx: SessionsContext, userId: string): Promise<boolean> {
  if (ctx.identity.kind === 'service' || userIdOf(ctx.identity) === userId) return true;
  const newest = ((await ctx.loaders.sessionsByUser.load(userId)) ?? [])[0];
  // Nothing to reveal: no sessions is also what an unknown user has.
  if (!newest) return true;
  const row = await ctx.loaders.sessionRowById.load(newest.id);
  return sameOrganization(ctx.identity, row?.organizationId ?? null);
}

/**
 * The organizations in which revokeAllSessions marks the user's tokens without a session as
 * revoked: a user's (the user themselves, or an admin) is their own — so an admin of another
 * organization can only revoke tokens claiming that other organization, which are not the
 * user's; a service names it, or it is taken from the sessions revoked.
 */
function markedOrganizations(
  ctx: SessionsContext,
  named: string | null,
  revoked: readonly SessionModel[],
): string[] {
  const { identity } = ctx;
  if (identity.kind === 'user') {
    if (named !== null && named !== identity.organizationId)
      throw badUserInput('organizationId', 'must be your own organization');
    return [identity.organizationId];
  }
  const found = revoked.flatMap((session) => session.organizationId ?? []);
  return [...new Set(named === null ? found : [named, ...found])];
}

/** After a write, later reads of this request see the new state. */
function remember(ctx: SessionsContext, session: SessionModel): SessionModel {
  ctx.loaders.sessionById.clear(session.id).prime(session.id, session);
  ctx.loaders.sessionsByUser.clear(session.userId);
  ctx.loaders.activeSessionCounts.clear(session.userId);
  return session;
}

export const sessionsResolvers: GraphQLResolverMap<SessionsContext> = {
  DateTime: DateTimeScalar,

  Query: {
    session: byIdQuery((ctx: SessionsContext) => ctx.loaders.sessionById),
    async sessionValidity(_root, args: { id: string }, ctx) {
      const sessionId = requireUuid('id', args.id);
      const session = await ctx.loaders.sessionById.load(sessionId);
      if (!session) return { sessionId, active: false, reason: 'unknown' };
      const state = stateOf(session, new Date());
      return { sessionId, active: state === 'active', reason: state === 'active' ? null : state };
    },
    async tokensRevokedBefore(_root, args: { userId: string; organizationId: string }, ctx) {
      const userId = requireUuid('userId', args.userId);
      const organizationId = requireUuid('organizationId', args.organizationId);
      return sessionsRepository.tokensRevokedBefore(ctx.db, userId, organizationId);
    },
  },

  Mutation: {
    async startSession(_root, { input }: { input: StartSessionInput }, ctx) {
      const userId = requireUuid('input.userId', input.userId);
      const organizationId = requireUuid('input.organizationId', input.organizationId);
      const clientName = optionalText('input.clientName', input.clientName, MAX_CLIENT_NAME);
      const userAgent = optionalText('input.userAgent', input.userAgent, MAX_USER_AGENT);
      const ipAddress = optionalIpAddress('input.ipAddress', input.ipAddress);
      const ttlSeconds = requireTtlSeconds('input.ttlSeconds', input.ttlSeconds);
      const now = new Date();
      // The cap keeps a user's partition within one read (SESSIONS_READ_LIMIT), so
      // revokeAllSessions always sees every session. Revoked rows count: they stay until expiry.
      const held = ((await ctx.loaders.sessionsByUser.load(userId)) ?? []).filter(
        (session) => session.expiresAt > now,
      ).length;
      if (held >= MAX_SESSIONS_PER_USER) {
        throw conflict(
          `User ${userId} already holds ${MAX_SESSIONS_PER_USER} sessions; older ones free up as they expire`,
        );
      }
      const session = await sessionsRepository.startSession(
        ctx.db,
        { userId, organizationId, clientName, userAgent, ipAddress, ttlSeconds },
        now,
      );
      return remember(ctx, session);
    },

    async touchSession(_root, args: { id: string }, ctx) {
      const now = new Date();
      const current = await loadSessionOrFail(ctx, args.id, now);
      if (current.revokedAt) throw conflict(`Session ${current.id} is revoked`);
      return remember(ctx, await sessionsRepository.touchSession(ctx.db, current, now));
    },

    async revokeSession(_root, args: { id: string }, ctx) {
      const now = new Date();
      const current = await loadSessionOrFail(ctx, args.id, now);
      // Idempotent: signing out twice keeps the first revocation time.
      if (current.revokedAt) return current;
      return remember(ctx, await sessionsRepository.revokeSession(ctx.db, current, now));
    },

    async revokeAllSessions(
      _root,
      args: { userId: string; organizationId?: string | null },
      ctx: SessionsContext,
    ) {
      const userId = requireUuid('userId', args.userId);
      const named = args.organizationId ? requireUuid('organizationId', args.organizationId) : null;
      const now = new Date();
      const listed = ((await ctx.loaders.sessionsByUser.load(userId)) ?? []).filter((session) =>
        isActive(session, now),
      );
      // The rows are re-written from sessions_by_id, the table the router checks, which also
      // holds the organization_id that sessions_by_user lacks. Read through the guarded loader:
      // another organization's sessions are null there, so for its users this revokes nothing
      // and answers 0 — what an unknown user gets.
      const loaded = await ctx.loaders.sessionById.loadMany(listed.map((session) => session.id));
      const toRevoke = present(loaded).filter((session) => isActive(session, now));
      const revoked = await sessionsRepository.revokeSessions(ctx.db, toRevoke, now);
      // Tokens without a session have no row to revoke: the user's mark revokes them.
      const marked = markedOrganizations(ctx, named, toRevoke);
      await sessionsRepository.revokeTokensBefore(ctx.db, userId, marked, now);
      ctx.loaders.sessionsByUser.clear(userId);
      ctx.loaders.activeSessionCounts.clear(userId);
      for (const session of toRevoke) ctx.loaders.sessionById.clear(session.id);
      return revoked;
    },
  },

  Session: {
    __resolveReference: entityReference(
      sessionCheck,
      (ctx: SessionsContext) => ctx.loaders.sessionById,
    ),
    user: (session: SessionModel) => ({ __typename: 'User', id: session.userId }),
    client: (session: SessionModel) =>
      session.clientName === null && session.userAgent === null && session.ipAddress === null
        ? null
        : { name: session.clientName, userAgent: session.userAgent, ipAddress: session.ipAddress },
    active: (session: SessionModel) => isActive(session, new Date()),
  },

  User: {
    // The users subgraph owns the User; here its key is all the fields below need.
    __resolveReference: keyOnlyReference(sessionUserCheck),
    async sessions(
      user: UserReference,
      args: { first?: number | null; after?: string | null; activeOnly?: boolean | null },
      ctx,
    ) {
      if (!(await mayReadSessionsOf(ctx, user.id))) return emptyConnection();
      const page = await pageOfSessions({
        codec: ctx.cursors,
        userId: user.id,
        activeOnly: args.activeOnly ?? true,
        first: requirePageSize('first', args.first),
        after: args.after,
        now: new Date(),
        load: async () => (await ctx.loaders.sessionsByUser.load(user.id)) ?? [],
      });
      return connection(page.rows, page);
    },
    /**
     * One active_sessions_by_user row per user (migration 009), N users in one statement. The
     * caller's own count and a service's are the count; another user's (the field's rule let a
     * colleague in) is shown only when every active session of theirs was started in the
     * caller's organization, read from the same row — else 0, what an unknown user has.
     */
    async activeSessionCount(user: UserReference, _args, ctx) {
      const active = await ctx.loaders.activeSessionCounts.load(user.id);
      if (!active || active.count === 0) return 0;
      if (ctx.identity.kind === 'service' || userIdOf(ctx.identity) === user.id)
        return active.count;
      return sameOrganization(ctx.identity, active.organizationId) ? active.count : 0;
    },
  },
};
