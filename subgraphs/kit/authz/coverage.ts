/**
 * Deny by default, enforced when the schema is built rather than per field at run time: a
 * subgraph refuses to start while any field of its schema is neither covered by its object
 * type's object-level check nor by a rule of its own, while a sensitive field (sensitivity.ts)
 * has no rule of its own — an object-level check admits the type's whole audience to every
 * field, present and future, so it never stands in for one — and while an entity type's
 * `__resolveReference` is not the kit's guarded one (references.ts).
 *
 * @remarks
 * A shield `fallbackRule: deny` would enforce the same thing by wrapping every field in
 * middleware (the cost objects.ts explains); this check gives the guarantee for free at run time.
 * It is a pure function of the built schema, the permission map and the object-level
 * declarations, so it is unit-tested without a server.
 */
import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
import { StartupError } from '../../../platform/startup.js';
import type { ObjectChecks } from './objects.js';
import { referenceProblems } from './references.js';
import type { Rule } from './rules.js';
import { unruledSensitiveFields } from './sensitivity.js';

/** `'Type.field'` → the rule that guards it. Data, kept apart from the rules' code. */
export type PermissionMap = Readonly<Record<string, Rule>>;

export interface Coverage {
  /** Fields guarded by a rule of their own (every root field, and sensitive fields). */
  readonly ruled: readonly string[];
  /** Types whose fields are covered by the type's object-level check. */
  readonly objectChecked: readonly string[];
}

function cacheOf(rule: Rule): unknown {
  return (rule as { cache?: unknown }).cache;
}

function subRules(rule: Rule): readonly Rule[] {
  const logic = rule as { getRules?: () => Rule[] };
  return typeof logic.getRules === 'function' ? logic.getRules() : [];
}

/** Names of rules (nested in and/or/not included) that use shield's `strict` cache. */
function strictRules(rule: Rule): string[] {
  const own = cacheOf(rule) === 'strict' ? [(rule as { name?: string }).name ?? '?'] : [];
  return [...own, ...subRules(rule).flatMap(strictRules)];
}

/** Map entries and object-level declarations that name nothing (or the wrong thing). */
function declarationProblems(
  schema: GraphQLSchema,
  permissions: PermissionMap,
  objects: ObjectChecks,
  roots: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const fieldExists = (coordinate: string) => {
    const [typeName, fieldName, extra] = coordinate.split('.');
    const type = typeName ? schema.getType(typeName) : undefined;
    return (
      extra === undefined &&
      fieldName !== undefined &&
      isObjectType(type) &&
      type.getFields()[fieldName] !== undefined
    );
  };
  for (const coordinate of Object.keys(permissions)) {
    if (!fieldExists(coordinate))
      problems.push(`the permission for ${coordinate} names no field of the schema`);
  }
  for (const [typeName, check] of Object.entries(objects)) {
    if (roots.has(typeName))
      problems.push(`${typeName} is a root type: each of its fields needs a rule of its own`);
    else if (!isObjectType(schema.getType(typeName)))
      problems.push(`the object-level check for ${typeName} names no object type of the schema`);
    if (check.kind === 'value') {
      for (const producer of check.producedBy)
        if (!fieldExists(producer))
          problems.push(`${typeName} is declared as produced by ${producer}, which is no field`);
    }
  }
  return problems;
}

/**
 * Throws a {@link StartupError} naming every problem: uncovered fields, root fields without a
 * rule, sensitive fields without a rule of their own, entity types whose `__resolveReference`
 * is not the kit's guarded one, rules that would never run (a field using the default resolver
 * is not wrapped by middleware applied to declared resolvers), map entries naming no field, and
 * rules using the `strict` cache (object-hash of parent and args on every call).
 */
export function checkAuthorizationCoverage(
  schema: GraphQLSchema,
  permissions: PermissionMap,
  objects: ObjectChecks,
  subgraph = 'subgraph',
): Coverage {
  const roots = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
      .filter((type) => type !== null && type !== undefined)
      .map((type) => type.name),
  );
  const problems = declarationProblems(schema, permissions, objects, roots);
  const uncovered: string[] = [];
  const ruled: string[] = [];
  const objectChecked: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const isRoot = roots.has(type.name);
    const covered = !isRoot && objects[type.name] !== undefined;
    if (covered) objectChecked.push(type.name);
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const rule = permissions[coordinate];
      if (!rule) {
        if (!covered)
          uncovered.push(isRoot ? `${coordinate} (root field without a rule)` : coordinate);
        continue;
      }
      ruled.push(coordinate);
      if (!field.resolve || field.resolve === defaultFieldResolver)
        problems.push(
          `${coordinate} has a rule but uses the default resolver, so the rule would never run: declare a resolver for it`,
        );
      for (const name of strictRules(rule))
        problems.push(
          `${coordinate}'s rule ${name} uses the strict cache: use contextual or no_cache`,
        );
    }
  }
  const sensitive = unruledSensitiveFields(schema, permissions, objects);
  if (sensitive.length > 0)
    problems.unshift(
      `sensitive fields need a rule of their own (an object-level check does not cover them, see kit/authz/sensitivity.ts): ${sensitive.join(', ')}`,
    );
  if (uncovered.length > 0)
    problems.unshift(`not covered by an object-level check or a rule: ${uncovered.join(', ')}`);
  problems.push(...referenceProblems(schema, objects));
  if (problems.length > 0)
    throw new StartupError(
      `${subgraph} subgraph: authorization is incomplete — ${problems.join('; ')}`,
    );
  return { ruled, objectChecked };
}
