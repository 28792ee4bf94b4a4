/**
 * Random GraphQL operations over a schema, for property tests of the query plan executor:
 * random fields with aliases (some repeated, so that one response name merges several
 * selections), arguments from a small pool, inline fragments on possible types (and without a
 * type condition), `__typename` (also aliased), and @include/@skip with literals or variables.
 * Deterministic for a seed. Operations that fail validation are the caller's to skip.
 */
import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';

/** mulberry32: a small seeded PRNG. */
export function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedOperation {
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

const ID_POOL = ['b1', 'b2', 'b3', 'b4', 't1', 'a1', 'zz'];
const ALIASES = ['a', 'b', 'first', 'x'];

function fieldsOf(type: GraphQLCompositeType): GraphQLField<unknown, unknown>[] {
  return isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : [];
}

export function generateOperation(schema: GraphQLSchema, random: () => number): GeneratedOperation {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const chance = (p: number) => random() < p;
  const used = new Map<string, string>();
  const variables: Record<string, unknown> = {};

  const directive = (): string => {
    if (!chance(0.2)) return '';
    const name = pick(['include', 'skip']);
    if (chance(0.5)) return ` @${name}(if: ${pick(['true', 'false'])})`;
    const variable = pick(['yes', 'no', 'maybe']);
    used.set(variable, 'Boolean!');
    variables[variable] ??= variable === 'maybe' ? chance(0.5) : variable === 'yes';
    return ` @${name}(if: $${variable})`;
  };

  const argument = (arg: GraphQLArgument): string | undefined => {
    const type = getNamedType(arg.type);
    if (!isNonNullType(arg.type) && chance(0.3)) return undefined;
    if (type.name === 'ID') return `${arg.name}: "${pick(ID_POOL)}"`;
    if (type.name === 'String') {
      if (chance(0.5)) {
        used.set('term', 'String');
        variables['term'] ??= pick(['none', 'dune', null]);
        return `${arg.name}: $term`;
      }
      return `${arg.name}: "${pick(['none', 'dune'])}"`;
    }
    if (isEnumType(type)) return `${arg.name}: ${pick(type.getValues()).name}`;
    return undefined;
  };

  const selection = (type: GraphQLCompositeType, depth: number): string => {
    const parts: string[] = [];
    if (fieldsOf(type).length && (!isAbstractType(type) || chance(0.5))) {
      const fields = fieldsOf(type);
      const count = 1 + Math.floor(random() * Math.min(4, fields.length));
      for (let i = 0; i < count; i++) {
        const field = pick(fields);
        const named = getNamedType(field.type);
        if (isCompositeType(named) && depth <= 0) continue;
        const args = field.args.map(argument).filter((a): a is string => a !== undefined);
        if (field.args.some((a) => isNonNullType(a.type)) && args.length === 0) continue;
        const alias = chance(0.25) ? `${pick(ALIASES)}: ` : '';
        const head = `${alias}${field.name}${args.length ? `(${args.join(', ')})` : ''}${directive()}`;
        const body = isCompositeType(named) ? ` { ${selection(named, depth - 1)} }` : '';
        parts.push(`${head}${body}`);
        // The same field again, same arguments, another selection: merged under one name.
        if (body && isCompositeType(named) && chance(0.15))
          parts.push(`${head} { ${selection(named, depth - 1)} }`);
      }
    }
    if (chance(0.3)) parts.push(chance(0.3) ? `kind: __typename` : '__typename');
    if (
      isAbstractType(type) ||
      (isObjectType(type) && chance(0.2)) ||
      (isInterfaceType(type) && chance(0.5))
    ) {
      const possible = isAbstractType(type) ? schema.getPossibleTypes(type) : [type];
      const fragments = 1 + Math.floor(random() * 2);
      for (let i = 0; i < fragments; i++) {
        const condition = chance(0.15) ? '' : ` on ${pick([...possible, type]).name}`;
        const target = condition
          ? (schema.getType(condition.slice(4)) as unknown as GraphQLCompositeType)
          : type;
        parts.push(`...${condition}${directive()} { ${selection(target, depth - 1)} }`);
      }
    }
    if (parts.length === 0) parts.push('__typename');
    return parts.join(' ');
  };

  const root = schema.getQueryType()!;
  const body = selection(root, 3);
  const definitions = [...used].map(([name, type]) => `$${name}: ${type}`);
  const header = definitions.length
    ? `query Generated(${definitions.join(', ')})`
    : 'query Generated';
  const declared = Object.fromEntries(Object.entries(variables).filter(([name]) => used.has(name)));
  return { query: `${header} { ${body} }`, variables: declared };
}
