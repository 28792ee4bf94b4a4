/**
 * The data a plan's fetches build up, in plain objects: merging a subgraph's answer into it
 * (the gateway's `deepMerge`), reaching the entities a Flatten node names (its
 * `flattenResultsAtPath`, as router/patches has it), and an entity's representation for a
 * fetch's `requires` (its `executeSelectionSet`). Same results as the stock functions
 * (test/unit/lean-executor.test.ts compares them), except that a `__proto__` key from a
 * subgraph is dropped and names Object.prototype has are read as own properties only.
 */
import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import { Kind, type GraphQLSchema } from 'graphql';
import { dataRewrites } from './gatewayInternals.js';

export type Data = Record<string, unknown>;

const hasOwn = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);
const isObject = (value: unknown): value is Data =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The stock `executeSelectionSet`: an entity's representation for a fetch's `requires`. */
export function selectionOf(
  schema: GraphQLSchema,
  source: Data | null,
  selections: readonly QueryPlanSelectionNode[],
): Data | null {
  if (source === null) return null;
  const result: Data = {};
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias ? selection.alias : selection.name;
      const value = hasOwn(source, name) ? source[name] : undefined;
      if (value === undefined) return null;
      const sub = selection.selections;
      if (Array.isArray(value)) {
        result[name] = value.map((item) => (sub ? selectionOf(schema, item as Data, sub) : item));
      } else if (sub) {
        result[name] = selectionOf(schema, value as Data, sub);
      } else {
        result[name] = value;
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!selection.typeCondition || !source) continue;
      if (dataRewrites.isObjectOfType(schema, source, selection.typeCondition))
        deepMerge(result, selectionOf(schema, source, selection.selections));
    }
  }
  return result;
}

/** An entity's representation for one fetch's `requires` ({@link selectionOf}'s result). */
export type RepresentationOf = (schema: GraphQLSchema, source: Data) => Data | null;

/**
 * {@link selectionOf} for one `requires`, made once per fetch node: for the shape nearly every
 * entity fetch has — one `... on T` of leaf fields (a key: `__typename id`) — a direct copy
 * instead of the walk, its nested result and the merge of it (5 % of the router-bound CPU
 * profile between them). The same result (test/unit/lean-executor.test.ts compares them over
 * generated entities); any other shape is walked.
 */
export function representationBuilder(
  selections: readonly QueryPlanSelectionNode[],
): RepresentationOf {
  const walk: RepresentationOf = (schema, source) => selectionOf(schema, source, selections);
  const [only] = selections;
  if (selections.length !== 1 || only?.kind !== Kind.INLINE_FRAGMENT || !only.typeCondition)
    return walk;
  const names: string[] = [];
  for (const field of only.selections) {
    if (field.kind !== Kind.FIELD || field.selections) return walk;
    const name = field.alias ? field.alias : field.name;
    if (name === '__proto__') return walk;
    names.push(name);
  }
  const typeCondition = only.typeCondition;
  return (schema, source) => {
    const result: Data = {};
    if (!dataRewrites.isObjectOfType(schema, source, typeCondition)) return result;
    for (const name of names) {
      const value = hasOwn(source, name) ? source[name] : undefined;
      // The walk's fragment gives null, and merging null leaves the representation empty.
      if (value === undefined) return {};
      result[name] = Array.isArray(value) ? value.slice() : value;
    }
    return result;
  };
}

/** The stock `deepMerge`, on plain objects. */
export function deepMerge(target: unknown, source: unknown): unknown {
  if (source === undefined || source === null) return target;
  const into = target as Data;
  const from = source as Data;
  for (const key of Object.keys(from)) {
    const value = from[key];
    if (value === undefined || key === '__proto__') continue;
    const current = hasOwn(into, key) ? into[key] : undefined;
    if (current && isObject(value)) {
      deepMerge(current, value);
    } else if (Array.isArray(value) && Array.isArray(current) && value.length === current.length) {
      for (let i = 0; i < value.length; i++) {
        if (isObject(current[i]) && isObject(value[i])) deepMerge(current[i], value[i]);
        else current[i] = value[i];
      }
    } else {
      into[key] = value;
    }
  }
  return target;
}

/**
 * The gateway's `flattenResultsAtPath` (as router/patches has it): the values at `path`, with
 * every `@` (a list) flattened. Same result, but every value is pushed into one array instead
 * of each level building its own and its parent copying it.
 */
export function flattenAt(
  value: unknown,
  path: readonly (string | number)[],
  index: number,
): unknown {
  for (; index < path.length; index++) {
    if (value === undefined || value === null) return value;
    if (path[index] === '@') {
      if (!Array.isArray(value)) return flattenNonArray(value, path, index);
      const flattened: unknown[] = [];
      for (let i = 0; i < value.length; i++)
        if (i in value) collect(value[i], path, index + 1, flattened);
      return flattened;
    }
    value = child(value, path[index]!);
  }
  return value;
}

/** What the stock recursion adds to the flattened array for one element under an `@`. */
function collect(
  value: unknown,
  path: readonly (string | number)[],
  index: number,
  into: unknown[],
): void {
  for (; index < path.length; index++) {
    if (value === undefined || value === null) {
      into.push(value);
      return;
    }
    if (path[index] === '@') {
      if (!Array.isArray(value)) return spread(flattenNonArray(value, path, index), into);
      for (let i = 0; i < value.length; i++)
        if (i in value) collect(value[i], path, index + 1, into);
      return;
    }
    value = child(value, path[index]!);
  }
  spread(value, into);
}

function spread(result: unknown, into: unknown[]): void {
  if (!Array.isArray(result)) {
    into.push(result);
    return;
  }
  for (let j = 0; j < result.length; j++) if (j in result) into.push(result[j]);
}

function child(value: unknown, key: string | number): unknown {
  if (typeof key !== 'string') throw new Error(`Unexpected ${typeof key} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${key}`);
  const object = value as Data;
  return hasOwn(object, key) ? object[key] : undefined;
}

/** `@` over a value that is not a list: the stock code calls its `flatMap` (and so throws). */
function flattenNonArray(value: unknown, path: readonly (string | number)[], index: number) {
  return (value as { flatMap: (f: (v: unknown) => unknown) => unknown }).flatMap((element) =>
    flattenAt(element, path, index + 1),
  );
}
