/**
 * What each process is configured with: one zod schema per service, built from the variable
 * groups in variables.ts, whose transform yields the typed settings. The TypeScript types are
 * derived from these schemas (`z.output`), never written by hand.
 *
 * @remarks
 * Each process receives only its slice: the router does not see subgraph ports, a subgraph does
 * not see JWT or rate-limit settings, and only the fleet subgraph (its change events) sees Redis's. Modes are unions rather than booleans with optional
 * fields: JWTs are verified by a shared secret (`hs256`, never in production) *or* by a JWKS
 * endpoint (`jwks`); the response cache is `{ enabled: false }` *or* `{ enabled: true, minUses }`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { refuseSymmetricJwts, requireDistinct, secretOf } from './secrets.js';
import {
  cassandraVariables,
  cursorVariables,
  identityVariables,
  jwtVariables,
  pairs,
  processVariables,
  redisVariables,
  routerVariables,
  subgraphPortVariables,
  telemetryVariables,
  type SubgraphName,
} from './variables.js';
import { telemetrySettings } from './telemetry.js';

type Context = z.core.$RefinementCtx;
const fail = (ctx: Context, variable: string, message: string): never => {
  ctx.addIssue({ code: 'custom', path: [variable], message });
  return z.NEVER;
};

/** The parsed variables of one group. */
type Parsed<Group extends z.ZodRawShape> = z.output<z.ZodObject<Group>>;

function processSettings(env: Parsed<typeof processVariables>) {
  return {
    env: env.FLEETGRAPH_ENV,
    isProduction: env.FLEETGRAPH_ENV === 'production',
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
  };
}

/**
 * The one native-protocol port of the cluster: the port the contact points name (9042 when
 * none does).
 *
 * @remarks
 * cassandra-driver 4 reaches every node it discovers (system.peers) on a single port,
 * `protocolOptions.port`, whatever port the contact points were given with. A cluster on
 * another port (the fault tests' on 9142) therefore needs that option, and contact points on
 * different ports cannot describe one cluster: such a list is refused rather than half-used
 * (the driver would connect to the discovered nodes on the wrong port, possibly to another
 * Cassandra that listens there).
 */
function portOfContactPoints(contactPoints: readonly string[], ctx: Context): number {
  const ports = new Set<number>();
  for (const entry of contactPoints) {
    // host:port, [v6]:port; a bare v6 address (several colons, no brackets) names no port.
    const match = /^(?:\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (match) ports.add(Number(match[1]));
  }
  const variable = 'CASSANDRA_CONTACT_POINTS';
  if (ports.size > 1) {
    const found = [...ports].join(', ');
    const why = 'the driver reaches the nodes it discovers on that port';
    return fail(ctx, variable, `must use one port for every node (got ${found}): ${why}`);
  }
  const [port = 9042] = ports;
  if (port < 1 || port > 65535) return fail(ctx, variable, 'port must be between 1 and 65535');
  return port;
}

function cassandraSettings(env: Parsed<typeof cassandraVariables>, ctx: Context) {
  if ((env.CASSANDRA_USERNAME === undefined) !== (env.CASSANDRA_PASSWORD === undefined))
    fail(ctx, 'CASSANDRA_USERNAME', 'and CASSANDRA_PASSWORD must be set together');
  let ca: Buffer | undefined;
  if (env.CASSANDRA_TLS_CA_FILE) {
    if (!env.CASSANDRA_TLS) fail(ctx, 'CASSANDRA_TLS_CA_FILE', 'is set but CASSANDRA_TLS is not');
    try {
      ca = readFileSync(env.CASSANDRA_TLS_CA_FILE);
    } catch (error) {
      fail(ctx, 'CASSANDRA_TLS_CA_FILE', `cannot be read (${(error as Error).message})`);
    }
  }
  const { CASSANDRA_USERNAME: username, CASSANDRA_PASSWORD: password } = env;
  return {
    contactPoints: env.CASSANDRA_CONTACT_POINTS as readonly string[],
    /** The native-protocol port of every node (the contact points' port, default 9042). */
    port: portOfContactPoints(env.CASSANDRA_CONTACT_POINTS, ctx),
    localDataCenter: env.CASSANDRA_LOCAL_DC,
    keyspace: env.CASSANDRA_KEYSPACE,
    replication: env.CASSANDRA_REPLICATION as Readonly<Record<string, string>>,
    readConsistency: env.CASSANDRA_READ_CONSISTENCY,
    writeConsistency: env.CASSANDRA_WRITE_CONSISTENCY,
    ...(username && password ? { credentials: { username, password } } : {}),
    ...(env.CASSANDRA_TLS ? { tls: ca ? { ca } : {} } : {}),
    connectTimeoutMs: env.CASSANDRA_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: env.CASSANDRA_REQUEST_TIMEOUT_MS,
    speculativeDelayMs: env.CASSANDRA_SPECULATIVE_DELAY_MS,
    speculativeExecutions: env.CASSANDRA_SPECULATIVE_EXECUTIONS,
  };
}

function redisSettings(env: Parsed<typeof redisVariables>, ctx: Context) {
  const clusterNodes = env.REDIS_CLUSTER_NODES?.split(',').map((entry) => {
    const [host, portText] = entry.trim().split(':');
    const port = Number(portText ?? 6379);
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
      fail(ctx, 'REDIS_CLUSTER_NODES', `entry "${entry}" must be host:port`);
    return { host: host ?? '', port };
  });
  return {
    url: env.REDIS_URL,
    ...(clusterNodes
      ? { clusterNodes: clusterNodes as readonly { host: string; port: number }[] }
      : {}),
    keyPrefix: env.REDIS_KEY_PREFIX,
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  };
}

function jwtSettings(env: Parsed<typeof jwtVariables>, isProduction: boolean, ctx: Context) {
  if (isProduction) refuseSymmetricJwts(env, ctx);
  const claims = {
    ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
    ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
    clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
  };
  if (env.JWT_JWKS_URL) return { mode: 'jwks' as const, url: env.JWT_JWKS_URL, ...claims };
  // Valid outside production only (production without a JWKS was refused above): JWT_SECRET,
  // or its development value.
  const secret = secretOf('JWT_SECRET', env.JWT_SECRET, false, ctx);
  return { mode: 'hs256' as const, secret, ...claims };
}

function routerSettings(env: Parsed<typeof routerVariables>) {
  return {
    port: env.ROUTER_PORT,
    supergraphPath: env.SUPERGRAPH_PATH,
    subgraphUrls: pairs(env.SUBGRAPH_URLS) as Readonly<Record<string, string>>,
    graphqlPath: env.ROUTER_GRAPHQL_PATH,
    trustedDocumentsDir: env.TRUSTED_DOCUMENTS_DIR,
    workers: env.ROUTER_WORKERS,
    allowAnonymous: env.ROUTER_ALLOW_ANONYMOUS,
    responseCache: env.RESPONSE_CACHE
      ? { enabled: true as const, minUses: env.RESPONSE_CACHE_MIN_USES }
      : { enabled: false as const },
    entityCache: env.ENTITY_CACHE,
    queryPlanExecutor: env.QUERY_PLAN_EXECUTOR,
    admission: {
      maxConcurrentExecutions: env.ROUTER_MAX_CONCURRENT_EXECUTIONS,
      maxQueuedExecutions: env.ROUTER_MAX_QUEUED_EXECUTIONS,
    },
    subgraphFetch: {
      timeoutMs: env.SUBGRAPH_TIMEOUT_MS,
      mutationTimeoutMs: env.SUBGRAPH_MUTATION_TIMEOUT_MS,
      retries: env.SUBGRAPH_RETRIES,
    },
    sessionCheckCacheSeconds: env.SESSION_CHECK_CACHE_SECONDS,
    rateLimits: Object.fromEntries(
      Object.entries(pairs(env.RATE_LIMITS)).map(([rateClass, n]) => [rateClass, Number(n)]),
    ) as Readonly<Record<string, number>>,
    subscriptions: {
      maxPerIdentity: env.SUBSCRIPTIONS_MAX_PER_IDENTITY,
      maxPerProcess: env.SUBSCRIPTIONS_MAX_PER_PROCESS,
      bufferEvents: env.SUBSCRIPTION_BUFFER_EVENTS,
      keepAliveMs: env.SUBSCRIPTION_KEEPALIVE_SECONDS * 1000,
      flushMs: env.SUBSCRIPTION_FLUSH_MS,
      reauthMs: env.SUBSCRIPTION_REAUTH_SECONDS * 1000,
    },
    limits: {
      maxDepth: env.MAX_QUERY_DEPTH,
      maxAliases: env.MAX_QUERY_ALIASES,
      maxTokens: env.MAX_QUERY_TOKENS,
      maxDirectives: env.MAX_QUERY_DIRECTIVES,
      maxCost: env.MAX_QUERY_COST,
    },
  };
}

/**
 * The operations listener (router/http/opsServer.ts), never public: /metrics, and cache purges
 * of any form for whoever presents OPERATOR_TOKEN (a secret like the signing keys: required,
 * unpublished and distinct in production; secrets.ts).
 */
function opsSettings(env: Parsed<typeof routerVariables>, isProduction: boolean, ctx: Context) {
  return {
    port: env.ROUTER_OPS_PORT,
    host: env.ROUTER_OPS_HOST,
    operatorToken: secretOf('OPERATOR_TOKEN', env.OPERATOR_TOKEN, isProduction, ctx),
    invalidationsPerMinute: env.CACHE_INVALIDATION_RATE_LIMIT,
  };
}

/** The router: callers' authentication, limits, cache, subgraph fetches; Cassandra for API keys. */
export const routerConfigSchema = z
  .object({
    ...processVariables,
    ...cassandraVariables,
    ...redisVariables,
    ...identityVariables,
    ...jwtVariables,
    ...routerVariables,
    ...telemetryVariables,
  })
  .transform((env, ctx) => {
    const process = processSettings(env);
    const { IDENTITY_SIGNING_SECRET, JWT_SECRET, OPERATOR_TOKEN } = env;
    requireDistinct({ IDENTITY_SIGNING_SECRET, JWT_SECRET, OPERATOR_TOKEN }, ctx);
    if (process.isProduction && env.QUERY_PLAN_EXECUTOR === 'compare')
      fail(
        ctx,
        'QUERY_PLAN_EXECUTOR',
        'compare is for tests: it runs every plan twice and returns data inside errors',
      );
    return {
      ...process,
      ...routerSettings(env),
      ops: opsSettings(env, process.isProduction, ctx),
      telemetry: telemetrySettings(env, 'fleetgraph-router'),
      cassandra: cassandraSettings(env, ctx),
      redis: redisSettings(env, ctx),
      identitySigningSecret: secretOf(
        'IDENTITY_SIGNING_SECRET',
        IDENTITY_SIGNING_SECRET,
        process.isProduction,
        ctx,
      ),
      jwt: jwtSettings(env, process.isProduction, ctx),
    };
  });
export type RouterConfig = z.output<typeof routerConfigSchema>;
export type JwtSettings = RouterConfig['jwt'];

/**
 * One subgraph: its port, Cassandra, the secret that proves the router sent a request, and the
 * one that signs its pagination cursors. The fleet subgraph also has Redis: it appends its
 * change events to Redis Streams (platform/events/); the others never see a Redis setting.
 */
export function subgraphConfigSchema(name: SubgraphName) {
  const [portVariable] = Object.keys(subgraphPortVariables[name]) as [string];
  return z
    .object({
      ...processVariables,
      ...cassandraVariables,
      ...identityVariables,
      ...cursorVariables,
      ...subgraphPortVariables[name],
      ...telemetryVariables,
      // The fleet subgraph's change events (platform/events/publisher.ts).
      ...((name === 'fleet' ? redisVariables : {}) as Partial<typeof redisVariables>),
    })
    .transform((env, ctx) => {
      const process = processSettings(env);
      const { IDENTITY_SIGNING_SECRET, CURSOR_SIGNING_SECRET } = env;
      requireDistinct({ IDENTITY_SIGNING_SECRET, CURSOR_SIGNING_SECRET }, ctx);
      return {
        ...process,
        name,
        port: (env as unknown as Record<string, number>)[portVariable] as number,
        telemetry: telemetrySettings(env, `fleetgraph-${name}`),
        cassandra: cassandraSettings(env, ctx),
        ...(name === 'fleet'
          ? { redis: redisSettings(env as Parsed<typeof redisVariables>, ctx) }
          : {}),
        identitySigningSecret: secretOf(
          'IDENTITY_SIGNING_SECRET',
          IDENTITY_SIGNING_SECRET,
          process.isProduction,
          ctx,
        ),
        cursorSigningSecret: secretOf(
          'CURSOR_SIGNING_SECRET',
          CURSOR_SIGNING_SECRET,
          process.isProduction,
          ctx,
        ),
      };
    });
}
export type SubgraphConfig = z.output<ReturnType<typeof subgraphConfigSchema>>;

/** Command-line tools (migrations, seed, API keys): the data stores and nothing else. */
export const toolConfigSchema = z
  .object({ ...processVariables, ...cassandraVariables, ...redisVariables })
  .transform((env, ctx) => ({
    ...processSettings(env),
    cassandra: cassandraSettings(env, ctx),
    redis: redisSettings(env, ctx),
  }));
export type ToolConfig = z.output<typeof toolConfigSchema>;

export type CassandraSettings = ToolConfig['cassandra'];
export type RedisSettings = ToolConfig['redis'];
