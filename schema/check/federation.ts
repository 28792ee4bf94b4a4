/**
 * Federation-level changes that an API-schema diff cannot see, read from the join__ directives
 * of two supergraphs:
 * - an entity's @key in a subgraph removed or changed (breaking: other subgraphs and the
 *   router's query plans reference the entity by that key), or added (safe);
 * - a field moving to other subgraphs (dangerous: the same API, but a different service now
 *   answers it, with its own data, latency and authorization), or now also resolved by another
 *   subgraph (safe).
 */
import {
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
} from 'graphql';

export type Criticality = 'breaking' | 'dangerous' | 'safe';

export interface FederationChange {
  readonly criticality: Criticality;
  readonly type:
    | 'FEDERATION_KEY_REMOVED'
    | 'FEDERATION_KEY_CHANGED'
    | 'FEDERATION_KEY_ADDED'
    | 'FEDERATION_FIELD_MOVED'
    | 'FEDERATION_FIELD_SUBGRAPH_ADDED'
    | 'FEDERATION_FIELD_SUBGRAPH_REMOVED';
  readonly message: string;
  /** `Type` for key changes, `Type.field` for field ownership changes. */
  readonly coordinate: string;
}

interface JoinedType {
  /** Subgraph name → its keys for the type (normalized field sets; "" when it has none). */
  readonly keysBySubgraph: Map<string, Set<string>>;
  /** Field name → the subgraphs that resolve it. */
  readonly fieldSubgraphs: Map<string, Set<string>>;
}

export function federationChanges(
  baseSupergraph: string,
  proposedSupergraph: string,
): FederationChange[] {
  const base = readJoins(parse(baseSupergraph));
  const proposed = readJoins(parse(proposedSupergraph));
  const changes: FederationChange[] = [];
  for (const [typeName, before] of base) {
    const after = proposed.get(typeName);
    // A type that disappeared is the API diff's TYPE_REMOVED.
    if (!after) continue;
    changes.push(...keyChanges(typeName, before, after));
    for (const [fieldName, was] of before.fieldSubgraphs) {
      const now = after.fieldSubgraphs.get(fieldName);
      if (now) changes.push(...ownershipChanges(`${typeName}.${fieldName}`, was, now));
    }
  }
  return changes;
}

function keyChanges(typeName: string, before: JoinedType, after: JoinedType): FederationChange[] {
  const changes: FederationChange[] = [];
  const subgraphs = new Set([...before.keysBySubgraph.keys(), ...after.keysBySubgraph.keys()]);
  for (const subgraph of [...subgraphs].sort()) {
    const was = [...(before.keysBySubgraph.get(subgraph) ?? [])].filter(Boolean);
    const now = [...(after.keysBySubgraph.get(subgraph) ?? [])].filter(Boolean);
    const removed = was.filter((key) => !now.includes(key));
    const added = now.filter((key) => !was.includes(key));
    if (removed.length > 0 && added.length > 0) {
      changes.push({
        criticality: 'breaking',
        type: 'FEDERATION_KEY_CHANGED',
        coordinate: typeName,
        message: `@key of entity '${typeName}' in subgraph '${subgraph}' changed from ${quoted(removed)} to ${quoted(added)}`,
      });
    } else if (removed.length > 0) {
      changes.push({
        criticality: 'breaking',
        type: 'FEDERATION_KEY_REMOVED',
        coordinate: typeName,
        message: `@key ${quoted(removed)} of entity '${typeName}' was removed from subgraph '${subgraph}'`,
      });
    } else if (added.length > 0) {
      changes.push({
        criticality: 'safe',
        type: 'FEDERATION_KEY_ADDED',
        coordinate: typeName,
        message: `@key ${quoted(added)} was added to '${typeName}' in subgraph '${subgraph}'`,
      });
    }
  }
  return changes;
}

function ownershipChanges(
  coordinate: string,
  was: ReadonlySet<string>,
  now: ReadonlySet<string>,
): FederationChange[] {
  const added = [...now].filter((s) => !was.has(s)).sort();
  const removed = [...was].filter((s) => !now.has(s)).sort();
  if (added.length === 0 && removed.length === 0) return [];
  const list = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');
  if (removed.length === was.size) {
    return [
      {
        criticality: 'dangerous',
        type: 'FEDERATION_FIELD_MOVED',
        coordinate,
        message: `Field '${coordinate}' moved from subgraph ${list(removed)} to ${list([...now].sort())}`,
      },
    ];
  }
  const changes: FederationChange[] = [];
  if (removed.length > 0) {
    changes.push({
      criticality: 'dangerous',
      type: 'FEDERATION_FIELD_SUBGRAPH_REMOVED',
      coordinate,
      message: `Field '${coordinate}' is no longer resolved by subgraph ${list(removed)}`,
    });
  }
  if (added.length > 0) {
    changes.push({
      criticality: 'safe',
      type: 'FEDERATION_FIELD_SUBGRAPH_ADDED',
      coordinate,
      message: `Field '${coordinate}' is now also resolved by subgraph ${list(added)}`,
    });
  }
  return changes;
}

const quoted = (keys: readonly string[]) => keys.map((key) => `"${key}"`).join(', ');

/** Object and interface types with their @join__type keys and @join__field subgraphs. */
function readJoins(document: DocumentNode): Map<string, JoinedType> {
  const graphNames = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') {
      continue;
    }
    for (const value of definition.values ?? []) {
      const name = stringArgument(findDirective(value.directives, 'join__graph'), 'name');
      graphNames.set(value.name.value, name ?? value.name.value.toLowerCase());
    }
  }
  const subgraphOf = (directive: ConstDirectiveNode) => {
    const graph = enumArgument(directive, 'graph');
    return graph === undefined ? undefined : (graphNames.get(graph) ?? graph);
  };

  const types = new Map<string, JoinedType>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION
    ) {
      continue;
    }
    const keysBySubgraph = new Map<string, Set<string>>();
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'join__type') continue;
      const subgraph = subgraphOf(directive);
      if (!subgraph) continue;
      const keys = keysBySubgraph.get(subgraph) ?? new Set<string>();
      keys.add(describeKey(directive));
      keysBySubgraph.set(subgraph, keys);
    }
    // Composition writes no join__type for types outside the join (none in a valid supergraph).
    if (keysBySubgraph.size === 0) continue;
    const fieldSubgraphs = new Map<string, Set<string>>();
    for (const field of definition.fields ?? []) {
      fieldSubgraphs.set(field.name.value, resolvingSubgraphs(field, keysBySubgraph, subgraphOf));
    }
    types.set(definition.name.value, { keysBySubgraph, fieldSubgraphs });
  }
  return types;
}

/**
 * The subgraphs that resolve a field: those of its non-external @join__field directives, or,
 * when it has none naming a graph, every subgraph that defines its type (join spec semantics).
 */
function resolvingSubgraphs(
  field: FieldDefinitionNode,
  keysBySubgraph: ReadonlyMap<string, unknown>,
  subgraphOf: (directive: ConstDirectiveNode) => string | undefined,
): Set<string> {
  const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
  const named = joins.filter((d) => subgraphOf(d) !== undefined);
  if (named.length === 0) return new Set(keysBySubgraph.keys());
  return new Set(
    named
      .filter((d) => !booleanArgument(d, 'external') && !booleanArgument(d, 'usedOverridden'))
      .map((d) => subgraphOf(d)!),
  );
}

/** The key's field set, normalized (`id  org { id }` → `id org { id }`), "" for no key. */
function describeKey(directive: ConstDirectiveNode): string {
  const fields = stringArgument(directive, 'key');
  if (fields === undefined) return '';
  let normalized: string;
  try {
    normalized = print(parse(`{${fields}}`)).replace(/\s+/g, ' ');
    normalized = normalized.slice(1, -1).trim();
  } catch {
    normalized = fields.trim();
  }
  const resolvable = booleanArgument(directive, 'resolvable') ?? true;
  return resolvable ? normalized : `${normalized} (resolvable: false)`;
}

function findDirective(
  directives: readonly ConstDirectiveNode[] | undefined,
  name: string,
): ConstDirectiveNode | undefined {
  return directives?.find((d) => d.name.value === name);
}

function argumentValue(directive: ConstDirectiveNode | undefined, name: string) {
  return directive?.arguments?.find((a) => a.name.value === name)?.value;
}

function stringArgument(directive: ConstDirectiveNode | undefined, name: string) {
  const value = argumentValue(directive, name);
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function enumArgument(directive: ConstDirectiveNode, name: string) {
  const value = argumentValue(directive, name);
  return value?.kind === Kind.ENUM ? value.value : undefined;
}

function booleanArgument(directive: ConstDirectiveNode, name: string) {
  const value = argumentValue(directive, name);
  return value?.kind === Kind.BOOLEAN ? value.value : undefined;
}
