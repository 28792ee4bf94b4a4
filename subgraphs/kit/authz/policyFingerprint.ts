/**
 * A fingerprint of what a subgraph serves and who may read it: its SDL, its permission map
 * (field → rule; every rule has a stable name that says what it admits, rules.ts) and its
 * object-level checks. Reported to the router with every fetch's entity tags, so that a cached
 * response made under other rules — a tightened permission, a new field — is never served:
 * the router bumps the subgraph's `policy:<name>` tag when it sees the fingerprint change
 * (router/cache/tagVersions.ts, docs/caching.md).
 *
 * @remarks
 * Why names rather than code: two replicas of one build must agree on the fingerprint (else a
 * rolling fleet of identical instances would purge forever), and rule names are already the
 * contract for graphql-shield's contextual cache. A change to a rule's logic without a change
 * to its name is not seen here; the SDL and the map are.
 */
import { createHash } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { PermissionMap } from './coverage.js';
import type { ObjectChecks } from './objects.js';

const fingerprints = new WeakMap<GraphQLSchema, string>();

/** Remembers the authorization a schema was wrapped with (withAuthorization). */
export function recordPolicy(
  schema: GraphQLSchema,
  permissions: PermissionMap,
  objects: ObjectChecks,
): GraphQLSchema {
  const rules = Object.entries(permissions)
    .map(([field, rule]) => `${field}=${(rule as { name?: string }).name ?? '?'}`)
    .sort();
  const checks = Object.entries(objects)
    .map(([type, check]) =>
      check.kind === 'entity'
        ? `${type}=entity:${JSON.stringify(check.readers)}:${check.description}`
        : `${type}=value:${[...check.producedBy].sort().join(',')}`,
    )
    .sort();
  fingerprints.set(schema, [...rules, ...checks].join('\n'));
  return schema;
}

/** The fingerprint of a built subgraph: its SDL and, if it was wrapped, its authorization. */
export function policyFingerprint(schema: GraphQLSchema, sdl: string): string {
  return createHash('sha256')
    .update(sdl)
    .update('\n')
    .update(fingerprints.get(schema) ?? 'no authorization')
    .digest('hex')
    .slice(0, 16);
}
