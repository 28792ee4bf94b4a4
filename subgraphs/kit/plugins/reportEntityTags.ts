/**
 * Apollo Server plugin: reports the entity tags of a request (kit/cassandra/entityTags.ts) in
 * the response's extensions, when the router asks for them.
 *
 * @remarks
 * The router asks for the entity tags of each fetch (x-fleetgraph-tags) to key its response
 * cache and to purge it after mutations (router/cache/). `1`: every tag — the router's response
 * cache stores and purges by them; `writes`: only a mutation's — a router without the cache
 * still purges the others' entries. Anything else: nothing is added.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { TAGS_EXTENSION, TAGS_REQUEST_HEADER } from '../../../platform/contract/entityTags.js';
import { requestTags } from '../cassandra/entityTags.js';

/**
 * @param policy - the subgraph's policy fingerprint (authz/policyFingerprint.ts), sent with the
 *   tags so the router can tell responses made under other rules apart.
 */
export function reportEntityTags<TContext extends object>(
  policy: string,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ request }) {
      const wanted = request.http?.headers.get(TAGS_REQUEST_HEADER);
      if (wanted !== '1' && wanted !== 'writes') return;
      return {
        async willSendResponse({ response, overallCachePolicy }) {
          const tags = requestTags.getStore();
          if (!tags || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            [TAGS_EXTENSION]: {
              reads: wanted === '1' ? [...tags.reads] : [],
              writes: [...tags.writes],
              policy,
              ...(overallCachePolicy.scope === 'PRIVATE' ? { scope: 'PRIVATE' } : {}),
            },
          };
        },
      };
    },
  };
}
