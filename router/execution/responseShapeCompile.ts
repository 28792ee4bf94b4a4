/**
 * Compiling an operation into the shape responseShape.ts fills (once per cached query plan):
 * each selection's response name, wrapped type, leaf check, @skip/@include conditions and
 * fragment type conditions, read from federation-internals' `Operation` here rather than for
 * every value of every response.
 */
import {
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  Variable,
  type CompositeType,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';

export type Condition = boolean | { readonly variable: string; readonly description: string };

export interface FieldShape {
  readonly kind: 'field';
  readonly responseName: string;
  /** Object.prototype has this name: read it as an own property only. */
  readonly ownOnly: boolean;
  readonly isTypename: boolean;
  readonly type: Type;
  /** Whether a leaf value is valid for the field's type (federation's isValidLeafValue). */
  readonly validLeaf: (value: unknown) => boolean;
  /** The type is a scalar or enum, or one of them non-null (no list, no selections). */
  readonly scalar: boolean;
  readonly selections: readonly SelectionShape[] | undefined;
  readonly skip: Condition | undefined;
  readonly include: Condition | undefined;
}

export interface FragmentShape {
  readonly kind: 'fragment';
  readonly typeCondition: CompositeType | undefined;
  /** Runtime type name → whether the type condition applies (isSubtype, memoised). */
  readonly applies: Map<string, boolean>;
  readonly selections: readonly SelectionShape[];
  readonly skip: Condition | undefined;
  readonly include: Condition | undefined;
}

export type SelectionShape = FieldShape | FragmentShape;

export interface ResponseShape {
  readonly schema: Schema;
  readonly rootType: CompositeType;
  readonly selections: readonly SelectionShape[];
  /** The operation's variable defaults (`collectDefaultedVariableValues`). */
  readonly defaults: Record<string, unknown>;
  /** Type name → type, memoised (the schema of a compiled shape never changes). */
  readonly types: Map<string, NamedType | undefined>;
}

/** Undefined when the operation must be shaped by the stock executor (see the file comment). */
export function compileShape(operation: Operation): ResponseShape | undefined {
  const schema = operation.schema();
  const selections = compileSelections(schema, operation.selectionSet);
  if (!selections) return undefined;
  return {
    schema,
    rootType: schema.schemaDefinition.rootType(operation.rootKind)!,
    selections,
    defaults: operation.collectDefaultedVariableValues(),
    types: new Map(),
  };
}

function compileSelections(
  schema: Schema,
  selectionSet: SelectionSet,
): SelectionShape[] | undefined {
  const shapes: SelectionShape[] = [];
  for (const selection of selectionSet.selections()) {
    const element = selection.element;
    const skip = conditionOf(element.appliedDirectivesOf(schema.skipDirective())[0]);
    const include = conditionOf(element.appliedDirectivesOf(schema.includeDirective())[0]);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      const responseName = field.responseName();
      if (responseName === '__proto__' || field.definition.isSchemaIntrospectionField())
        return undefined;
      const sub = selection.selectionSet
        ? compileSelections(schema, selection.selectionSet)
        : undefined;
      if (selection.selectionSet && !sub) return undefined;
      shapes.push({
        kind: 'field',
        responseName,
        ownOnly: responseName in Object.prototype,
        isTypename: field.name === '__typename',
        type: field.definition.type!,
        validLeaf: leafCheckOf(schema, field.definition.type!),
        scalar: !sub && field.name !== '__typename' && !isListType(baseOf(field.definition.type!)),
        selections: sub,
        skip,
        include,
      });
    } else {
      const sub = compileSelections(schema, selection.selectionSet);
      if (!sub) return undefined;
      shapes.push({
        kind: 'fragment',
        typeCondition: selection.element.typeCondition,
        applies: new Map(),
        selections: sub,
        skip,
        include,
      });
    }
  }
  return shapes;
}

function conditionOf(
  directive: { arguments(): Record<string, unknown>; toString(): string } | undefined,
): Condition | undefined {
  if (!directive) return undefined;
  const value = directive.arguments()['if'];
  if (value instanceof Variable)
    return { variable: value.name, description: `${String(value)} of ${String(directive)}` };
  return value as boolean;
}

/** A type without its non-null wrapper. */
function baseOf(type: Type): Type {
  return isNonNullType(type) ? type.ofType : type;
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/**
 * federation-internals' `isValidLeafValue(schema, value, type)` for one type, decided once:
 * custom scalars take anything; Boolean only booleans; Int finite integral numbers; ID those or
 * strings; Float finite numbers; String strings; an enum the names of its values.
 */
function leafCheckOf(schema: Schema, type: Type): (value: unknown) => boolean {
  let named: Type = type;
  while ('ofType' in named) named = named.ofType as Type;
  const leaf = named as NamedType;
  if (isCustomScalarType(leaf)) return () => true;
  if (isEnumType(leaf)) {
    const names = new Set(leaf.values.map((value) => value.name));
    return (value) => typeof value === 'string' && names.has(value);
  }
  switch (leaf) {
    case schema.booleanType():
      return (value) => typeof value === 'boolean';
    case schema.intType():
      return (value) => isFiniteNumber(value) && INTEGER.test(String(value));
    case schema.idType():
      return (value) =>
        typeof value === 'string' || (isFiniteNumber(value) && INTEGER.test(String(value)));
    case schema.floatType():
      return isFiniteNumber;
    default: // String
      return (value) => typeof value === 'string';
  }
}
