/**
 * The router: the single public entry point. Builds (does not listen — router/index.ts
 * listens, tests import this) an HTTP server that
 *   1. authenticates the caller (auth/authenticate.ts) → 401 UNAUTHENTICATED on bad credentials,
 *   2. rate-limits per API key / user (rateLimit.ts) → 429 RATE_LIMITED with Retry-After,
 *   3. validates the operation against depth/alias/token/directive/cost limits (graphql-armor)
 *      before any subgraph is called,
 *   4. plans and executes it with @apollo/gateway over the supergraph file, calling subgraphs
 *      through SubgraphClient (signed identity, timeouts, retries, circuit breaker).
 * Routes: ROUTER_GRAPHQL_PATH (default /graphql), /healthz, /readyz, /metrics, /ide (dev).
 */
// First: replaces @apollo/federation-internals' getter exports before the gateway loads it.
import './flatFederationExports.js';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLFormattedError } from 'graphql';
import { request } from 'undici';
import type { CassandraClient } from '../platform/cassandra/client.js';
import type { Config } from '../platform/config.js';
import { codeOfFormattedError, ErrorCode, EXPECTED_CODES } from '../platform/contract/errors.js';
import { REQUEST_ID_HEADER, type Identity } from '../platform/contract/identity.js';
import type { Logger } from '../platform/logger.js';
import type { RedisClient } from '../platform/redis/client.js';
import {
  gracefulCloser,
  headerMapOf,
  headerReaderOf,
  isClientHangUp,
  MAX_BODY_BYTES,
  readBody,
  sendJson,
} from '../platform/http.js';
import { StartupError } from '../platform/startup.js';
import { refuseUnexecutableOperations } from '../platform/unexecutableOperations.js';
import { ApiKeyStore } from './auth/apiKeys.js';
import { Authenticator } from './auth/authenticate.js';
import { JwtVerifier } from './auth/jwt.js';
import { SessionRevocationCheck } from './auth/sessionRevocation.js';
import { serveIde } from './ide.js';
import { createRouterMetrics, type RouterMetrics } from './metrics.js';
import { ExecutionLimit } from './executionLimit.js';
import { RateLimiter } from './rateLimit.js';
import { RedisKeyValueCache } from './redisKeyValueCache.js';
import { TrustedDocuments } from './trustedDocuments.js';
import {
  createSubgraphAgent,
  SubgraphClient,
  type RequestCacheState,
  type RouterContext,
} from './subgraphClient.js';
import { ResponseCache, scopeKey, type CachedResponse } from './cache/responseCache.js';
import { subgraphUrlsOf, supergraphFromFile } from './supergraph.js';

/** Error codes Apollo Server and graphql-armor produce for bad requests; safe to show. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'SUBGRAPH_UNAVAILABLE',
  'OPERATION_NOT_TRUSTED',
]);

export interface Router {
  readonly metrics: RouterMetrics;
  readonly subgraphs: ReadonlyMap<string, SubgraphClient>;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export async function createRouter(
  config: Config,
  deps: { cassandra: CassandraClient; redis: RedisClient; logger: Logger },
): Promise<Router> {
  const { logger, redis } = deps;
  const metrics = createRouterMetrics();
  const agent = createSubgraphAgent();
  const subgraphs = new Map<string, SubgraphClient>();
  let subgraphUrls: Record<string, string> = {};
  let schemaVersion = '';

  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile(config.router.supergraphPath, logger, (sdl) => {
      subgraphUrls = { ...subgraphUrlsOf(sdl), ...config.router.subgraphUrls };
      // Cached responses belong to the schema that produced them: a reload starts afresh.
      schemaVersion = createHash('sha256').update(sdl).digest('hex').slice(0, 16);
    }),
    buildService: ({ name, url }) => {
      const client = new SubgraphClient({
        name,
        url: config.router.subgraphUrls[name] ?? url ?? '',
        signingSecret: config.identitySigningSecret,
        timeoutMs: config.router.subgraphTimeoutMs,
        mutationTimeoutMs: config.router.subgraphMutationTimeoutMs,
        retries: config.router.subgraphRetries,
        metrics,
        agent,
        tags: config.router.responseCache ? 'all' : 'writes',
      });
      subgraphs.set(name, client);
      return client;
    },
    logger: logger.child({ component: 'gateway' }),
  });

  const authenticator = new Authenticator({
    jwt: new JwtVerifier(config),
    apiKeys: new ApiKeyStore(deps.cassandra),
    sessions: new SessionRevocationCheck({
      sessionsUrl: () => subgraphUrls['sessions'] ?? '',
      signingSecret: config.identitySigningSecret,
      redis,
      activeTtlSeconds: config.router.sessionCheckCacheSeconds,
      timeoutMs: config.router.subgraphTimeoutMs,
    }),
    allowAnonymous: config.router.allowAnonymous,
  });
  const rateLimiter = new RateLimiter(redis, config.router.rateLimits);
  const executionLimit = new ExecutionLimit(
    config.router.maxConcurrentExecutions,
    config.router.maxQueuedExecutions,
    metrics,
  );
  const trustedDocuments = new TrustedDocuments(config.router.trustedDocumentsDir);
  const responseCache = config.router.responseCache
    ? new ResponseCache(redis, metrics, { minUses: config.router.responseCacheMinUses })
    : undefined;
  const apqCache = new RedisKeyValueCache(redis, 'apq:', () =>
    metrics.redisBypasses.inc({ purpose: 'apq' }),
  );

  const limits = config.router.limits;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { n: limits.maxTokens },
    maxDirectives: { n: limits.maxDirectives },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true },
    // Field suggestions ("Did you mean …?") reveal the schema; hidden in production.
    blockFieldSuggestion: { enabled: config.isProduction },
  }).protect();

  const accessLog = logger.child({ component: 'access' });
  const observe: ApolloServerPlugin<RouterContext> = {
    async requestDidStart() {
      const started = performance.now();
      let operation = 'unknown';
      return {
        async didResolveOperation({ operationName }) {
          operation = operationName ?? 'anonymous';
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
          metrics.requests.inc({ operation, outcome: hasErrors ? 'error' : 'ok' });
          const seconds = (performance.now() - started) / 1000;
          metrics.requestDuration.observe({ operation }, seconds);
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

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    plugins: [
      ...(armor.plugins as ApolloServerPlugin<RouterContext>[]),
      observe,
      refuseUnexecutableOperations as ApolloServerPlugin<RouterContext>,
      ApolloServerPluginLandingPageDisabled() as ApolloServerPlugin<RouterContext>,
    ],
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    // Automatic persisted queries, shared by all router instances through Redis.
    persistedQueries: { cache: apqCache, ttl: 86_400 },
    includeStacktraceInErrorResponses: false,
    introspection: !config.isProduction,
    csrfPrevention: true,
    formatError: (formatted, error) =>
      formatRouterError(formatted, error, metrics, logger, config.isProduction),
    // router/index.ts owns SIGTERM/SIGINT: Apollo's own handler (on unless NODE_ENV=test) would
    // stop the gateway at once — failing requests still being drained — and then re-raise the
    // signal, killing the process before close() has finished.
    stopOnTerminationSignals: false,
  });
  try {
    await apollo.start();
  } catch (error) {
    throw new StartupError(
      `The router could not load the supergraph at ${config.router.supergraphPath} (SUPERGRAPH_PATH): ${(error as Error).message.split('\n')[0]}`,
    );
  }

  const graphqlPath = config.router.graphqlPath;
  const httpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A client that hangs up mid-request is not a server error.
      if (isClientHangUp(error, req)) {
        logger.debug({ err: error }, 'client closed the connection');
        res.destroy();
        return;
      }
      logger.error({ err: error }, 'unhandled error in router request handler');
      if (!res.headersSent)
        sendErrors(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.end();
    });
  });
  httpServer.keepAliveTimeout = 65_000;
  const drain = gracefulCloser(httpServer);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The GraphQL path as sent is matched without a URL object (building one was 2.5% of the
    // cache-hit path's busy time); anything else goes through URL's normalisation below.
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    if ((queryAt < 0 ? target : target.slice(0, queryAt)) === graphqlPath)
      return handleGraphQL(req, res, queryAt < 0 ? '' : target.slice(queryAt));
    const url = new URL(target, 'http://router');
    if (url.pathname === graphqlPath) return handleGraphQL(req, res, url.search);
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') return readiness(res);
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (!config.isProduction && (url.pathname === '/ide' || url.pathname.startsWith('/ide/'))) {
      return serveIde(url.pathname, graphqlPath, res);
    }
    if (url.pathname === '/cache/invalidate' && req.method === 'POST') return invalidate(req, res);
    return sendJson(res, 404, { error: 'not found' });
  }

  /** GraphQL requests: `search` is the request target's query string ('' or '?…'). */
  async function handleGraphQL(
    req: IncomingMessage,
    res: ServerResponse,
    search: string,
  ): Promise<void> {
    const requestId = String(req.headers[REQUEST_ID_HEADER] ?? randomUUID());
    res.setHeader(REQUEST_ID_HEADER, requestId);
    // Only read here; copied into a HeaderMap once the request is executed.
    const headers = headerReaderOf(req);

    const auth = await authenticator.authenticate(headers, req.socket.remoteAddress ?? 'unknown');
    if (!auth.ok) {
      metrics.errors.inc({ code: ErrorCode.UNAUTHENTICATED });
      return sendErrors(res, 401, auth.message, ErrorCode.UNAUTHENTICATED);
    }
    const rate = rateLimiter.check(auth.rateSubject, auth.rateClass);
    if (rate.bypassed) metrics.redisBypasses.inc({ purpose: 'rate_limit' });
    res.setHeader('x-ratelimit-limit', rate.limit);
    res.setHeader('x-ratelimit-remaining', rate.remaining);
    if (!rate.allowed) {
      metrics.rateLimited.inc({ class: auth.rateClass });
      metrics.errors.inc({ code: ErrorCode.RATE_LIMITED });
      res.setHeader('retry-after', rate.retryAfterSeconds);
      return sendErrors(
        res,
        429,
        `Rate limit of ${rate.limit} requests per minute exceeded; retry after ${rate.retryAfterSeconds}s`,
        ErrorCode.RATE_LIMITED,
      );
    }

    const method = req.method ?? 'GET';
    let raw: string | undefined;
    if (method === 'POST') {
      const read = await readBody(req);
      if (read === null) {
        // readBody stopped reading mid-body: the connection cannot carry another request, and
        // kept alive it would wedge the client's next request on it (found by
        // test/e2e/hostile-input.test.ts), so it is closed after this answer.
        res.setHeader('connection', 'close');
        return sendErrors(
          res,
          413,
          `Request body exceeds ${MAX_BODY_BYTES} bytes`,
          ErrorCode.BAD_USER_INPUT,
        );
      }
      raw = read;
    }

    // The cache's hit path: before the body is parsed (see cache/responseCache.ts).
    const restricted = auth.requireTrustedDocuments;
    const requestHash =
      responseCache && (method === 'POST' || method === 'GET')
        ? ResponseCache.requestHash(
            `${schemaVersion}|${method}`,
            raw ?? search,
            headers.get('accept'),
          )
        : undefined;
    let cacheKey: string | undefined;
    if (responseCache && requestHash) {
      if (!responseCache.available) {
        metrics.redisBypasses.inc({ purpose: 'response_cache' });
      } else {
        try {
          cacheKey = await responseCache.keyFor(requestHash, auth.identity, restricted);
          const hit = cacheKey ? await responseCache.get(cacheKey) : undefined;
          if (hit) return sendCached(res, hit);
          if (cacheKey) metrics.cacheMisses.inc();
        } catch {
          metrics.redisBypasses.inc({ purpose: 'response_cache' });
          cacheKey = undefined;
        }
      }
    }

    // Stampede protection: concurrent misses for one key compute once; the others then read
    // the stored response (or compute themselves if it was not cacheable).
    const flightKey =
      cacheKey ?? `${requestHash}|${scopeKey(auth.identity, 'PRIVATE', restricted)}`;
    const execute = async (): Promise<void> => {
      const clientGone = () => res.destroyed || req.socket.destroyed;
      const admission = await executionLimit.run(executeNow, () => !clientGone());
      if (admission.admitted || clientGone()) return;
      res.setHeader('retry-after', 1);
      metrics.errors.inc({ code: 'SERVICE_OVERLOADED' });
      sendErrors(
        res,
        503,
        `The router is at its limit of ${config.router.maxConcurrentExecutions} executing and ${config.router.maxQueuedExecutions} queued operations; retry shortly`,
        'SERVICE_OVERLOADED',
      );
    };
    const executeNow = async (): Promise<void> => {
      let body: unknown;
      try {
        body = raw?.length ? JSON.parse(raw) : undefined;
      } catch {
        return sendErrors(res, 400, 'Request body is not valid JSON', ErrorCode.BAD_USER_INPUT);
      }
      const refusal = applyTrustedDocuments(method, search, body, restricted);
      if (refusal) return sendErrors(res, 400, refusal, 'OPERATION_NOT_TRUSTED');
      const cacheState: RequestCacheState = { reads: new Set(), writes: new Set() };
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers: headerMapOf(req), search, body },
        context: async () => ({
          identity: auth.identity,
          requestId,
          cache: cacheState,
          fetchState: { fetches: new Map() },
        }),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      // graphql-armor's token limit throws inside parsing, which Apollo Server answers with
      // 500; a request refused before execution is the client's fault: 400 (GraphQL-over-HTTP).
      if (
        res.statusCode === 500 &&
        response.body.kind === 'complete' &&
        /"code":"GRAPHQL_(VALIDATION|PARSE)_FAILED"/.test(response.body.string) &&
        !response.body.string.includes('"data"')
      ) {
        res.statusCode = 400;
      }
      if (response.body.kind !== 'complete') {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
        return;
      }
      if (responseCache && requestHash) {
        await settleCache(
          requestHash,
          cacheState,
          res.statusCode,
          response.body.string,
          String(res.getHeader('content-type') ?? 'application/json'),
          auth.identity,
          restricted,
          flightKey,
        );
        if (!config.isProduction) res.setHeader('x-cache', cacheKey ? 'MISS' : 'UNKNOWN');
      }
      res.end(response.body.string);
    };

    if (!responseCache || !requestHash || !responseCache.available) return execute();
    const role = await responseCache.singleFlight(flightKey, execute);
    if (role === 'follower') {
      const key =
        cacheKey ??
        (await responseCache.keyFor(requestHash, auth.identity, restricted).catch(() => undefined));
      const hit = key ? await responseCache.get(key).catch(() => undefined) : undefined;
      if (hit) return sendCached(res, hit);
      return execute();
    }
  }

  function sendCached(res: ServerResponse, hit: CachedResponse): void {
    metrics.cacheHits.inc();
    res.statusCode = 200;
    res.setHeader('content-type', hit.contentType);
    if (!config.isProduction) res.setHeader('x-cache', 'HIT');
    res.end(hit.body);
  }

  /**
   * Out-of-band invalidation (a write that did not go through a subgraph mutation):
   * `POST /cache/invalidate` with `{"typename": "Robot", "id": "…"}` (one entity),
   * `{"typename": "Robot"}` (every entry holding a Robot) or `{"all": true}`.
   * Allowed to admins (JWT with the admin role) and to the router's own services.
   */
  async function invalidate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = headerMapOf(req);
    const auth = await authenticator.authenticate(headers, req.socket.remoteAddress ?? 'unknown');
    if (!auth.ok) return sendErrors(res, 401, auth.message, ErrorCode.UNAUTHENTICATED);
    const isAdmin = auth.identity.kind === 'user' && auth.identity.roles.includes('admin');
    if (!isAdmin)
      return sendErrors(res, 403, 'Only admins may invalidate the cache', ErrorCode.FORBIDDEN);
    const raw = await readBody(req);
    const request = (raw ? safeJson(raw) : undefined) as
      { typename?: unknown; id?: unknown; all?: unknown } | undefined;
    const typename =
      typeof request?.typename === 'string' && /^[A-Z]\w*$/.test(request.typename)
        ? request.typename
        : undefined;
    const id = typeof request?.id === 'string' && request.id.length <= 100 ? request.id : undefined;
    const tag =
      request?.all === true
        ? '*'
        : typename && id
          ? `${typename}:${id}`
          : typename
            ? `type:${typename}`
            : undefined;
    if (!tag)
      return sendErrors(
        res,
        400,
        'Body must be {"typename", "id"}, {"typename"} or {"all": true}',
        ErrorCode.BAD_USER_INPUT,
      );
    if (!responseCache) return sendJson(res, 200, { purged: 0, cache: 'disabled' });
    try {
      return sendJson(res, 200, { purged: await responseCache.purge([tag]), tag });
    } catch {
      return sendErrors(
        res,
        503,
        'The cache is unavailable; entries expire on their own',
        'CACHE_UNAVAILABLE',
      );
    }
  }

  /**
   * After an execution: purge what a mutation wrote (before its response is sent), store a
   * cacheable query's response, or remember that the request is not cacheable. Redis trouble
   * only costs the cache, never the request.
   */
  async function settleCache(
    requestHash: string,
    state: RequestCacheState,
    status: number,
    body: string,
    contentType: string,
    identity: Identity,
    restricted: boolean,
    flightKey: string,
  ): Promise<void> {
    if (!responseCache) return;
    try {
      if (state.writes.size > 0) await responseCache.purge(state.writes);
      if (state.operation !== 'query' || status !== 200) return;
      if (state.hadErrors) return; // errors (or denied fields) are never cached, nor remembered
      if (!state.policy || state.policy.maxAge <= 0) {
        // Awaited inside the try: a Redis timeout here must cost the cache, not the request.
        await responseCache.rememberUncacheable(requestHash);
        return;
      }
      await responseCache.store(
        requestHash,
        identity,
        restricted,
        state.policy,
        { body, contentType },
        state.reads,
        flightKey,
      );
    } catch {
      metrics.redisBypasses.inc({ purpose: 'response_cache' });
    }
  }

  /**
   * Persisted-operations mode: a body that names a registered document by hash and sends no
   * query gets the registered text. Keys that require trusted documents may send nothing else.
   * Returns a refusal message, or undefined to go on.
   */
  function applyTrustedDocuments(
    method: string,
    search: string,
    body: unknown,
    required: boolean,
  ): string | undefined {
    const request = (method === 'POST' ? body : Object.fromEntries(new URLSearchParams(search))) as
      Record<string, unknown> | undefined;
    const extensions =
      typeof request?.['extensions'] === 'string'
        ? safeJson(request['extensions'])
        : request?.['extensions'];
    const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)
      ?.persistedQuery?.sha256Hash;
    let query = typeof request?.['query'] === 'string' ? request['query'] : undefined;
    if (!query && typeof hash === 'string' && method === 'POST' && request) {
      const registered = trustedDocuments.textFor(hash);
      if (registered) {
        request['query'] = registered;
        // Apollo's APQ would otherwise check the hash against the text it did not receive.
        delete (request['extensions'] as Record<string, unknown>)['persistedQuery'];
        query = registered;
      }
    }
    if (!required) return undefined;
    if (!query || !trustedDocuments.isTrusted(query)) {
      return 'This API key may only send registered operations (trusted documents); this operation is not registered';
    }
    return undefined;
  }

  /** Ready when the supergraph is loaded and every subgraph answers its /healthz. */
  async function readiness(res: ServerResponse): Promise<void> {
    const entries = Object.entries(subgraphUrls);
    const checks = await Promise.all(
      entries.map(async ([name, url]) => {
        try {
          const health = await request(new URL('/healthz', url), {
            headersTimeout: 1000,
            bodyTimeout: 1000,
            dispatcher: agent,
          });
          await health.body.dump();
          return [name, health.statusCode === 200] as const;
        } catch {
          return [name, false] as const;
        }
      }),
    );
    const ready = entries.length > 0 && checks.every(([, ok]) => ok);
    sendJson(res, ready ? 200 : 503, { ready, subgraphs: Object.fromEntries(checks) });
  }

  return {
    metrics,
    subgraphs,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            error.code === 'EADDRINUSE'
              ? new StartupError(`router: port ${port} on ${host} is already in use (ROUTER_PORT)`)
              : error,
          ),
        );
        httpServer.listen(port, host, () =>
          resolve(`http://${host}:${(httpServer.address() as AddressInfo).port}${graphqlPath}`),
        );
      }),
    /**
     * Graceful: stop accepting, let in-flight requests finish (up to 10 s) and close their
     * keep-alive connections (see gracefulCloser), then stop.
     */
    close: async () => {
      await drain(10_000);
      await apollo.stop();
      await agent.close();
      await rateLimiter.close();
      await responseCache?.close();
    },
  };
}

function formatRouterError(
  formatted: GraphQLFormattedError,
  error: unknown,
  metrics: RouterMetrics,
  logger: Logger,
  isProduction: boolean,
): GraphQLFormattedError {
  const code = codeOfFormattedError(formatted, error);
  if (EXPECTED_CODES.has(code) || REQUEST_ERROR_CODES.has(code)) {
    metrics.errors.inc({ code });
    // Subgraph errors arrive with the subgraph's extensions; keep only what clients need.
    return {
      ...formatted,
      extensions: { code, ...pick(formatted.extensions, ['argumentName', 'typename', 'subgraph']) },
    };
  }
  metrics.errors.inc({ code: ErrorCode.INTERNAL_SERVER_ERROR });
  logger.error({ error: formatted }, 'unexpected error');
  return {
    message: isProduction ? 'Internal server error' : formatted.message,
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

function pick(
  source: Record<string, unknown> | undefined,
  keys: string[],
): Record<string, unknown> {
  return Object.fromEntries(
    keys.filter((k) => source?.[k] !== undefined).map((k) => [k, source![k]]),
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A GraphQL-over-HTTP error response (no data: the request was refused before execution). */
function sendErrors(res: ServerResponse, status: number, message: string, code: string): void {
  res.writeHead(status, { 'content-type': 'application/graphql-response+json; charset=utf-8' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
