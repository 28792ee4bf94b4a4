/**
 * Whether an entity is the caller's to purge from the cache: asked of the subgraphs, which hold
 * the data and the tenant checks, with the caller's own signed identity.
 *
 * @remarks
 * The router knows no tenant of any entity; the subgraphs do, and each entity type's
 * `__resolveReference` applies its object-level check (subgraphs/kit/authz/references.ts):
 * an entity of another organization resolves to null, exactly like an id that does not exist.
 * So the check is one `_entities` fetch per subgraph that resolves the type by `id` (the
 * supergraph's `@join__type(…, key: "id")`: SupergraphState.entitySubgraphs), sent through the
 * same SubgraphClient as every plan node (signed identity, deadline, retries, breaker).
 *
 * Every one of those subgraphs must return the entity, not just one: a subgraph that only
 * extends a type keeps a key-only stub that may resolve any id (fleet's and sessions' `User`),
 * and cannot vouch for it; the subgraph that stores the type loads it and checks its tenant.
 *
 * What the caller learns is "yours" or "not yours" — never "exists elsewhere": another tenant's
 * entity and a missing one give the same answer, through the same reads (one by-id load each).
 */
import { randomUUID } from 'node:crypto';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Identity } from '../../platform/contract/identity.js';
import type { RouterContext } from '../graphql/context.js';
import type { SupergraphState } from '../supergraph.js';

/** `owned`; `not-owned` (another tenant's, or none at all: never told apart); `unavailable`. */
export type Ownership = 'owned' | 'not-owned' | 'unavailable';

export type OwnershipCheck = (
  identity: Identity,
  typename: string,
  id: string,
) => Promise<Ownership>;

const ENTITIES_QUERY =
  'query CacheInvalidationOwnership($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }';

export function entityOwnershipCheck(deps: {
  readonly supergraph: SupergraphState;
  readonly subgraphs: ReadonlyMap<string, GraphQLDataSource<RouterContext>>;
}): OwnershipCheck {
  const { supergraph, subgraphs } = deps;
  return async function ownershipOf(identity, typename, id) {
    const resolvers = supergraph.entitySubgraphs[typename] ?? [];
    // Not an entity the supergraph resolves by id: nobody can vouch for it, so not the caller's.
    if (resolvers.length === 0) return 'not-owned';
    const answers = await Promise.all(
      resolvers.map((name) => resolves(subgraphs.get(name), identity, typename, id)),
    );
    if (answers.includes('unavailable')) return 'unavailable';
    return answers.every((answer) => answer === 'owned') ? 'owned' : 'not-owned';
  };
}

async function resolves(
  client: GraphQLDataSource<RouterContext> | undefined,
  identity: Identity,
  typename: string,
  id: string,
): Promise<Ownership> {
  if (!client) return 'unavailable';
  const context: RouterContext = {
    identity,
    requestId: randomUUID(),
    cache: { reads: new Set(), writes: new Set() },
  };
  try {
    const response = await client.process({
      // Not a plan node of an incoming operation (no request context to fold a cache policy
      // into): the gateway's kind for a fetch of its own, GraphQLDataSourceRequestKind.
      // HEALTH_CHECK (an enum @apollo/gateway does not export, hence its value and the cast).
      kind: 'health check',
      request: {
        query: ENTITIES_QUERY,
        variables: { representations: [{ __typename: typename, id }] },
      },
      context,
    } as unknown as GraphQLDataSourceProcessOptions<RouterContext>);
    const [entity] = (response.data?.['_entities'] as unknown[] | undefined) ?? [];
    // Refused (an error, e.g. the type's audience excludes the caller) and null are one answer.
    const found = (entity as { __typename?: unknown } | null | undefined)?.__typename;
    return found === typename ? 'owned' : 'not-owned';
  } catch {
    // The fetch failed (SUBGRAPH_UNAVAILABLE, logged by the client): says nothing of the entity.
    return 'unavailable';
  }
}
