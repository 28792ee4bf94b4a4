/**
 * The final response of an operation, shaped from the data its fetches merged: the same result
 * as @apollo/gateway's `computeResponse` (dist/resultShaping.js), from a shape compiled once per
 * query plan instead of walking federation-internals' `Operation` for every value.
 *
 * @remarks
 * Why by hand: the stock shaping asks the schema for every value (`appliedDirectivesOf` for
 * @skip/@include, `field.definition.type`, `schema.type(name)`, `isSubtype`), allocates a result
 * record per value, and builds the response from `Object.create(null)` objects, which
 * `JSON.stringify` serialises about twice as slowly as plain ones. Here each selection's response
 * name, wrapped type, leaf check and conditions are looked up once, type-condition answers are
 * memoised per runtime type name, and the output is plain objects.
 *
 * The algorithm — including its corner cases: repeated response names merged into one output
 * value, `__typename` under an alias, null propagation to the nearest nullable parent with one
 * "Cannot return null for non-nullable …" error, invalid leaf values and unknown `__typename`s
 * reported as INVALID_GRAPHQL with their path — is the stock one, line for line; the
 * equivalence tests (test/unit/lean-executor.test.ts, and QUERY_PLAN_EXECUTOR=compare for the
 * whole suite) hold the two together.
 *
 * Plain objects and hostile names: an operation whose response names include `__proto__` is
 * not compiled (the stock executor runs it: `compileShape` returns undefined); names that
 * Object.prototype has (`constructor`, `toString`, …) are read as own properties only.
 */
import {
  ERRORS,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  type CompositeType,
  type NamedType,
  type Type,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';
import type { FieldShape, ResponseShape, SelectionShape } from './responseShapeCompile.js';
import {
  describeLast,
  fragmentApplies,
  ownValue,
  skipped,
  typeNamed,
  type Shaping,
} from './shapingSteps.js';

export { compileShape, type ResponseShape } from './responseShapeCompile.js';

/** What shaping one value produced, besides the value (module state: no record per value). */
let invalid = false;
let hasErrors = false;

/** `computeResponse`'s result for `input`, the data the plan's fetches merged. */
export function shapeResponse(
  shape: ResponseShape,
  input: Record<string, unknown> | null | undefined,
  variables: Record<string, unknown> | undefined,
): { data: Record<string, unknown> | null | undefined; errors: GraphQLError[] } {
  if (!input) return { data: input, errors: [] };
  const shaping: Shaping = {
    schema: shape.schema,
    variables: { ...shape.defaults, ...variables },
    errors: [],
    types: shape.types,
  };
  const data: Record<string, unknown> = {};
  const bubbled = applySelections(shaping, input, shape.selections, data, [], shape.rootType);
  return { data: bubbled ? null : data, errors: shaping.errors };
}

/** Returns true when a null must bubble up to the parent (ApplyResult.NULL_BUBBLE_UP). */
function applySelections(
  shaping: Shaping,
  input: Record<string, unknown>,
  selections: readonly SelectionShape[],
  output: Record<string, unknown>,
  path: (string | number)[],
  parentType: NamedType,
): boolean {
  for (const selection of selections) {
    if (skipped(shaping, selection)) continue;
    if (selection.kind === 'field') {
      const { responseName } = selection;
      const outputValue = output[responseName];
      let inputValue =
        (selection.ownOnly ? ownValue(input, responseName, true) : input[responseName]) ?? null;
      // A scalar or enum (maybe non-null) with a valid value, the common case: what the general
      // path below returns for it, without the call and the path bookkeeping.
      if (
        selection.scalar &&
        outputValue === undefined &&
        inputValue !== null &&
        selection.validLeaf(inputValue)
      ) {
        output[responseName] = inputValue;
        continue;
      }
      if (selection.isTypename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== '__typename')
            inputValue = input['__typename'] ?? null;
          const type =
            typeof inputValue === 'string'
              ? (typeNamed(shaping, inputValue) ?? parentType)
              : parentType;
          if (!isObjectType(type)) return true;
          output[responseName] = type.name;
        }
        continue;
      }
      path.push(responseName);
      const updated = updateOutputValue(
        shaping,
        outputValue,
        selection.type,
        inputValue,
        selection,
        path,
        parentType,
      );
      output[responseName] = updated;
      path.pop();
      if (invalid) return true;
    } else {
      const typename = input['__typename'];
      if (typename && typeof typename !== 'string')
        throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
      if (fragmentApplies(shaping, selection, typename as string | undefined, parentType)) {
        const bubbled = applySelections(
          shaping,
          input,
          selection.selections,
          output,
          path,
          selection.typeCondition ?? parentType,
        );
        if (bubbled) return true;
      }
    }
  }
  return false;
}

/** Sets `invalid` and `hasErrors` for the caller, as the stock result record's fields. */
function updateOutputValue(
  shaping: Shaping,
  outputValue: unknown,
  type: Type,
  inputValue: unknown,
  field: FieldShape,
  path: (string | number)[],
  parentType: NamedType,
): unknown {
  invalid = false;
  hasErrors = false;
  if (outputValue === null || (outputValue !== undefined && !field.selections)) return outputValue;
  if (isNonNullType(type)) {
    const updated = updateOutputValue(
      shaping,
      outputValue,
      type.ofType,
      inputValue,
      field,
      path,
      parentType,
    );
    if (updated === null) {
      if (!hasErrors)
        shaping.errors.push(
          ERRORS.INVALID_GRAPHQL.err(
            `Cannot return null for non-nullable ${describeLast(path, type.ofType, parentType)}.`,
            { path: Array.from(path) },
          ),
        );
      invalid = true;
      hasErrors = true;
      return updated;
    }
    invalid = false;
    hasErrors = false;
    return updated;
  }
  if (inputValue === null) return null;
  if (isListType(type))
    return updateList(shaping, outputValue, type, inputValue, field, path, parentType);
  if (isCompositeType(type)) {
    return updateComposite(shaping, outputValue, type, inputValue, field, path, parentType);
  }
  if (outputValue !== undefined)
    throw new Error(
      `Excepted output to be undefined but got ${String(type)} for type ${String(type)}`,
    );
  if (!field.validLeaf(inputValue)) {
    shaping.errors.push(
      ERRORS.INVALID_GRAPHQL.err(
        `Invalid value found for ${describeLast(path, type, parentType)}.`,
        { path: Array.from(path) },
      ),
    );
    hasErrors = true;
    return null;
  }
  return inputValue;
}

function updateList(
  shaping: Shaping,
  outputValue: unknown,
  type: Type & { ofType: Type },
  inputValue: unknown,
  field: FieldShape,
  path: (string | number)[],
  parentType: NamedType,
): unknown {
  if (!Array.isArray(inputValue))
    throw new Error(
      `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${String(type)}`,
    );
  if (outputValue !== undefined && !Array.isArray(outputValue))
    throw new Error(
      `Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${String(type)}`,
    );
  const existing = outputValue as unknown[] | undefined;
  const length = inputValue.length;
  if (existing && existing.length !== length)
    throw new Error(
      `[${String(inputValue)}].length (${length}) !== [${String(existing)}].length (${existing.length})`,
    );
  let nullify = false;
  let anyErrors = false;
  const updated = new Array<unknown>(length);
  for (let index = 0; index < length; index++) {
    path.push(index);
    updated[index] = updateOutputValue(
      shaping,
      existing ? existing[index] : undefined,
      type.ofType,
      inputValue[index],
      field,
      path,
      parentType,
    );
    path.pop();
    nullify ||= invalid;
    anyErrors ||= hasErrors;
  }
  invalid = false;
  hasErrors = anyErrors;
  return nullify ? null : updated;
}

function updateComposite(
  shaping: Shaping,
  outputValue: unknown,
  type: CompositeType,
  inputValue: unknown,
  field: FieldShape,
  path: (string | number)[],
  parentType: NamedType,
): unknown {
  const { selections } = field;
  if (!selections)
    throw new Error(`Invalid empty selection set for composite type ${String(type)}`);
  if (
    typeof inputValue !== 'object' ||
    (outputValue !== undefined && typeof outputValue !== 'object')
  )
    throw new Error(
      `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${String(type)}`,
    );
  const input = inputValue as Record<string, unknown>;
  const inputTypename = input['__typename'];
  if (inputTypename !== undefined && typeof inputTypename !== 'string')
    throw new Error(
      `Invalid non-string value ${String(inputTypename)} for __typename at ${String(path)}`,
    );
  let objectType: NamedType = type;
  if (inputTypename) {
    const named = typeNamed(shaping, inputTypename);
    if (!named || !isCompositeType(named)) {
      shaping.errors.push(
        ERRORS.INVALID_GRAPHQL.err(
          `Invalid __typename found for object at ${describeLast(path, type, parentType)}.`,
          { path: Array.from(path) },
        ),
      );
      invalid = false;
      hasErrors = true;
      return null;
    }
    objectType = named;
  }
  const output = (outputValue ?? {}) as Record<string, unknown>;
  const bubbled = applySelections(shaping, input, selections, output, path, objectType);
  invalid = false;
  hasErrors = bubbled;
  return bubbled ? null : output;
}
