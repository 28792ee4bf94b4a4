/**
 * How a subgraph's permission map is applied: graphql-shield, on exactly the fields the map
 * names, after the coverage check has proved that every other field is covered by its type's
 * object-level check. Used as `transformSchema` in each subgraph's subgraph.ts.
 *
 * @remarks
 * The three ways graphql-shield goes wrong under federation, and what is done about each:
 *
 * 1. Its middleware wraps field resolvers only, so `__resolveReference` runs without any rule
 *    (graphql-shield#1387, #1111): entity resolution is guarded by the object-level checks
 *    (references.ts, objects.ts `resolveEntity`) instead, and `Query._entities` itself is
 *    allowed explicitly.
 * 2. A deny fallback also blocks `Query._service` and `Query._entities`, which breaks
 *    composition and nulls every cross-subgraph reference (graphql-shield#641): both are added
 *    to every permission map as `allow` (federation.ts), and no field outside the map is
 *    wrapped at all.
 * 3. With default options every error — a resolver's BAD_USER_INPUT or NOT_FOUND as much as a
 *    bug — comes back as "Not Authorised!", and `strict` caching hashes parent and args on every
 *    field (graphql-shield#416, #812, #1522): `allowExternalErrors` lets resolver errors through
 *    (expected ones keep their codes; unexpected ones are masked as INTERNAL_SERVER_ERROR by the
 *    server's formatError, never as a denial), the fallback error is a FORBIDDEN that says
 *    nothing about the object, and no rule uses the strict cache (the coverage check refuses it).
 *
 * Only the map's fields are wrapped (root fields and sensitive ones): shield's generated
 * middleware for every other field is dropped, and what remains is applied to declared
 * resolvers — the coverage check has made sure every ruled field has one, so no rule can sit on
 * a field whose default resolver the middleware would skip. A field whose rule depends on the
 * identity alone is admitted synchronously ({@link decidedUpFront}); everything else, and every
 * refusal, goes through shield's own middleware.
 */
import type { GraphQLSchema } from 'graphql';
import { applyMiddlewareToDeclaredResolvers, type IMiddlewareTypeMap } from 'graphql-middleware';
import { shield } from 'graphql-shield';
import { forbidden } from '../../../platform/contract/errors.js';
import type { Identity } from '../../../platform/contract/identity.js';
import { checkAuthorizationCoverage, type PermissionMap } from './coverage.js';
import { withFederationPermissions } from './federation.js';
import type { ObjectChecks } from './objects.js';
import { recordPolicy } from './policyFingerprint.js';
import { deny, identityDecision, type AuthzContext, type Rule } from './rules.js';

/** The options shield is applied with; each one chosen for the reason given above. */
export const SHIELD_OPTIONS = {
  // Conceptually deny-by-default; in practice no unlisted field is wrapped (coverage.ts).
  fallbackRule: deny,
  // Resolvers' own GraphQLErrors (BAD_USER_INPUT, NOT_FOUND, CONFLICT) pass with their codes.
  allowExternalErrors: true,
  // Never "Not Authorised!"; a new error per refusal, saying nothing about the object.
  fallbackError: () => forbidden(),
  // debug would rethrow errors raised inside rules instead of refusing.
  debug: false,
} as const;

/** `'Type.field' → rule` as the type → field → rule tree shield takes. */
function ruleTree(permissions: PermissionMap): Record<string, Record<string, Rule>> {
  const tree: Record<string, Record<string, Rule>> = {};
  for (const [coordinate, rule] of Object.entries(permissions)) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    (tree[typeName] ??= {})[fieldName] = rule;
  }
  return tree;
}

/**
 * The `transformSchema` of a subgraph: adds the federation fields' permissions (federation.ts),
 * checks coverage (throws a StartupError naming the uncovered fields) and wraps the mapped
 * fields with shield.
 */
export function withAuthorization(
  subgraph: string,
  ownPermissions: PermissionMap,
  ownObjects: ObjectChecks,
): (schema: GraphQLSchema) => GraphQLSchema {
  return (schema) => {
    const { permissions, objects } = withFederationPermissions(schema, ownPermissions, ownObjects);
    checkAuthorizationCoverage(schema, permissions, objects, subgraph);
    const tree = ruleTree(permissions);
    // shield generates middleware for every field of every type (fallbackRule on the rest);
    // keep only the mapped fields'.
    const generated = shield(tree, SHIELD_OPTIONS).generate(schema) as Record<
      string,
      Record<string, unknown>
    >;
    const middleware: Record<string, Record<string, FieldMiddleware>> = {};
    for (const [typeName, fields] of Object.entries(tree)) {
      for (const [fieldName, rule] of Object.entries(fields)) {
        const generatedField = generated[typeName]?.[fieldName] as
          FieldMiddleware | { resolve: FieldMiddleware };
        const shielded =
          typeof generatedField === 'function' ? generatedField : generatedField.resolve;
        const decide = identityDecision(rule);
        (middleware[typeName] ??= {})[fieldName] = decide
          ? decidedUpFront(decide, shielded)
          : shielded;
      }
    }
    const wrapped = applyMiddlewareToDeclaredResolvers(schema, middleware as IMiddlewareTypeMap);
    return recordPolicy(wrapped, permissions, objects);
  };
}

type Resolve = (parent?: unknown, args?: unknown, ctx?: unknown, info?: unknown) => unknown;
type FieldMiddleware = (
  resolve: Resolve,
  parent: unknown,
  args: unknown,
  ctx: AuthzContext,
  info: unknown,
) => unknown;

/**
 * Shield's middleware for a field whose rule depends on the identity alone, with the admission
 * decided synchronously from the rule's own predicate. Shield's middleware is async: every field
 * it guards returns a promise, and graphql-js starts all 120 robots' fields of a list before the
 * first verdict arrives, so even its contextual cache cannot save the promise per field — about
 * a tenth of the list's execution for two guarded fields per robot. The verdict is the same for
 * every object (what the contextual cache relies on), so an admitted field calls its resolver
 * directly; a refusal still goes through shield, which answers with the rule's error
 * (UNAUTHENTICATED) or its fallbackError (FORBIDDEN) as configured above.
 */
function decidedUpFront(
  decide: (identity: Identity) => boolean,
  shielded: FieldMiddleware,
): FieldMiddleware {
  return (resolve, parent, args, ctx, info) =>
    decide(ctx.identity)
      ? resolve(parent, args, ctx, info)
      : shielded(resolve, parent, args, ctx, info);
}
