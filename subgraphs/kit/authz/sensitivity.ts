/**
 * What "sensitive" means, in one place: a field is sensitive when its name or its type says so.
 * A sensitive field needs a rule of its own in the permission map; its type's object-level
 * check does not cover it (coverage.ts refuses to start, naming the field).
 *
 * @remarks
 * Why a name and type list rather than a directive in the SDL: a directive would change every
 * subgraph's schema and the composed supergraph (and the router's and clients' copies), and it
 * would still have to be remembered by whoever adds the field — the failure this guards against.
 * A name list catches the field nobody thought about (`User.phone`, `Robot.location`,
 * `ApiKey.secret`) without anyone writing anything, and a reviewer reads the whole definition
 * here. The price is false positives, which cost one explicit rule (usually the type's own
 * audience, `audienceRule(READERS)`), never an opening.
 *
 * - **By name**: the field's name, split into words (camelCase, snake_case), contains one of
 *   {@link SENSITIVE_WORDS} (a plural counts: `emails`, `ipAddresses`). Words, not substrings, so
 *   `description` is not an `ip` and `monkey` not a `key`.
 * - **By type**: the field's type (lists and non-null unwrapped) is one of
 *   {@link SENSITIVE_TYPES} — values that are sensitive whatever the field is called.
 *
 * A field of a *value* type (declared with `valueOf`, so it has no identity and `_entities` can
 * never produce it) counts as ruled when every field of the schema that returns its type has a
 * rule, or is ruled this way in turn: `Position.latitude` is guarded by `Robot.position`'s rule,
 * `SessionClient.ipAddress` by `Session.client`'s. The producers are read from the schema, not
 * from the declaration, so a new field returning the value type without a rule breaks the proof.
 */
import {
  getNamedType,
  isAbstractType,
  isObjectType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { PermissionMap } from './coverage.js';
import type { ObjectChecks } from './objects.js';

/** Words that make a field sensitive: personal data, credentials, security, location. */
export const SENSITIVE_WORDS: readonly string[] = [
  // personal data and who a person is in the organization
  'email',
  'phone',
  'address',
  'role',
  // credentials and secrets
  'password',
  'secret',
  'token',
  'key',
  'credential',
  // where and with what someone signed in
  'session',
  'ip',
  'agent',
  // what names the vulnerabilities that apply to a robot
  'firmware',
  // where robots (and so sites) are and have been
  'position',
  'location',
  'latitude',
  'longitude',
  'telemetry',
];

/** Types whose values are sensitive whatever the field returning them is called. */
export const SENSITIVE_TYPES: readonly string[] = [
  'Position',
  'TelemetrySample',
  'SessionClient',
  'SessionConnection',
];

/** `ipAddress` → `['ip', 'address']`, `API_KEY` → `['api', 'key']`. */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
}

const matches = (word: string, sensitive: string) =>
  word === sensitive || word === `${sensitive}s` || word === `${sensitive}es`;

/** Why a field is sensitive (`name: email`, `type: Position`), or null when it is not. */
export function sensitivityOf(fieldName: string, typeName: string): string | null {
  const word = wordsOf(fieldName).find((w) => SENSITIVE_WORDS.some((s) => matches(w, s)));
  if (word !== undefined) return `name: ${word}`;
  return SENSITIVE_TYPES.includes(typeName) ? `type: ${typeName}` : null;
}

/** Every sensitive field of the schema's object types: `'Type.field'` → why. */
export function sensitiveFields(schema: GraphQLSchema): Map<string, string> {
  const found = new Map<string, string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    for (const field of Object.values(type.getFields())) {
      const why = sensitivityOf(field.name, getNamedType(field.type).name);
      if (why !== null) found.set(`${type.name}.${field.name}`, why);
    }
  }
  return found;
}

/** The fields of the schema whose value can be an object of `type`. */
function producersOf(schema: GraphQLSchema, type: GraphQLObjectType): string[] {
  const producers: string[] = [];
  for (const parent of Object.values(schema.getTypeMap())) {
    if (!isObjectType(parent) || parent.name.startsWith('__')) continue;
    for (const field of Object.values(parent.getFields())) {
      const named = getNamedType(field.type);
      if (named === type || (isAbstractType(named) && schema.isSubType(named, type)))
        producers.push(`${parent.name}.${field.name}`);
    }
  }
  return producers;
}

/**
 * The sensitive fields (outside the root types, whose fields all need rules anyway) that have
 * no rule of their own and are not inside a value type reachable only through ruled fields,
 * each as `Type.field (why)`.
 */
export function unruledSensitiveFields(
  schema: GraphQLSchema,
  permissions: PermissionMap,
  objects: ObjectChecks,
): string[] {
  const roots = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].map(
      (type) => type?.name,
    ),
  );
  const visiting = new Set<string>();
  const ruled = (coordinate: string): boolean =>
    permissions[coordinate] !== undefined || insideRuledValue(coordinate.split('.')[0]!);
  const insideRuledValue = (typeName: string): boolean => {
    const type = schema.getType(typeName);
    if (objects[typeName]?.kind !== 'value' || !isObjectType(type) || visiting.has(typeName))
      return false;
    visiting.add(typeName);
    const producers = producersOf(schema, type);
    const guarded = producers.length > 0 && producers.every(ruled);
    visiting.delete(typeName);
    return guarded;
  };
  return [...sensitiveFields(schema)]
    .filter(([coordinate]) => !roots.has(coordinate.split('.')[0]) && !ruled(coordinate))
    .map(([coordinate, why]) => `${coordinate} (${why})`);
}
