/**
 * The registered client operations (schema/operations/<client>/*.graphql, the router's trusted
 * documents): loading them, validating them against a schema, and listing the schema
 * coordinates each one uses, so a schema change can be traced to the operations it affects.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  getNamedType,
  isInputObjectType,
  Kind,
  parse,
  Source,
  TypeInfo,
  typeFromAST,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { displayPath } from '../composition/compose.js';

export interface RegisteredOperation {
  /** The operation's name, or its file when anonymous: what reports call it. */
  readonly name: string;
  /** Relative to the working directory when below it. */
  readonly file: string;
  /** The operation and the fragments it spreads (transitively), nothing else of its file. */
  readonly document: DocumentNode;
}

export interface OperationError {
  readonly message: string;
  /** `file:line:column` of the first place the error points at, when it has one. */
  readonly location?: string;
}

/** A file that cannot be parsed: it is reported as an invalid operation. */
export interface UnparsableOperationFile {
  readonly file: string;
  readonly errors: readonly OperationError[];
}

export interface LoadedOperations {
  readonly operations: readonly RegisteredOperation[];
  readonly unparsable: readonly UnparsableOperationFile[];
}

/** Every *.graphql file below a directory, sorted so that reports and codegen are stable. */
export function listGraphqlFiles(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .flatMap((entry) => {
      const path = join(directory, entry);
      if (statSync(path).isDirectory()) return listGraphqlFiles(path);
      return entry.endsWith('.graphql') ? [path] : [];
    });
}

export function loadOperations(directory: string): LoadedOperations {
  const operations: RegisteredOperation[] = [];
  const unparsable: UnparsableOperationFile[] = [];
  for (const path of listGraphqlFiles(directory)) {
    const file = displayPath(path);
    let document: DocumentNode;
    try {
      // The source name makes error locations read `file:line:column`.
      document = parse(new Source(readFileSync(path, 'utf8'), file));
    } catch (error) {
      unparsable.push({ file, errors: [toOperationError(error as Error, file)] });
      continue;
    }
    operations.push(...splitOperations(document, file));
  }
  return { operations, unparsable };
}

/**
 * One document per operation, with just the fragments it needs, so that a validation error or a
 * used coordinate is attributed to the operation it belongs to (a file may hold several).
 */
function splitOperations(document: DocumentNode, file: string): RegisteredOperation[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => ({
      name: operation.name?.value ?? file,
      file,
      document: {
        kind: Kind.DOCUMENT,
        definitions: [operation, ...fragmentClosure(operation, fragments)],
      },
    }));
}

function fragmentClosure(
  root: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): FragmentDefinitionNode[] {
  const seen = new Map<string, FragmentDefinitionNode>();
  const pending: (OperationDefinitionNode | FragmentDefinitionNode)[] = [root];
  while (pending.length > 0) {
    visit(pending.pop()!, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        // An unknown fragment is left for validation to report.
        if (fragment && !seen.has(node.name.value)) {
          seen.set(node.name.value, fragment);
          pending.push(fragment);
        }
      },
    });
  }
  return [...seen.values()];
}

export function validateOperation(
  schema: GraphQLSchema,
  operation: RegisteredOperation,
): OperationError[] {
  return validate(schema, operation.document).map((error) =>
    toOperationError(error, operation.file),
  );
}

function toOperationError(
  error: Error & { locations?: readonly { line: number; column: number }[] },
  file: string,
): OperationError {
  const at = error.locations?.[0];
  return at
    ? { message: error.message, location: `${file}:${at.line}:${at.column}` }
    : { message: error.message };
}

/**
 * The schema coordinates an operation uses, in the forms graphql-inspector gives as a change's
 * path: `Type` (every named type it touches: parent types, field and argument types, variable
 * types, fragment type conditions), `Type.field`, `Type.field.argument`, `Input.field` and
 * `Enum.VALUE` (enum literals). A variable of an input object type uses every field of that
 * input, recursively, because the client builds the whole object. Elements the schema does not
 * know are skipped: call this with both the baseline and the proposed schema and merge.
 */
export function usedCoordinates(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const used = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        // Meta-fields (__typename, __schema) are not part of the schema's own coordinates.
        if (!parent || !field || node.name.value.startsWith('__')) return;
        used.add(parent.name);
        used.add(`${parent.name}.${field.name}`);
        used.add(getNamedType(field.type).name);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        if (!parent || !field || !argument || node.name.value !== argument.name) return;
        used.add(`${parent.name}.${field.name}.${argument.name}`);
        used.add(getNamedType(argument.type).name);
      },
      ObjectField(node) {
        const input = getNamedType(typeInfo.getParentInputType() ?? undefined);
        if (input && isInputObjectType(input) && input.getFields()[node.name.value]) {
          used.add(`${input.name}.${node.name.value}`);
        }
      },
      EnumValue(node) {
        const type = getNamedType(typeInfo.getInputType() ?? undefined);
        if (type) used.add(`${type.name}.${node.value}`);
      },
      VariableDefinition(node) {
        const type = getNamedType(typeFromAST(schema, node.type));
        if (!type) return;
        used.add(type.name);
        if (isInputObjectType(type)) addInputFields(type, used);
      },
      InlineFragment(node) {
        if (node.typeCondition) used.add(node.typeCondition.name.value);
      },
      FragmentDefinition(node) {
        used.add(node.typeCondition.name.value);
      },
    }),
  );
  return used;
}

function addInputFields(type: GraphQLInputObjectType, used: Set<string>): void {
  for (const field of Object.values(type.getFields())) {
    const coordinate = `${type.name}.${field.name}`;
    if (used.has(coordinate)) continue;
    used.add(coordinate);
    const fieldType = getNamedType(field.type);
    used.add(fieldType.name);
    if (isInputObjectType(fieldType)) addInputFields(fieldType, used);
  }
}
