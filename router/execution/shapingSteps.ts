/**
 * The small steps of shaping a response (responseShape.ts): the per-request state, type lookups
 * memoised per compiled shape, @skip/@include, own-property reads, fragment type conditions
 * memoised per runtime type, and the stock error messages' descriptions of a path.
 */
import { isSubtype, type NamedType, type Schema, type Type } from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';
import type { Condition, FragmentShape, SelectionShape } from './responseShapeCompile.js';

export interface Shaping {
  readonly schema: Schema;
  readonly variables: Record<string, unknown>;
  readonly errors: GraphQLError[];
  readonly types: Map<string, NamedType | undefined>;
}
export function typeNamed(shaping: Shaping, name: string): NamedType | undefined {
  let type = shaping.types.get(name);
  if (type === undefined && !shaping.types.has(name)) {
    type = shaping.schema.type(name);
    shaping.types.set(name, type);
  }
  return type;
}
export function skipped(shaping: Shaping, selection: SelectionShape): boolean {
  const { skip, include } = selection;
  if (skip === undefined && include === undefined) return false;
  return (
    (skip !== undefined && conditionValue(shaping, skip)) ||
    (include !== undefined && !conditionValue(shaping, include))
  );
}
export function conditionValue(shaping: Shaping, condition: Condition): boolean {
  if (typeof condition === 'boolean') return condition;
  const value = shaping.variables[condition.variable];
  if (typeof value !== 'boolean')
    throw new Error(`Unexpected value ${String(value)} for variable ${condition.description}`);
  return value;
}
export function ownValue(input: Record<string, unknown>, name: string, ownOnly: boolean): unknown {
  return ownOnly && !Object.prototype.hasOwnProperty.call(input, name) ? undefined : input[name];
}
export function fragmentApplies(
  shaping: Shaping,
  fragment: FragmentShape,
  typename: string | undefined,
  parentType: NamedType,
): boolean {
  const condition = fragment.typeCondition;
  if (!condition) return true;
  const key = typename ? typename : `\u0000${parentType.name}`;
  let applies = fragment.applies.get(key);
  if (applies === undefined) {
    if (typename) {
      const type = typeNamed(shaping, typename);
      applies = !!type && isSubtype(condition, type);
    } else {
      applies = isSubtype(condition, parentType);
    }
    fragment.applies.set(key, applies);
  }
  return applies;
}
export function describeLast(
  path: readonly (string | number)[],
  type: Type,
  parentType: NamedType,
) {
  const element = path[path.length - 1];
  return typeof element === 'string'
    ? `field ${String(parentType)}.${element}`
    : `array element of type ${String(type)} at index ${element}`;
}
