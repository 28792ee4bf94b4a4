/**
 * The Apollo Server plugin that observes every executed operation: request metrics, one access
 * log line, and what the response cache needs to know of the execution (its operation type,
 * overall cache policy and whether it had errors; pipeline/cacheSettle.ts reads them).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../platform/logger.js';
import type { RouterMetrics } from '../metrics.js';
import type { RequestCacheState, RouterContext } from './context.js';

/**
 * The operation label of metrics: bounded, never a name the caller made up
 * (TrustedDocuments.operationLabel). The access log keeps the name as sent.
 */
export type OperationLabel = (
  operationName: string | null | undefined,
  queryHash: string,
  source: string | undefined,
) => string;

export function accessLogPlugin(
  metrics: RouterMetrics,
  logger: Logger,
  operationLabel: OperationLabel,
): ApolloServerPlugin<RouterContext> {
  const accessLog = logger.child({ component: 'access' });
  return {
    async requestDidStart() {
      const started = performance.now();
      let operation = 'unknown';
      // Until the operation resolves (a request that does not parse or validate): fixed.
      let label = 'unknown';
      return {
        async didResolveOperation({ operationName, queryHash, source }) {
          operation = operationName ?? 'anonymous';
          label = operationLabel(operationName, queryHash, source);
        },
        async willSendResponse({
          response,
          errors,
          contextValue,
          operation: document,
          overallCachePolicy,
        }) {
          const state = contextValue.cache;
          if (state) {
            state.operation = document?.operation;
            state.policy = overallCachePolicy.policyIfCacheable() as RequestCacheState['policy'];
            state.hadErrors =
              (errors?.length ?? 0) > 0 ||
              (response.body.kind === 'single' &&
                (response.body.singleResult.errors?.length ?? 0) > 0);
          }
          const hasErrors =
            (errors?.length ?? 0) > 0 ||
            (response.body.kind === 'single' &&
              (response.body.singleResult.errors?.length ?? 0) > 0);
          metrics.requests.inc({ operation: label, outcome: hasErrors ? 'error' : 'ok' });
          const seconds = (performance.now() - started) / 1000;
          metrics.requestDuration.observe({ operation: label }, seconds);
          // One access line per executed operation (cache hits are counted, not logged).
          accessLog.info(
            {
              requestId: contextValue.requestId,
              operation,
              identity: contextValue.identity.kind,
              ms: Math.round(seconds * 1000),
              errors: state?.hadErrors ?? false,
            },
            'graphql',
          );
        },
      };
    },
  };
}
