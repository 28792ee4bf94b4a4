/**
 * Execution: Apollo Server plans and runs the operation with @apollo/gateway, calling the
 * subgraphs through SubgraphClient (../subgraphClient.ts). Copies Apollo's status and headers
 * onto the response; a streamed (incremental) response is written out here, a complete one is
 * handed back for cacheSettle before it is sent.
 */
import type { ApolloServer, HTTPGraphQLResponse } from '@apollo/server';
import type { ServerResponse } from 'node:http';
import { headerMapOf } from '../../platform/http.js';
import type { TagVersions } from '../cache/tagVersions.js';
import { routerContextOf, type RouterContext } from '../graphql/context.js';
import type { RequestState } from './requestState.js';

export function executeStage(deps: {
  readonly apollo: ApolloServer<RouterContext>;
  /** Absent without Redis; its snapshot is what a response may be stored under. */
  readonly versions: TagVersions | undefined;
}): (state: RequestState) => Promise<string | undefined> {
  const { apollo, versions } = deps;
  /** Returns the complete response body, or undefined when it was streamed (and ended). */
  return async function execute(state) {
    const { req, res, auth } = state;
    const cache = (state.cache = { reads: new Set(), writes: new Set() });
    // Before any fetch: a purge after this moment must keep the response out of the cache.
    state.snapshot = versions?.snapshot();
    // What the requests arriving meanwhile compare with the purges they know of (flights.ts).
    if (state.flight) state.flight.snapshot = state.snapshot;
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: state.method,
        headers: headerMapOf(req),
        search: state.search,
        body: state.body,
      },
      context: async () => routerContextOf(auth, state.id, cache),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (res.statusCode === 500 && refusedBeforeExecution(response.body)) res.statusCode = 400;
    if (res.statusCode === 400 && answersLegacyJson(res) && failedBeforeData(response.body))
      res.statusCode = 200;
    if (response.body.kind !== 'complete') {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
      return undefined;
    }
    return response.body.string;
  };
}

/**
 * graphql-armor's token limit throws inside parsing, which Apollo Server answers with 500; a
 * request refused before execution is the client's fault: 400 (GraphQL-over-HTTP).
 */
function refusedBeforeExecution(body: HTTPGraphQLResponse['body']): boolean {
  return (
    body.kind === 'complete' &&
    /"code":"GRAPHQL_(VALIDATION|PARSE)_FAILED"/.test(body.string) &&
    !body.string.includes('"data"')
  );
}

/**
 * GraphQL-over-HTTP: a client that accepts only `application/json` (the legacy media type)
 * cannot tell a GraphQL error from a transport failure by status, so the server SHOULD answer
 * a well-formed request whose document fails to parse or validate, or whose variables fail to
 * coerce, with 200 and the errors; `application/graphql-response+json` clients keep the 400
 * (graphql-http's audit). Such a response is never cached: it has errors.
 */
function answersLegacyJson(res: ServerResponse): boolean {
  return String(res.getHeader('content-type') ?? '').startsWith('application/json');
}

function failedBeforeData(body: HTTPGraphQLResponse['body']): boolean {
  return (
    body.kind === 'complete' &&
    /"code":"(GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED|BAD_USER_INPUT)"/.test(body.string) &&
    !body.string.includes('"data"')
  );
}
