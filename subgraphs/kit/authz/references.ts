/**
 * `__resolveReference` bodies: how an entity another subgraph points at is resolved here, under
 * its type's object-level check.
 *
 * @remarks
 * graphql-shield never wraps `__resolveReference` (graphql-shield#1387, #1111), so each body
 * must apply the check itself (objects.ts `resolveEntity`): the caller must be in the type's
 * audience, and the object must be visible to them. A key that is not a UUID cannot exist and is
 * not read; keys are lowercased, as the loaders' caches are keyed.
 */
import { isUuid } from '../validate.js';
import { resolveEntity, type EntityCheck } from './objects.js';
import type { AuthzContext } from './rules.js';

/** What the router sends for an entity: its key. */
export interface EntityRef {
  readonly id: string;
}

/** The reference of an entity loaded by id: `loaderOf(ctx).load(id)` under `check`. */
export function entityReference<T, TContext extends AuthzContext>(
  check: EntityCheck<T>,
  loaderOf: (ctx: TContext) => { load(key: string): Promise<T | null> },
): (ref: EntityRef, ctx: TContext) => Promise<T | null> {
  return (ref, ctx) =>
    resolveEntity(ctx.identity, check, () =>
      isUuid(ref.id) ? loaderOf(ctx).load(ref.id.toLowerCase()) : null,
    );
}

/**
 * The reference of an entity this subgraph knows only by its key (a User or Organization
 * extended with fields of its own): the key is the object, under `check`.
 */
export function keyOnlyReference(
  check: EntityCheck<EntityRef>,
): (ref: EntityRef, ctx: AuthzContext) => Promise<EntityRef | null> {
  return (ref, ctx) =>
    resolveEntity(ctx.identity, check, () =>
      isUuid(ref.id) ? { id: ref.id.toLowerCase() } : null,
    );
}
