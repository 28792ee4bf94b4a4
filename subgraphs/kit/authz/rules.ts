/**
 * The vocabulary authorization is written in: who the caller is (identity predicates), the
 * graphql-shield rules the permission maps are made of, and audiences — "who may see this type
 * at all" — as data that both a shield rule and an object-level check can be derived from.
 *
 * @remarks
 * Every rule here depends only on the identity (and, for the self rules, on one id of the
 * parent or of the arguments), so none needs shield's `strict` cache, which hashes parent and args with object-hash
 * on every call (graphql-shield#416, #812): identity-only rules are `contextual` (evaluated once
 * per request, then read from `ctx._shield.cache` under the rule's name — so every rule has a
 * unique, stable name and factories return one instance per argument), parent-dependent ones
 * `no_cache` (one string comparison is cheaper than any cache lookup).
 *
 * A rule refuses with an UNAUTHENTICATED error when nobody signed in (signing in could change
 * the answer) and with `false` otherwise, which shield turns into its fallbackError (FORBIDDEN);
 * `or` keeps the first error, so an anonymous caller always hears UNAUTHENTICATED.
 */
import type { GraphQLError, GraphQLResolveInfo } from 'graphql';
import { allow, and, deny, not, or, rule } from 'graphql-shield';
import { forbidden, unauthenticated } from '../../../platform/contract/errors.js';
import type { Identity, Role } from '../../../platform/contract/identity.js';

export { allow, and, deny, not, or };

/** A graphql-shield rule (what the permission maps hold). */
export type Rule = Parameters<typeof or>[number];

/** What partner API keys may be granted (router/auth/apiKeys.ts stores them as strings). */
export const SCOPES = [
  'fleet:read',
  'fleet:write',
  'telemetry:read',
  'telemetry:write',
  'users:read',
] as const;
export type Scope = (typeof SCOPES)[number];

/** What rules read from the resolver context: the identity the router signed. */
export interface AuthzContext {
  readonly identity: Identity;
}

// ---------------------------------------------------------------------------------------------
// Identity predicates (plain functions: object-level checks use them without shield)
// ---------------------------------------------------------------------------------------------

/** Roles are cumulative: an operator may do what a viewer may, an admin what an operator may. */
const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** A signed-in user holding `role` or a higher one. */
export function hasRoleAtLeast(identity: Identity, role: Role): boolean {
  return (
    identity.kind === 'user' && identity.roles.some((held) => ROLE_RANK[held] >= ROLE_RANK[role])
  );
}

/**
 * A partner key holding `scope`. A write scope includes the read scope of the same resource
 * (fleet:write ⇒ fleet:read), as in most token systems: a key that may change a robot may see it,
 * and a mutation's result would otherwise be a way around the missing read scope.
 */
export function hasScopeGranted(identity: Identity, scope: Scope): boolean {
  if (identity.kind !== 'partner') return false;
  if (identity.scopes.includes(scope)) return true;
  return scope.endsWith(':read') && identity.scopes.includes(scope.replace(/:read$/, ':write'));
}

/** The tenant the caller acts for: a user's or partner key's organization; none otherwise. */
export function organizationOf(identity: Identity): string | null {
  return identity.kind === 'user' || identity.kind === 'partner'
    ? identity.organizationId.toLowerCase()
    : null;
}

/** Whether an object of `organizationId` belongs to the caller's organization. */
export function sameOrganization(identity: Identity, organizationId: string | null): boolean {
  const own = organizationOf(identity);
  return own !== null && organizationId !== null && organizationId.toLowerCase() === own;
}

/** The caller's user id when a user signed in. */
export function userIdOf(identity: Identity): string | null {
  return identity.kind === 'user' ? identity.userId.toLowerCase() : null;
}

// ---------------------------------------------------------------------------------------------
// Audiences: who may see a type at all
// ---------------------------------------------------------------------------------------------

/** Who may see objects of a type, or call a field: any of the listed kinds of caller. */
export interface Audience {
  /** Signed-in users holding at least this role; `any`: every signed-in user, even without roles. */
  readonly users?: Role | 'any';
  /** Partner keys holding any of these scopes. */
  readonly scopes?: readonly Scope[];
  /** Internal services (the router's revocation check, the auth service). */
  readonly services?: boolean;
}

/** Whether `identity` belongs to `audience`: true, or the error to answer with. */
export function admits(identity: Identity, audience: Audience): true | GraphQLError {
  switch (identity.kind) {
    case 'anonymous':
      return unauthenticated();
    case 'user':
      if (audience.users === 'any' || (audience.users && hasRoleAtLeast(identity, audience.users)))
        return true;
      break;
    case 'partner':
      if (audience.scopes?.some((scope) => hasScopeGranted(identity, scope))) return true;
      break;
    case 'service':
      if (audience.services) return true;
      break;
  }
  return forbidden();
}

// ---------------------------------------------------------------------------------------------
// graphql-shield rules
// ---------------------------------------------------------------------------------------------

/** A refusal: UNAUTHENTICATED for anonymous callers, else `false` (shield's FORBIDDEN). */
function refuse(identity: Identity): GraphQLError | false {
  return identity.kind === 'anonymous' ? unauthenticated() : false;
}

/** One rule per name, so the contextual cache (keyed by name) can never mix two rules up. */
function memoized<K extends string>(build: (key: K) => Rule): (key: K) => Rule {
  const rules = new Map<K, Rule>();
  return (key) => {
    let built = rules.get(key);
    if (!built) rules.set(key, (built = build(key)));
    return built;
  };
}

/** The predicates of identity-only rules, for {@link identityDecision}. */
const decisions = new WeakMap<object, (identity: Identity) => boolean>();

/** An identity-only rule: evaluated once per request. */
function identityRule(name: string, test: (identity: Identity) => boolean): Rule {
  const built = rule(name, { cache: 'contextual' })(
    (_parent, _args, ctx: AuthzContext) => test(ctx.identity) || refuse(ctx.identity),
  );
  decisions.set(built, test);
  return built;
}

/**
 * The synchronous verdict of a rule that depends on the identity alone (`allow`, and every
 * rule built here from an identity predicate), or undefined for rules that read the parent or
 * the arguments. shield.ts uses it to let an admitted field straight through (see there).
 */
export function identityDecision(candidate: Rule): ((identity: Identity) => boolean) | undefined {
  if (candidate === allow) return () => true;
  return decisions.get(candidate);
}

/**
 * The response now depends on who exactly the caller is, not only on their organization and
 * roles/scopes (which the router's response cache keys PUBLIC entries by): make it PRIVATE.
 */
function markPrivate(info: GraphQLResolveInfo): void {
  (
    info as { cacheControl?: { setCacheHint(hint: { scope: 'PRIVATE' }): void } }
  ).cacheControl?.setCacheHint({ scope: 'PRIVATE' });
}

/** Anybody who signed in: a user, a partner key or a service. */
export const isAuthenticated = identityRule('isAuthenticated', (id) => id.kind !== 'anonymous');
export const isUser = identityRule('isUser', (id) => id.kind === 'user');
export const isPartner = identityRule('isPartner', (id) => id.kind === 'partner');
/** An internal service (kind `service`), e.g. the router's session revocation check. */
export const isService = identityRule('isService', (id) => id.kind === 'service');

/** A user holding `role` or a higher one (admin ⊇ operator ⊇ viewer). */
export const hasRole = memoized((role: Role) =>
  identityRule(`hasRole:${role}`, (id) => hasRoleAtLeast(id, role)),
);

/** A partner key holding `scope` (a write scope includes its read scope). */
export const hasScope = memoized((scope: Scope) =>
  identityRule(`hasScope:${scope}`, (id) => hasScopeGranted(id, scope)),
);

type IdOf = (parent: unknown, args: Record<string, unknown>) => unknown;
const parentId: IdOf = (parent) => (parent as { id?: unknown }).id;
const parentUserId: IdOf = (parent) => (parent as { userId?: unknown }).userId;

/**
 * A rule that lets the caller in when they are in `audience` (decided by organization, roles
 * and scopes alone), or else when `idOf` — an id from the parent or the arguments — is the
 * signed-in user. Only in that second case did the answer depend on who exactly asks, which the
 * router's response cache does not key shared (PUBLIC) entries by: so then, and only then, the
 * response is marked PRIVATE — one viewer's own email is never served to another from the
 * cache, while an admin's view of everyone's stays shareable. A refusal needs no mark: errors
 * are never cached.
 */
function selfRule(name: string, idOf: IdOf, audience: Audience | null): Rule {
  return rule(name, { cache: 'no_cache' })(
    (parent, args: Record<string, unknown>, ctx: AuthzContext, info) => {
      if (audience && admits(ctx.identity, audience) === true) return true;
      const id = idOf(parent, args);
      const self = userIdOf(ctx.identity);
      if (self !== null && typeof id === 'string' && id.toLowerCase() === self) {
        markPrivate(info);
        return true;
      }
      return refuse(ctx.identity);
    },
  );
}

/** The parent object is the signed-in user themselves (parent: a User with `id`). */
export const isSelf = selfRule('isSelf', parentId, null);

/** The parent object belongs to the signed-in user (parent: e.g. a Session with `userId`). */
export const isOwner = selfRule('isOwner', parentUserId, null);

/** The field's `argument` names the signed-in user (e.g. revokeAllSessions(userId:)). */
export const isSelfArgument = memoized((argument: string) =>
  selfRule(`isSelfArgument:${argument}`, (_parent, args) => args[argument], null),
);

const selfOrRules = new Map<string, Rule>();
function selfOr(kind: string, idOf: IdOf, audience: Audience): Rule {
  const name = `${kind}Or:${audienceName(audience)}`;
  let built = selfOrRules.get(name);
  if (!built) selfOrRules.set(name, (built = selfRule(name, idOf, audience)));
  return built;
}

/**
 * `or(audienceRule(audience), isSelf)` as one rule, evaluated in that order so that the
 * response is PRIVATE only when being the user themselves is what let the caller in.
 */
export const isSelfOr = (audience: Audience): Rule => selfOr('isSelf', parentId, audience);

/** `or(audienceRule(audience), isOwner)`, in that order (see {@link isSelfOr}). */
export const isOwnerOr = (audience: Audience): Rule => selfOr('isOwner', parentUserId, audience);

/** `or(audienceRule(audience), isSelfArgument(argument))`, in that order. */
export const isSelfArgumentOr = (argument: string, audience: Audience): Rule =>
  selfOr(`isSelfArgument:${argument}`, (_parent, args) => args[argument], audience);

/** A stable name for an audience: `users>=viewer|fleet:read|services`. */
function audienceName(audience: Audience): string {
  return [
    audience.users ? `users>=${audience.users}` : null,
    ...[...(audience.scopes ?? [])].sort(),
    audience.services ? 'services' : null,
  ]
    .filter((part) => part !== null)
    .join('|');
}

const audienceRules = new Map<string, Rule>();

/**
 * The shield rule of an audience — what `or(hasRole(…), hasScope(…), isService)` says, as one
 * identity rule: contextual for shield, and decidable up front (shield.ts). An `or` of three
 * rules costs a Promise.all of three rule resolutions on every field it guards, which a
 * sensitive field of a 120-row list would pay 120 times.
 */
export function audienceRule(audience: Audience): Rule {
  const name = `audience:${audienceName(audience)}`;
  let built = audienceRules.get(name);
  if (!built) {
    built = identityRule(name, (identity) => admits(identity, audience) === true);
    audienceRules.set(name, built);
  }
  return built;
}
