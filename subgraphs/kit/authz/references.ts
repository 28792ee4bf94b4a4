/**
 * `__resolveReference` bodies: how an entity another subgraph points at is resolved here, under
 * its type's object-level check.
 *
 * @remarks
 * graphql-shield never wraps `__resolveReference` (graphql-shield#1387, #1111), so each body
 * must apply the check itself (objects.ts `resolveEntity`): the caller must be in the type's
 * audience, and the object must be visible to them. A key that is not a UUID cannot exist and is
 * not read; keys are lowercased, as the loaders' caches are keyed.
 *
 * Each function built here is remembered with the check it applies, so the start-up coverage
 * check can prove that every entity type's `__resolveReference` is one of them, applying that
 * type's own check ({@link referenceProblems}): a hand-written one is refused by name.
 */
import { isObjectType, isUnionType, type GraphQLSchema } from 'graphql';
import { isUuid } from '../validate.js';
import { resolveEntity, type EntityCheck, type ObjectChecks } from './objects.js';
import type { AuthzContext } from './rules.js';

/** The reference resolvers built below → the object-level check each applies. */
const guarded = new WeakMap<object, EntityCheck<never>>();

function marked<F extends object>(resolve: F, check: EntityCheck<never>): F {
  guarded.set(resolve, check);
  return resolve;
}

/** What the router sends for an entity: its key. */
export interface EntityRef {
  readonly id: string;
}

/** The reference of an entity loaded by id: `loaderOf(ctx).load(id)` under `check`. */
export function entityReference<T, TContext extends AuthzContext>(
  check: EntityCheck<T>,
  loaderOf: (ctx: TContext) => { load(key: string): Promise<T | null> },
): (ref: EntityRef, ctx: TContext) => Promise<T | null> {
  return marked(
    (ref: EntityRef, ctx: TContext) =>
      resolveEntity(ctx.identity, check, () =>
        isUuid(ref.id) ? loaderOf(ctx).load(ref.id.toLowerCase()) : null,
      ),
    check as EntityCheck<never>,
  );
}

/**
 * The reference of an entity this subgraph knows only by its key (a User or Organization
 * extended with fields of its own): the key is the object, under `check`.
 */
export function keyOnlyReference(
  check: EntityCheck<EntityRef>,
): (ref: EntityRef, ctx: AuthzContext) => Promise<EntityRef | null> {
  return marked(
    (ref: EntityRef, ctx: AuthzContext) =>
      resolveEntity(ctx.identity, check, () =>
        isUuid(ref.id) ? { id: ref.id.toLowerCase() } : null,
      ),
    check as EntityCheck<never>,
  );
}

const HELPERS = 'entityReference/keyOnlyReference (kit/authz/references.ts)';

/**
 * Why the entity types (`@key`: the members of `_Entity`, what `_entities` can return) would be
 * resolved without their object-level check, one sentence per type: a `__resolveReference` not
 * built here, or built with another type's check; none at all while the type has an
 * object-level check (federation would then return the representation itself, unchecked); an
 * entity declared as a value (values exist only inside a checked parent; `_entities` makes
 * entities from nothing). An entity type with neither resolver nor object-level check is
 * fine: every one of its fields has a rule of its own.
 */
export function referenceProblems(schema: GraphQLSchema, objects: ObjectChecks): string[] {
  const union = schema.getType('_Entity');
  const entities = isUnionType(union) ? union.getTypes().filter(isObjectType) : [];
  const problems: string[] = [];
  for (const type of entities) {
    const check = objects[type.name];
    const extensions = type.extensions as {
      apollo?: { subgraph?: { resolveReference?: unknown } };
    };
    const resolve = extensions.apollo?.subgraph?.resolveReference;
    const coordinate = `${type.name}.__resolveReference`;
    if (check?.kind === 'value')
      problems.push(
        `${type.name} is an entity (@key), so _entities produces it: declare an entity check, not a value`,
      );
    else if (resolve === undefined || resolve === null) {
      if (check !== undefined)
        problems.push(
          `${coordinate} is missing, so _entities would return the representation without ${type.name}'s object-level check: use ${HELPERS}`,
        );
    } else {
      const applied =
        typeof resolve === 'object' || typeof resolve === 'function'
          ? guarded.get(resolve)
          : undefined;
      if (applied === undefined)
        problems.push(
          `${coordinate} is not built by ${HELPERS}, so nothing proves it applies ${type.name}'s object-level check`,
        );
      else if (check !== undefined && applied !== check)
        problems.push(`${coordinate} applies another object-level check than ${type.name}'s`);
    }
  }
  return problems;
}
