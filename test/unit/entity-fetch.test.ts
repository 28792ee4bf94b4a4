/**
 * router/entityFetch.ts in process, over a fake entity cache: the partial `_entities` fetch
 * carries only the misses, once each; results come back in the gateway's order; the partial
 * fetch's errors move to the indices of the representations they concern; and only entities
 * without errors are stored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntityCache } from '../../router/cache/entityCache.js';
import { copyOf, fetchEntities, isEntitiesFetch, type Fetched } from '../../router/entityFetch.js';
import type { RouterContext } from '../../router/graphql/context.js';

const QUERY =
  'query Q__users__1($representations:[_Any!]!){_entities(representations:$representations){...on User{displayName}}}';
const user = (id: string) => ({ __typename: 'User', id });

function fakeCache(hits: Record<string, unknown>) {
  const stored: string[] = [];
  const uncacheable = new Set<string>();
  let lookups = 0;
  const cache = {
    available: true,
    isKnownUncacheable: (subgraph: string, query: string) =>
      uncacheable.has(`${subgraph}\n${query}`),
    rememberUncacheable: (subgraph: string, query: string) =>
      void uncacheable.add(`${subgraph}\n${query}`),
    forgetUncacheable: (subgraph: string, query: string) =>
      void uncacheable.delete(`${subgraph}\n${query}`),
    get lookups() {
      return lookups;
    },
    snapshot: () => ({ epoch: 'e', seq: 1, mark: 0 }),
    shapeOf: () => 'shape',
    lookup: async (_shape: string, _caller: unknown, reps: readonly string[]) =>
      (lookups++, reps).map((rep) => {
        const id = (JSON.parse(rep) as { id: string }).id;
        return id in hits
          ? {
              entity: hits[id],
              reads: ['User:' + id],
              scope: 'PUBLIC',
              expiresAt: Date.now() + 60_000,
            }
          : undefined;
      }),
    store: async (_s: unknown, _c: unknown, _p: unknown, entities: { rep: string }[]) => {
      stored.push(...entities.map((e) => (JSON.parse(e.rep) as { id: string }).id));
      return entities.length;
    },
  };
  return { cache: cache as unknown as EntityCache, stored };
}

const metrics = {
  entityCacheHits: { inc: () => undefined },
  entityCacheMisses: { inc: () => undefined },
  redisBypasses: { inc: () => undefined },
} as never;

const context = {
  identity: { kind: 'anonymous' },
  requestId: 'r',
  cache: { reads: new Set<string>(), writes: new Set<string>() },
} as unknown as RouterContext;

describe('an _entities fetch through the entity cache', () => {
  it('when some entities are cached, then only the distinct misses are sent and the results and errors keep the full indices', async () => {
    const { cache, stored } = fakeCache({ a: { displayName: 'A' } });
    const representations = [user('a'), user('b'), user('c'), user('b'), user('c')];
    const request = { query: QUERY, variables: { representations } };
    assert.ok(isEntitiesFetch(request));
    let sent: unknown;
    const response = await fetchEntities(
      { cache, subgraph: 'users', metrics, context, request, overallPolicy: undefined },
      async (variables): Promise<Fetched> => {
        sent = variables['representations'];
        return {
          response: {
            data: { _entities: [{ displayName: 'B' }, null] },
            errors: [{ message: 'denied', path: ['_entities', 1, 'displayName'] }],
          },
          cacheControl: 'max-age=60, public',
          reads: ['User:b', 'User:c'],
        };
      },
    );
    assert.deepEqual(sent, [user('b'), user('c')]);
    assert.deepEqual(response.data, {
      _entities: [{ displayName: 'A' }, { displayName: 'B' }, null, { displayName: 'B' }, null],
    });
    assert.deepEqual(
      response.errors?.map((error) => error.path),
      [
        ['_entities', 2, 'displayName'],
        ['_entities', 4, 'displayName'],
      ],
    );
    assert.deepEqual(stored, ['b'], 'the entity with an error is not stored');
    assert.ok(context.cache.reads.has('User:a'), "a hit's tags are the request's too");
  });

  it('when a representation repeats, then each position gets its own copy, deep when the entity nests', () => {
    const flat = { __typename: 'User', displayName: 'A', count: 3, active: true, gone: null };
    const flatCopy = copyOf(flat) as typeof flat;
    assert.notEqual(flatCopy, flat);
    assert.deepEqual(flatCopy, flat);
    const nested = { displayName: 'A', organization: { id: 'o' }, roles: ['viewer'] };
    const nestedCopy = copyOf(nested) as typeof nested;
    assert.deepEqual(nestedCopy, nested);
    assert.notEqual(nestedCopy.organization, nested.organization, 'nested objects are copied too');
    assert.notEqual(nestedCopy.roles, nested.roles);
    assert.equal(copyOf(null), null);
    assert.equal(copyOf('x'), 'x');
  });

  it('when every entity is cached, then nothing is sent', async () => {
    const { cache } = fakeCache({ a: { displayName: 'A' } });
    const request = { query: QUERY, variables: { representations: [user('a'), user('a')] } };
    const response = await fetchEntities(
      { cache, subgraph: 'users', metrics, context, request, overallPolicy: undefined },
      () => assert.fail('no fetch expected'),
    );
    assert.deepEqual(response.data, { _entities: [{ displayName: 'A' }, { displayName: 'A' }] });
  });

  it('when a complete answer carries no cacheable policy, then that shape skips the lookup until an answer is cacheable again', async () => {
    const { cache } = fakeCache({});
    const request = { query: QUERY, variables: { representations: [user('a')] } };
    const fetchWith = (cacheControl: string | undefined) =>
      fetchEntities(
        { cache, subgraph: 'users', metrics, context, request, overallPolicy: undefined },
        async (): Promise<Fetched> => ({
          response: { data: { _entities: [{ displayName: 'A' }] } },
          cacheControl,
          reads: ['User:a'],
        }),
      );
    const lookups = () => (cache as unknown as { lookups: number }).lookups;
    await fetchWith(undefined);
    assert.equal(lookups(), 1);
    await fetchWith('max-age=60, public'); // known uncacheable: no lookup, but it is cacheable now
    assert.equal(lookups(), 1);
    await fetchWith('max-age=60, public');
    assert.equal(lookups(), 2, 'tried again once an answer was cacheable');
  });

  it('when a cacheable answer reports no read tags (a subgraph not built on the kit), then that shape skips the lookup too', async () => {
    const { cache, stored } = fakeCache({});
    const request = { query: QUERY, variables: { representations: [user('a')] } };
    const fetchWith = (reads: string[] | undefined) =>
      fetchEntities(
        { cache, subgraph: 'users', metrics, context, request, overallPolicy: undefined },
        async (): Promise<Fetched> => ({
          response: { data: { _entities: [{ displayName: 'A' }] } },
          cacheControl: 'max-age=60, public',
          reads,
        }),
      );
    const lookups = () => (cache as unknown as { lookups: number }).lookups;
    await fetchWith(undefined);
    await fetchWith(undefined);
    assert.equal(lookups(), 1, 'no lookup once the shape is known to report no tags');
    assert.deepEqual(stored, [], 'nothing stored without tags');
    await fetchWith(['User:a']); // it reports tags now: tried again
    await fetchWith(['User:a']);
    assert.equal(lookups(), 2);
  });

  it('when a fetch is a mutation or not of entities, then it is not an entities fetch', () => {
    assert.equal(isEntitiesFetch({ query: 'query { me { id } }', variables: {} }), false);
    assert.equal(
      isEntitiesFetch({ query: 'mutation { _entities(representations: []) { __typename } }' }),
      false,
    );
  });
});
