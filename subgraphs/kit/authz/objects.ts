/**
 * Object-level authorization: checks that run once per object where objects are produced —
 * in the DataLoaders' batch functions, in `__resolveReference` and in list resolvers — instead
 * of once per field.
 *
 * @remarks
 * Why not graphql-shield on every field: wrapping each field of a 120-robot list in shield's
 * async middleware cost ~4× throughput, and shield never runs for `__resolveReference`
 * (graphql-shield#1387, #1111), so `_entities` would bypass every field rule's parent check.
 * Here an object is judged once, with data its loader already read (every row carries its
 * organization_id), so authorization adds no Cassandra read of its own:
 *
 * - **Tenant** (loaders): an object of another organization comes back as `null`, exactly like
 *   an unknown id — a query answers null, a mutation NOT_FOUND — so nobody learns that it exists.
 * - **Audience** (`__resolveReference`, lists that cross into another type): who may see the
 *   type at all, from the identity alone; a refusal is FORBIDDEN (UNAUTHENTICATED when nobody
 *   signed in) — the same answer for every id, so it reveals nothing either.
 *
 * Each subgraph declares one {@link ObjectCheck} per object type in its permissions.ts; the
 * start-up coverage check (coverage.ts) refuses a schema with a type that has neither such a
 * declaration nor a rule on every field.
 */
import type DataLoader from 'dataloader';
import type { GraphQLError } from 'graphql';
import type { Identity } from '../../../platform/contract/identity.js';
import { admits, sameOrganization, type Audience } from './rules.js';

/**
 * An entity type (it has an id and can be fetched by it): who may see it at all, and how one
 * object's tenant is established from the row already read.
 */
export interface EntityCheck<T> {
  readonly kind: 'entity';
  /** Who may see objects of this type at all (checked in `__resolveReference` and lists). */
  readonly readers: Audience;
  /** How the check works, in a sentence (shown in docs and start-up errors). */
  readonly description: string;
  /**
   * The object's organization, from the row its loader read. Absent for a key-only stub (a
   * User or Organization extended here with fields of this subgraph): then each of its fields
   * lists objects through a tenant-checked loader instead.
   */
  readonly tenantOf?: (object: T) => string | null;
  /** Replaces the tenant test where visibility is finer than the organization (sessions). */
  readonly visibleTo?: (object: T, identity: Identity) => boolean;
}

/**
 * A value object without an identity of its own (a connection, a position, a telemetry
 * sample): it exists only inside a parent whose check already ran, or as the answer of a root
 * field whose rule already ran — `producedBy` names those fields.
 */
export interface ValueCheck {
  readonly kind: 'value';
  readonly producedBy: readonly string[];
}

export type ObjectCheck = EntityCheck<never> | ValueCheck;

/** Per object type: how its objects are checked (see the coverage check). */
export type ObjectChecks = Readonly<Record<string, ObjectCheck>>;

export function entity<T>(check: Omit<EntityCheck<T>, 'kind'>): EntityCheck<T> {
  return { kind: 'entity', ...check };
}

export function valueOf(...producedBy: string[]): ValueCheck {
  return { kind: 'value', producedBy };
}

/** Whether the caller may receive this object (its tenant, or the finer test where declared). */
export function isVisible<T>(identity: Identity, check: EntityCheck<T>, object: T): boolean {
  if (check.visibleTo) return check.visibleTo(object, identity);
  if (!check.tenantOf) return true;
  return sameOrganization(identity, check.tenantOf(object));
}

/**
 * Wraps a loader's batch function so that an object the caller may not see is `null`, as if
 * the key did not exist. It runs once per key per request (DataLoader caches the result), on
 * the rows the batch read anyway.
 */
export function tenantScoped<V>(
  identity: Identity,
  check: EntityCheck<V>,
  fetch: (keys: readonly string[]) => Promise<readonly (V | null | Error)[]>,
): (keys: readonly string[]) => Promise<(V | null | Error)[]> {
  return async (keys) =>
    (await fetch(keys)).map((value) =>
      value === null || value instanceof Error || isVisible(identity, check, value) ? value : null,
    );
}

/** What resolvers use of a loader, seen through an object-level check. */
export interface GuardedLoader<V> {
  load(key: string): Promise<V | null>;
  loadMany(keys: readonly string[]): Promise<(V | null | Error)[]>;
  prime(key: string, value: V): GuardedLoader<V>;
  clear(key: string): GuardedLoader<V>;
}

/**
 * A view of `loader` in which an object the caller may not see is `null`. For the rare loader
 * whose raw rows authorization itself must read (the sessions subgraph establishes a user's
 * organization from their newest session): view and raw loader share one cache, so nothing is
 * read twice.
 */
export function guardedLoader<V>(
  loader: DataLoader<string, V | null>,
  identity: Identity,
  check: EntityCheck<V>,
): GuardedLoader<V> {
  const visible = <T extends V | null | Error>(value: T): T | null =>
    value === null || value instanceof Error || isVisible(identity, check, value as V)
      ? value
      : null;
  const view: GuardedLoader<V> = {
    load: async (key) => visible(await loader.load(key)),
    loadMany: async (keys) => (await loader.loadMany(keys)).map(visible),
    prime: (key, value) => {
      loader.prime(key, value);
      return view;
    },
    clear: (key) => {
      loader.clear(key);
      return view;
    },
  };
  return view;
}

/**
 * The body of a `__resolveReference`: the caller must be in the type's audience (else the entity
 * is refused with FORBIDDEN/UNAUTHENTICATED), and the loaded object must be visible (else null,
 * like an unknown key). Async on purpose: a refusal rejects this one entity's promise, so
 * `_entities` answers the other representations of the same fetch.
 */
export async function resolveEntity<T>(
  identity: Identity,
  check: EntityCheck<T>,
  load: () => Promise<T | null> | T | null,
): Promise<T | null> {
  const admitted = admits(identity, check.readers);
  if (admitted !== true) throw admitted;
  const object = await load();
  return object !== null && isVisible(identity, check, object) ? object : null;
}

/** For a list crossing into another type: the caller must be in that type's audience. */
export function requireAudience(identity: Identity, audience: Audience): void {
  const admitted: true | GraphQLError = admits(identity, audience);
  if (admitted !== true) throw admitted;
}
