/**
 * The federation fields every subgraph serves, declared once instead of in each permission map.
 *
 * @remarks
 * With deny by default, `Query._service` (composition reads the SDL through it) and
 * `Query._entities` (the router resolves every cross-subgraph reference through it) must be
 * allowed explicitly, or composition breaks and every reference comes back null
 * (graphql-shield#641). Allowing `_entities` opens nothing: each entity it returns is judged by
 * its type's object-level check in `__resolveReference` (references.ts). `_Service` is the value
 * `_service` answers with. {@link withAuthorization} adds these before the coverage check, so
 * a permission map holds only the subgraph's own policy, and the check still refuses any field
 * the map and the object-level checks leave uncovered.
 */
import type { GraphQLSchema } from 'graphql';
import type { PermissionMap } from './coverage.js';
import { valueOf, type ObjectChecks } from './objects.js';
import { allow } from './rules.js';

const SERVICE = 'Query._service';
const ENTITIES = 'Query._entities';

/**
 * `permissions` and `objects` with the federation fields added: `_service` always, `_entities`
 * when the schema has it (a subgraph without entity types has none). The map's own entries win.
 */
export function withFederationPermissions(
  schema: GraphQLSchema,
  permissions: PermissionMap,
  objects: ObjectChecks,
): { permissions: PermissionMap; objects: ObjectChecks } {
  const hasEntities = schema.getQueryType()?.getFields()['_entities'] !== undefined;
  return {
    permissions: {
      [SERVICE]: allow,
      ...(hasEntities ? { [ENTITIES]: allow } : {}),
      ...permissions,
    },
    objects: { _Service: valueOf(SERVICE), ...objects },
  };
}
