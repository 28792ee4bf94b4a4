/**
 * sessions subgraph: who may read and change what — data only; the rules live in
 * kit/authz/rules.ts, the wiring in kit/authz/shield.ts, the policy in
 * docs/authorization.md.
 *
 * A session is personal: its owner sees it, their organization's admins see it (to sign people
 * out), internal services (the router's revocation check, the auth service that starts
 * sessions) see every session; partner keys never do. A session anybody else asks for is null
 * — as if unknown, since a session id is what a JWT's `sid` carries.
 */
import type { PermissionMap } from '../kit/authz/coverage.js';
import { entity, valueOf, type ObjectChecks } from '../kit/authz/objects.js';
import {
  audienceRule,
  hasRoleAtLeast,
  isOwnerOr,
  isSelfArgumentOr,
  isSelfOr,
  isService,
  sameOrganization,
  userIdOf,
  type Audience,
} from '../kit/authz/rules.js';
import type { SessionModel } from './repository.js';

/** Signed-in users (for their own sessions, or as admins) and internal services. */
export const SESSION_READERS: Audience = { users: 'any', services: true };

export const sessionCheck = entity<SessionModel>({
  readers: SESSION_READERS,
  // sessions_by_id carries user_id and organization_id: the row the loader read decides.
  visibleTo: (session, identity) =>
    identity.kind === 'service' ||
    session.userId === userIdOf(identity) ||
    (hasRoleAtLeast(identity, 'admin') && sameOrganization(identity, session.organizationId)),
  description:
    "sessions_by_id's user_id and organization_id: the owner, an admin of its organization or a service (sessionById loader, Session.__resolveReference)",
});

/**
 * The User as this subgraph knows it: only its key, so it has no tenant of its own. Its two
 * fields carry rules, and for another user their resolvers establish the user's organization:
 * User.sessions from the user's newest session (resolvers.ts `mayReadSessionsOf`),
 * User.activeSessionCount from the organization on the user's active_sessions_by_user rows.
 */
export const sessionUserCheck = entity<{ id: string }>({
  readers: SESSION_READERS,
  description:
    "a key-only stub: User.sessions and User.activeSessionCount have rules, and for another user check the organization on the user's newest session (sessions) or on every active session (activeSessionCount)",
});

export const sessionsObjectChecks: ObjectChecks = {
  Session: sessionCheck,
  User: sessionUserCheck,
  SessionConnection: valueOf('User.sessions'),
  SessionClient: valueOf('Session.client'),
  PageInfo: valueOf('SessionConnection.pageInfo'),
  SessionValidity: valueOf('Query.sessionValidity'),
};

export const sessionsPermissions: PermissionMap = {
  // Query._service and Query._entities are added by the kit (kit/authz/federation.ts).
  'Query.session': audienceRule(SESSION_READERS),
  // The router's revocation check (kind service) before it accepts a JWT.
  'Query.sessionValidity': isService,
  // The router's check of tokens without a session (tokenCutoffs.ts there).
  'Query.tokensRevokedBefore': isService,

  // The auth service starts sessions on sign-in; nobody starts one for themselves.
  'Mutation.startSession': isService,
  // Own sessions, or any session of the admin's organization (else NOT_FOUND, as if unknown).
  'Mutation.touchSession': audienceRule(SESSION_READERS),
  'Mutation.revokeSession': audienceRule(SESSION_READERS),
  'Mutation.revokeAllSessions': isSelfArgumentOr('userId', { users: 'admin', services: true }),

  // Sensitive: where and with what a person signed in (IP address, user agent).
  'Session.client': isOwnerOr({ users: 'admin', services: true }),
  // A person's sessions (client details included): themselves and their organization's admins.
  'User.sessions': isSelfOr({ users: 'admin', services: true }),
  // How many sessions a colleague has open (the fleet console shows it next to operators).
  'User.activeSessionCount': isSelfOr({ users: 'viewer', services: true }),
};
