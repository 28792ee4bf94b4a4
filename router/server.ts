/**
 * The router's composition root: builds (does not listen — router/index.ts listens, tests
 * import this) the collaborators and wires the request pipeline. The only module that reads
 * the configuration; everything it builds is given plain options.
 *
 * A GraphQL request's path, one module each (pipeline/handleGraphQL.ts):
 *   1. pipeline/authenticate.ts — the caller (auth/authenticate.ts) → 401 UNAUTHENTICATED; a
 *      token's revocation check runs on behind 2–4 and is awaited before any answer or execution,
 *   2. pipeline/rateLimit.ts — per API key / user (rateLimit.ts) → 429 RATE_LIMITED,
 *   3. pipeline/readBody.ts, then pipeline/cacheLookup.ts — a cache hit answered unparsed,
 *   4. pipeline/singleFlight.ts (concurrent misses compute once), then pipeline/admission.ts
 *      (executionLimit.ts) → 503 SERVICE_OVERLOADED,
 *   5. pipeline/vetOperation.ts — trusted documents; graphql-armor's limits (graphql/
 *      apolloServer.ts) and the operation's cost with its variables (graphql/operationCost.ts),
 *   6. pipeline/execute.ts — planned by @apollo/gateway, its plan run by execution/ (the lean
 *      executor, QUERY_PLAN_EXECUTOR) through SubgraphClient (identity, retries, breaker),
 *   7. pipeline/cacheSettle.ts — purge what was written, store what may be cached.
 * Routes (http/server.ts): ROUTER_GRAPHQL_PATH (default /graphql), /healthz, /readyz,
 * POST /cache/invalidate (ops/: organization admins, one entity of their own), /ide (dev).
 * The operations listener (http/opsServer.ts, ROUTER_OPS_PORT, never public): /metrics and
 * POST /cache/invalidate for the OPERATOR_TOKEN holder (every form).
 */
// First: replaces @apollo/federation-internals' getter exports before the gateway loads it.
import './flatFederationExports.js';
import { ApolloGateway } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import type { Agent } from 'undici';
import type { CassandraClient } from '../platform/cassandra/client.js';
import type { RouterConfig } from '../platform/config/load.js';
import type { Logger } from '../platform/logger.js';
import type { RedisClient } from '../platform/redis/client.js';
import { gracefulCloser } from '../platform/http.js';
import { ApiKeyStore } from './auth/apiKeys.js';
import { Authenticator } from './auth/authenticate.js';
import { AuthFailureLimiter } from './auth/failureLimit.js';
import { JwtVerifier } from './auth/jwt.js';
import { SessionRevocationCheck } from './auth/sessionRevocation.js';
import { EntityCache } from './cache/entityCache.js';
import { ResponseCache } from './cache/responseCache.js';
import { TagVersions } from './cache/tagVersions.js';
import { installPlanExecutor } from './execution/install.js';
import { ExecutionLimit } from './executionLimit.js';
import { startApolloServer } from './graphql/apolloServer.js';
import { createOpsServer, listenOps } from './http/opsServer.js';
import { createHttpServer, listen } from './http/server.js';
import { createRouterMetrics, type RouterMetrics } from './metrics.js';
import {
  INVALIDATION_RATE_CLASS,
  operatorCacheInvalidationEndpoint,
  tenantCacheInvalidationEndpoint,
} from './ops/cacheInvalidation.js';
import { entityOwnershipCheck } from './ops/entityOwnership.js';
import { metricsEndpoint } from './ops/metricsEndpoint.js';
import { readinessEndpoint } from './ops/readiness.js';
import { admissionStage } from './pipeline/admission.js';
import { authenticateStage, confirmNotRevokedStage } from './pipeline/authenticate.js';
import { cacheLookupStage } from './pipeline/cacheLookup.js';
import { cacheSettleStage } from './pipeline/cacheSettle.js';
import { executeStage } from './pipeline/execute.js';
import { graphqlHandler, type GraphQLHandler } from './pipeline/handleGraphQL.js';
import { rateLimitStage } from './pipeline/rateLimit.js';
import { readBody } from './pipeline/readBody.js';
import { singleFlightStage } from './pipeline/singleFlight.js';
import { vetOperationStage } from './pipeline/vetOperation.js';
import { RateLimiter } from './rateLimit.js';
import { subscriptionsOf } from './subscriptions/setup.js';
import { RedisKeyValueCache } from './redisKeyValueCache.js';
import { createSubgraphAgent, SubgraphClient } from './subgraphClient.js';
import {
  entitySubgraphsOf,
  schemaVersionOf,
  subgraphUrlsOf,
  supergraphFromFile,
  type SupergraphState,
} from './supergraph.js';
import { TrustedDocuments } from './trustedDocuments.js';

export interface Router {
  readonly metrics: RouterMetrics;
  readonly subgraphs: ReadonlyMap<string, SubgraphClient>;
  listen(port: number, host: string): Promise<string>;
  /** The operations listener (http/opsServer.ts); resolves its base URL. */
  listenOps(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

type Deps = { cassandra: CassandraClient; redis: RedisClient; logger: Logger };

export async function createRouter(
  config: RouterConfig,
  deps: { cassandra: CassandraClient; redis: RedisClient; logger: Logger },
): Promise<Router> {
  const parts = await collaboratorsOf(config, deps);
  const { metrics, agent, subgraphs, supergraph, authenticator, responseCache, apollo } = parts;
  const { versions } = parts;
  const graphqlPath = config.graphqlPath;
  const { subscriptions, sse, webSockets } = subscriptionsOf(config, {
    ...parts,
    ...deps,
    authenticate: authenticateStage(parts),
    rateLimit: rateLimitStage(parts),
  });
  const httpServer = createHttpServer(
    {
      graphqlPath,
      isProduction: config.isProduction,
      graphql: graphqlPipelineOf(config, parts),
      subscriptionStream: sse,
      upgrade: (req, socket, head) => webSockets.handleUpgrade(req, socket, head),
      readiness: readinessEndpoint({ supergraph, agent }),
      invalidateCache: tenantCacheInvalidationEndpoint({
        authenticator,
        versions,
        rateLimiter: parts.rateLimiter,
        ownershipOf: entityOwnershipCheck({ supergraph, subgraphs }),
      }),
    },
    deps.logger,
  );
  const drain = gracefulCloser(httpServer);
  const opsServer = createOpsServer(
    {
      metrics: metricsEndpoint(metrics),
      invalidateCache: operatorCacheInvalidationEndpoint({
        operatorToken: config.ops.operatorToken,
        versions,
      }),
    },
    deps.logger,
  );
  const drainOps = gracefulCloser(opsServer);

  return {
    metrics,
    subgraphs,
    listen: (port, host) => listen(httpServer, port, host, graphqlPath),
    listenOps: (port, host) => listenOps(opsServer, port, host),
    // Graceful: stop accepting, let in-flight requests finish (≤ 10 s), close keep-alives.
    close: async () => {
      // Streams first (else the drain waits for them): WebSockets 1012, SSE SERVER_RESTARTING.
      await webSockets.close();
      await subscriptions.close();
      await Promise.all([drain(10_000), opsServer.listening ? drainOps(2_000) : undefined]);
      await apollo.stop();
      await agent.close();
      await parts.rateLimiter.close();
      await responseCache?.close();
      await versions.close();
    },
  };
}

type Collaborators = Awaited<ReturnType<typeof collaboratorsOf>>;

async function collaboratorsOf(config: RouterConfig, deps: Deps) {
  const { logger, redis } = deps;
  const { isProduction } = config;
  const metrics = createRouterMetrics();
  const agent = createSubgraphAgent();
  const subgraphs = new Map<string, SubgraphClient>();
  const supergraph: SupergraphState = { subgraphUrls: {}, version: '', entitySubgraphs: {} };
  // Every router takes part in invalidation, whatever its own cache setting (docs/caching.md).
  const versions = new TagVersions(redis, `${config.redis.keyPrefix}cache-invalidation`, metrics);
  const gateway = gatewayOf(config, deps, { metrics, agent, subgraphs, supergraph, versions });
  const apqCache = new RedisKeyValueCache(redis, 'apq:', () =>
    metrics.redisBypasses.inc({ purpose: 'apq' }),
  );
  const trustedDocuments = new TrustedDocuments(config.trustedDocumentsDir);
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: loaded }) => (apiSchema = loaded));
  return {
    metrics,
    agent,
    subgraphs,
    supergraph,
    versions,
    apiSchema: () => apiSchema, // what subscriptions are validated against (hot-reloaded)
    authenticator: authenticatorOf(config, deps, { supergraph, versions, metrics }),
    // One limiter for both: public cache invalidations are a class of their own, per caller.
    rateLimiter: new RateLimiter(redis, {
      ...config.rateLimits,
      [INVALIDATION_RATE_CLASS]: config.ops.invalidationsPerMinute,
    }),
    executionLimit: new ExecutionLimit(
      config.admission.maxConcurrentExecutions,
      config.admission.maxQueuedExecutions,
      metrics,
    ),
    trustedDocuments,
    responseCache: config.responseCache.enabled
      ? new ResponseCache(redis, versions, metrics, { minUses: config.responseCache.minUses })
      : undefined,
    apollo: await startApolloServer({
      gateway,
      limits: config.limits,
      apqCache,
      isProduction,
      supergraphPath: config.supergraphPath,
      metrics,
      operationLabel: (name, hash, source) => trustedDocuments.operationLabel(name, hash, source),
      logger,
    }),
  };
}

/** The GraphQL request path, stage by stage (pipeline/handleGraphQL.ts). */
function graphqlPipelineOf(config: RouterConfig, parts: Collaborators): GraphQLHandler {
  const { metrics, responseCache, versions } = parts;
  const confirmNotRevoked = confirmNotRevokedStage(parts);
  const { isProduction } = config;
  const cacheOptions = { responseCache, metrics, isProduction, confirmNotRevoked };
  return graphqlHandler({
    authenticate: authenticateStage({ ...parts, deferRevocation: true }),
    rateLimit: rateLimitStage(parts),
    readBody,
    cacheLookup: cacheLookupStage({ ...cacheOptions, supergraph: parts.supergraph }),
    singleFlight: singleFlightStage({ ...cacheOptions, versions }),
    confirmNotRevoked,
    admission: admissionStage({
      executionLimit: parts.executionLimit,
      metrics,
      ...config.admission,
    }),
    vetOperation: vetOperationStage(parts),
    execute: executeStage(parts),
    cacheSettle: cacheSettleStage({ ...cacheOptions, versions }),
  });
}

/** The gateway over the supergraph file, calling each subgraph through a SubgraphClient. */
function gatewayOf(
  config: RouterConfig,
  deps: Deps,
  shared: {
    metrics: RouterMetrics;
    agent: Agent;
    subgraphs: Map<string, SubgraphClient>;
    supergraph: SupergraphState;
    versions: TagVersions;
  },
): ApolloGateway {
  const { metrics, agent, subgraphs, supergraph, versions } = shared;
  // One for all subgraphs (its keys name the subgraph); the plans run by QUERY_PLAN_EXECUTOR's.
  const entityCache = config.entityCache && new EntityCache(deps.redis, versions, metrics);
  installPlanExecutor(config.queryPlanExecutor, metrics.planExecutions);
  return new ApolloGateway({
    supergraphSdl: supergraphFromFile(config.supergraphPath, deps.logger, (sdl) => {
      supergraph.subgraphUrls = { ...subgraphUrlsOf(sdl), ...config.subgraphUrls };
      supergraph.version = schemaVersionOf(sdl);
      supergraph.entitySubgraphs = entitySubgraphsOf(sdl);
    }),
    buildService: ({ name, url }) => {
      const client = new SubgraphClient({
        name,
        url: config.subgraphUrls[name] ?? url ?? '',
        signingSecret: config.identitySigningSecret,
        ...config.subgraphFetch,
        metrics,
        agent,
        tags: config.responseCache.enabled ? 'all' : 'writes',
        ...(entityCache ? { entityCache } : {}),
        onPolicy: (subgraph, fingerprint) => versions.policySeen(subgraph, fingerprint),
        logger: deps.logger.child({ component: 'subgraph-client' }),
      });
      subgraphs.set(name, client);
      return client;
    },
    logger: deps.logger.child({ component: 'gateway' }),
  });
}

/** Failed authentications allowed per client address and minute, unless RATE_LIMITS names one. */
const DEFAULT_AUTH_FAILURE_LIMIT = 30;

function authenticatorOf(
  config: RouterConfig,
  deps: Deps,
  shared: { supergraph: SupergraphState; versions: TagVersions; metrics: RouterMetrics },
): Authenticator {
  const sessions = new SessionRevocationCheck({
    sessionsUrl: () => shared.supergraph.subgraphUrls['sessions'] ?? '',
    signingSecret: config.identitySigningSecret,
    redis: deps.redis,
    activeTtlSeconds: config.sessionCheckCacheSeconds,
    timeoutMs: config.subgraphFetch.timeoutMs,
  });
  // Any router's write to a session or user (a revocation) is asked about afresh at once.
  shared.versions.onLocalInvalidation((what, origin) => sessions.invalidate(what, origin));
  return new Authenticator({
    jwt: new JwtVerifier(config.jwt),
    apiKeys: new ApiKeyStore(deps.cassandra),
    sessions,
    allowAnonymous: config.allowAnonymous,
    failures: new AuthFailureLimiter(
      deps.redis,
      config.rateLimits['auth-failure'] ?? DEFAULT_AUTH_FAILURE_LIMIT,
      () => shared.metrics.redisBypasses.inc({ purpose: 'auth_failure_limit' }),
    ),
  });
}
