/**
 * Apollo Server plugin: counts GraphQL requests by operation name
 * (fleetgraph_graphql_requests_total), the label bounded by SubgraphMetrics.operationLabel.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { SubgraphMetrics } from '../metrics.js';

export function countRequests<TContext extends object>(
  metrics: Pick<SubgraphMetrics, 'requests' | 'operationLabel'>,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName }) {
          metrics.requests.inc({ operation: metrics.operationLabel(operationName) });
        },
      };
    },
  };
}
