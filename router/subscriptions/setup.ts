/**
 * Builds the router's subscriptions (manager.ts) and their two transports (sse.ts, ws.ts)
 * from its configuration and collaborators (server.ts).
 */
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { RouterConfig } from '../../platform/config/load.js';
import type { Logger } from '../../platform/logger.js';
import type { RedisClient } from '../../platform/redis/client.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { ExecutionLimit } from '../executionLimit.js';
import { armorOf } from '../graphql/apolloServer.js';
import type { RouterContext } from '../graphql/context.js';
import type { RouterMetrics } from '../metrics.js';
import type { RateLimiter } from '../rateLimit.js';
import type { TrustedDocuments } from '../trustedDocuments.js';
import type { RequestState, StageOutcome } from '../pipeline/requestState.js';
import { Subscriptions } from './manager.js';
import { sseHandler } from './sse.js';
import { StreamHub } from './streamHub.js';
import { webSocketTransport } from './ws.js';

export function subscriptionsOf(
  config: RouterConfig,
  deps: {
    readonly apollo: ApolloServer<RouterContext>;
    /** The API schema subscriptions are validated against, as the gateway (re)loads it. */
    readonly apiSchema: () => GraphQLSchema | undefined;
    readonly redis: RedisClient;
    readonly authenticator: Authenticator;
    readonly rateLimiter: RateLimiter;
    readonly executionLimit: ExecutionLimit;
    readonly trustedDocuments: TrustedDocuments;
    readonly metrics: RouterMetrics;
    readonly logger: Logger;
    /** The GraphQL path's own stages, which an SSE request goes through first. */
    readonly authenticate: (state: RequestState) => Promise<StageOutcome>;
    readonly rateLimit: (state: RequestState) => StageOutcome;
  },
) {
  const { metrics, logger } = deps;
  const subscriptions = new Subscriptions({
    ...deps,
    schema: deps.apiSchema,
    hub: new StreamHub(deps.redis, {
      logger: logger.child({ component: 'event-streams' }),
      metrics,
    }),
    logger: logger.child({ component: 'subscriptions' }),
    limits: config.limits,
    rules: armorOf(config.limits, config.isProduction).validationRules,
    settings: config.subscriptions,
  });
  const sse = sseHandler({ ...deps, subscriptions });
  const webSockets = webSocketTransport({
    path: `${config.graphqlPath}/ws`,
    subscriptions,
    authenticator: deps.authenticator,
    isProduction: config.isProduction,
  });
  return { subscriptions, sse, webSockets };
}
