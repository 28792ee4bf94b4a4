/**
 * Apollo Server in front of the gateway: operation limits checked before any subgraph is called
 * (graphql-armor's depth, alias, token and directive limits; the cost limit, with the variables'
 * list sizes, in ./operationCost.ts), automatic persisted queries shared through Redis, error
 * masking, and the access log. The router hands it requests itself
 * (executeHTTPGraphQLRequest): no HTTP integration, no landing page.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup.js';
import { refuseUnexecutableOperations } from '../../platform/unexecutableOperations.js';
import type { RouterMetrics } from '../metrics.js';
import { accessLogPlugin, type OperationLabel } from './accessLog.js';
import type { RouterContext } from './context.js';
import { formatRouterError } from './formatError.js';
import { operationCostPlugin } from './operationCost.js';

export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxTokens: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
}

export interface ApolloServerOptions {
  readonly gateway: ApolloGateway;
  readonly limits: OperationLimits;
  /** Automatic persisted queries' store (shared by all router instances). */
  readonly apqCache: KeyValueCache<string>;
  readonly isProduction: boolean;
  /** Named in the start-up error when the supergraph cannot be loaded. */
  readonly supergraphPath: string;
  readonly metrics: RouterMetrics;
  /** The bounded operation label of request metrics (registered operations only). */
  readonly operationLabel: OperationLabel;
  readonly logger: Logger;
}

/**
 * graphql-armor's limits: Apollo Server's plugins and validation rules; subscriptions validate
 * their documents with the same rules (subscriptions/operation.ts).
 */
export function armorOf(limits: OperationLimits, isProduction: boolean) {
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { n: limits.maxTokens },
    maxDirectives: { n: limits.maxDirectives },
    // One cost model: armor's rule runs without the variables (robots(first: $n) went uncounted).
    costLimit: { enabled: false },
    // Field suggestions ("Did you mean …?") reveal the schema; hidden in production.
    blockFieldSuggestion: { enabled: isProduction },
  }).protect();
}

/** Builds and starts Apollo Server (which loads the supergraph through the gateway). */
export async function startApolloServer(
  options: ApolloServerOptions,
): Promise<ApolloServer<RouterContext>> {
  const { limits, isProduction, metrics, logger } = options;
  const armor = armorOf(limits, isProduction);
  const apollo = new ApolloServer<RouterContext>({
    gateway: options.gateway,
    plugins: [
      ...(armor.plugins as ApolloServerPlugin<RouterContext>[]),
      accessLogPlugin(metrics, logger, options.operationLabel),
      refuseUnexecutableOperations as ApolloServerPlugin<RouterContext>,
      operationCostPlugin(limits.maxCost),
      ApolloServerPluginLandingPageDisabled() as ApolloServerPlugin<RouterContext>,
    ],
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    // Automatic persisted queries, shared by all router instances through Redis.
    persistedQueries: { cache: options.apqCache, ttl: 86_400 },
    includeStacktraceInErrorResponses: false,
    introspection: !isProduction,
    csrfPrevention: true,
    formatError: (formatted, error) =>
      formatRouterError(formatted, error, metrics, logger, isProduction),
    // router/index.ts owns SIGTERM/SIGINT: Apollo's own handler (on unless NODE_ENV=test) would
    // stop the gateway at once — failing requests still being drained — and then re-raise the
    // signal, killing the process before close() has finished.
    stopOnTerminationSignals: false,
  });
  try {
    await apollo.start();
  } catch (error) {
    throw new StartupError(
      `The router could not load the supergraph at ${options.supergraphPath} (SUPERGRAPH_PATH): ${(error as Error).message.split('\n')[0]}`,
    );
  }
  return apollo;
}
