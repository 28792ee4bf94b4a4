/**
 * Operations that cannot be executed are refused before execution, as the client's mistake
 * (400), the way Apollo Server answers the first kind without a gateway (router and subgraphs
 * both install this plugin):
 *
 * - no operation can be chosen — several operations and no `operationName`, or an
 *   `operationName` the document does not contain: OPERATION_RESOLUTION_FAILURE;
 * - the operation's root type does not exist (`subscription { … }`: the supergraph has no
 *   Subscription type), which graphql-js 16's validation does not check:
 *   GRAPHQL_VALIDATION_FAILED.
 *
 * @remarks
 * In the router, Apollo Server hands such a document to the gateway's executor, which throws an
 * INVALID_GRAPHQL error (a composition code); Apollo Server then answered 500 and the router
 * masked it as INTERNAL_SERVER_ERROR. In a subgraph, graphql-js fails a subscription on a
 * schema without one with an uncoded error, masked as INTERNAL_SERVER_ERROR too. Found by
 * test/e2e/hostile-input.test.ts (`{"query": "query A {…} query B {…}"}`,
 * `"operationName": "Nope"`, `subscription S { me { id } }`). `didResolveOperation` runs after
 * Apollo Server has looked for the operation and before execution.
 */
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind } from 'graphql';

function badRequest(message: string, code: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, http: { status: 400, headers: new HeaderMap() } },
  });
}

export const refuseUnexecutableOperations: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, document, request, schema }) {
        if (operation) {
          if (schema.getRootType(operation.operation)) return;
          throw badRequest(
            `The schema has no ${operation.operation} root type: ${operation.operation} operations are not supported.`,
            'GRAPHQL_VALIDATION_FAILED',
          );
        }
        const operations = document.definitions.filter(
          (definition) => definition.kind === Kind.OPERATION_DEFINITION,
        ).length;
        throw badRequest(
          request.operationName
            ? `Unknown operation named "${request.operationName}".`
            : operations > 1
              ? 'Must provide operation name if query contains multiple operations.'
              : 'Must provide an operation.',
          'OPERATION_RESOLUTION_FAILURE',
        );
      },
    };
  },
};
