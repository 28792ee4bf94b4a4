/**
 * TRANSITIONAL (removed once the router and the subgraphs load their slices from
 * config/load.ts): the old single configuration object.
 *
 * @remarks
 * Every process (the three subgraphs, the router, the CLIs) calls {@link loadConfig} once at
 * start-up and receives a typed, frozen object. Validation happens here, with zod, so a bad
 * variable stops the process before anything listens, with one line that names the variable.
 *
 * Defaults are the single-node development/test stack that `infra/up.sh` starts. Production
 * (`FLEETGRAPH_ENV=production`) has no defaults for secrets and must name its cluster: the same
 * variables point at a multi-node Cassandra (contact points, local data center, consistency,
 * credentials, TLS) and a real Redis (URL with `rediss://` for TLS, or cluster nodes).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './config/load.js';

export { ConfigError };

const DEV_SECRET = 'fleetgraph-development-secret-do-not-use-in-production';

const consistency = z.enum([
  'ANY',
  'ONE',
  'TWO',
  'THREE',
  'QUORUM',
  'ALL',
  'LOCAL_QUORUM',
  'EACH_QUORUM',
  'LOCAL_ONE',
]);
export type ConsistencyName = z.infer<typeof consistency>;

const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be an integer')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** `host:port` pairs, comma separated; the port defaults to 9042. */
const contactPoints = z
  .string()
  .min(1, 'must list at least one host')
  .transform((v) => v.split(',').map((s) => s.trim()))
  .pipe(
    z.array(
      z
        .string()
        .regex(/^[A-Za-z0-9.\-_:[\]]+$/, 'must be host or host:port entries separated by commas'),
    ),
  );

/**
 * `SimpleStrategy:1` (dev) or `NetworkTopologyStrategy:dc1=3,dc2=3` (production).
 * Parsed into the map CQL's `CREATE KEYSPACE ... WITH replication = {...}` takes.
 */
const replication = z.string().transform((value, ctx) => {
  const simple = /^SimpleStrategy:(\d+)$/.exec(value);
  if (simple) return { class: 'SimpleStrategy', replication_factor: simple[1] as string };
  const nts = /^NetworkTopologyStrategy:(.+)$/.exec(value);
  if (nts) {
    const entries = (nts[1] as string).split(',').map((pair) => pair.trim().split('='));
    if (entries.every((e) => e.length === 2 && /^[\w-]+$/.test(e[0]!) && /^\d+$/.test(e[1]!))) {
      return { class: 'NetworkTopologyStrategy', ...Object.fromEntries(entries) } as Record<
        string,
        string
      >;
    }
  }
  ctx.addIssue({
    code: 'custom',
    message: 'must be SimpleStrategy:<rf> or NetworkTopologyStrategy:<dc>=<rf>[,<dc>=<rf>...]',
  });
  return z.NEVER;
});

const envSchema = z
  .object({
    FLEETGRAPH_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info'),

    CASSANDRA_CONTACT_POINTS: contactPoints.default(['127.0.0.1:9042']),
    CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
    CASSANDRA_KEYSPACE: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, 'must be a lower-case CQL identifier')
      .default('fleetgraph'),
    CASSANDRA_REPLICATION: replication.default({
      class: 'SimpleStrategy',
      replication_factor: '1',
    }),
    CASSANDRA_READ_CONSISTENCY: consistency.default('LOCAL_ONE'),
    CASSANDRA_WRITE_CONSISTENCY: consistency.default('LOCAL_ONE'),
    CASSANDRA_USERNAME: z.string().optional(),
    CASSANDRA_PASSWORD: z.string().optional(),
    CASSANDRA_TLS: bool.default(false),
    CASSANDRA_TLS_CA_FILE: z.string().optional(),
    CASSANDRA_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
    /**
     * Per attempt, per coordinator: above the server's own timeouts (read 5 s, write 2 s, range
     * and other requests 10 s), so a slow replica comes back as a typed ReadTimeout/WriteTimeout
     * the retry policy can judge; only a coordinator that says nothing at all hits this one.
     */
    CASSANDRA_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(12_000),
    /**
     * A read (an idempotent statement) with no answer after this long is also sent to the next
     * node of its query plan; the first answer wins. Well above a healthy read's latency, far
     * below the timeouts: it only fires for a stalled coordinator (a GC pause, a dying node).
     */
    CASSANDRA_SPECULATIVE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(300),
    /** Extra executions one read may start (0: no speculative execution). */
    CASSANDRA_SPECULATIVE_EXECUTIONS: z.coerce.number().int().min(0).max(4).default(1),
    /** `naive` disables DataLoader batching: the benchmarks' baseline, never for production. */
    DATALOADER_MODE: z.enum(['batched', 'naive']).default('batched'),
    /** Upper bound on statements one DataLoader batch runs at once (executeConcurrent). */
    CASSANDRA_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(2048).default(64),

    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .default('redis://127.0.0.1:6379'),
    /** Comma-separated host:port seeds; when set, Redis Cluster is used instead of REDIS_URL. */
    REDIS_CLUSTER_NODES: z.string().optional(),
    REDIS_KEY_PREFIX: z.string().default('fg:'),
    /** A Redis slower than this is treated as down for the request (fail-open). */
    REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(5).max(10_000).default(100),

    /** Shared HMAC secret the router signs forwarded identities with; subgraphs verify it. */
    IDENTITY_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** HS256 secret for development JWTs (production uses JWT_JWKS_URL). */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),

    /** JWKS endpoint for production JWTs (RS256/ES256); when set, JWT_SECRET is not used. */
    JWT_JWKS_URL: z.url({ error: 'must be a URL' }).optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),

    /** The composed supergraph the router serves (hot-reloaded when the file changes). */
    SUPERGRAPH_PATH: z.string().default('schema/supergraph.graphql'),
    /** `name=url,…` overrides of the subgraph URLs written in the supergraph. */
    SUBGRAPH_URLS: z
      .string()
      .regex(
        /^(\s*[\w-]+=https?:\/\/[^,\s]+\s*)(,\s*[\w-]+=https?:\/\/[^,\s]+\s*)*$/,
        'must be name=http://host:port/path pairs separated by commas',
      )
      .optional(),
    ROUTER_GRAPHQL_PATH: z
      .string()
      .regex(/^\/[\w\-/]*$/, 'must be a path such as /graphql')
      .default('/graphql'),
    /** Registered client operations: the trusted documents (schema/operations/<client>/*.graphql). */
    TRUSTED_DOCUMENTS_DIR: z.string().default('schema/operations'),
    /** Router worker processes sharing ROUTER_PORT (node:cluster); 1 = no cluster. */
    ROUTER_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
    /**
     * Operations executing at once per router process; more wait in a queue of
     * ROUTER_MAX_QUEUED_EXECUTIONS, and beyond it get 503 (router/executionLimit.ts).
     */
    ROUTER_MAX_CONCURRENT_EXECUTIONS: z.coerce.number().int().min(1).max(10_000).default(32),
    ROUTER_MAX_QUEUED_EXECUTIONS: z.coerce.number().int().min(0).max(100_000).default(2000),
    /** Whether the router caches whole query responses in Redis (router/cache/). */
    RESPONSE_CACHE: bool.default(true),
    /**
     * Uses of a response before it is stored (nginx's proxy_cache_min_uses): 2 leaves out
     * responses asked for once, which fill the cache and cost a Redis write each, never a hit.
     */
    RESPONSE_CACHE_MIN_USES: z.coerce.number().int().min(1).max(10).default(2),
    /** Whether requests without credentials are served (as the anonymous identity). */
    ROUTER_ALLOW_ANONYMOUS: bool.default(true),
    SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(50).max(120_000).default(5000),
    /** A mutation's fetch deadline: sent once, it must outlast the subgraph's write path. */
    SUBGRAPH_MUTATION_TIMEOUT_MS: z.coerce.number().int().min(50).max(300_000).default(40_000),
    SUBGRAPH_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
    /** Seconds a "session not revoked" answer is trusted (cached in Redis). */
    SESSION_CHECK_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
    /** Requests per minute by class: `user=600,partner-standard=300,partner-premium=3000`. */
    RATE_LIMITS: z
      .string()
      .regex(
        /^[\w-]+=\d+(,[\w-]+=\d+)*$/,
        'must be class=requestsPerMinute pairs separated by commas',
      )
      .default(
        'user=1200,anonymous=300,partner-standard=600,partner-premium=6000,partner-trial=60',
      ),
    MAX_QUERY_DEPTH: z.coerce.number().int().min(1).max(100).default(12),
    MAX_QUERY_ALIASES: z.coerce.number().int().min(0).max(1000).default(20),
    MAX_QUERY_TOKENS: z.coerce.number().int().min(10).max(100_000).default(3000),
    MAX_QUERY_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(20),
    MAX_QUERY_COST: z.coerce.number().int().min(1).max(10_000_000).default(20_000),

    USERS_PORT: port.default(4001),
    SESSIONS_PORT: port.default(4002),
    FLEET_PORT: port.default(4003),
    ROUTER_PORT: port.default(4000),
    HOST: z.string().default('127.0.0.1'),
  })
  .superRefine((env, ctx) => {
    if (env.FLEETGRAPH_ENV !== 'production') return;
    for (const name of ['IDENTITY_SIGNING_SECRET', 'JWT_SECRET'] as const) {
      if (!env[name])
        ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production' });
    }
    if (env.CASSANDRA_TLS_CA_FILE && !env.CASSANDRA_TLS) {
      ctx.addIssue({
        code: 'custom',
        path: ['CASSANDRA_TLS_CA_FILE'],
        message: 'is set but CASSANDRA_TLS is not true',
      });
    }
  });

type Env = z.infer<typeof envSchema>;

/** Every environment variable this project reads (docker-compose.yml is tested against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  readonly env: Env['FLEETGRAPH_ENV'];
  readonly isProduction: boolean;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly cassandra: {
    readonly contactPoints: readonly string[];
    readonly localDataCenter: string;
    readonly keyspace: string;
    readonly replication: Readonly<Record<string, string>>;
    readonly readConsistency: ConsistencyName;
    readonly writeConsistency: ConsistencyName;
    readonly credentials?: { readonly username: string; readonly password: string };
    readonly tls?: { readonly ca?: Buffer };
    /** The native-protocol port of every node (the contact points' port, default 9042). */
    readonly port: number;
    readonly connectTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly speculativeDelayMs: number;
    readonly speculativeExecutions: number;
    readonly batchConcurrency: number;
    readonly loaderMode: 'batched' | 'naive';
  };
  readonly redis: {
    readonly url: string;
    readonly clusterNodes?: readonly { host: string; port: number }[];
    readonly keyPrefix: string;
    readonly commandTimeoutMs: number;
  };
  readonly identitySigningSecret: string;
  readonly jwtSecret: string;
  readonly jwt: {
    readonly jwksUrl?: string;
    readonly issuer?: string;
    readonly audience?: string;
    readonly clockToleranceSeconds: number;
  };
  readonly router: {
    readonly supergraphPath: string;
    readonly trustedDocumentsDir: string;
    readonly responseCache: boolean;
    readonly responseCacheMinUses: number;
    readonly maxConcurrentExecutions: number;
    readonly maxQueuedExecutions: number;
    readonly workers: number;
    readonly subgraphUrls: Readonly<Record<string, string>>;
    readonly graphqlPath: string;
    readonly allowAnonymous: boolean;
    readonly subgraphTimeoutMs: number;
    readonly subgraphMutationTimeoutMs: number;
    readonly subgraphRetries: number;
    readonly sessionCheckCacheSeconds: number;
    readonly rateLimits: Readonly<Record<string, number>>;
    readonly limits: {
      readonly maxDepth: number;
      readonly maxAliases: number;
      readonly maxTokens: number;
      readonly maxDirectives: number;
      readonly maxCost: number;
    };
  };
  readonly host: string;
  readonly ports: {
    readonly users: number;
    readonly sessions: number;
    readonly fleet: number;
    readonly router: number;
  };
}

/** `a=1, b=2` → { a: '1', b: '2' } (formats are validated by the schema above). */
function pairs(text: string | undefined): Record<string, string> {
  if (!text) return {};
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const index = pair.indexOf('=');
      return [pair.slice(0, index).trim(), pair.slice(index + 1).trim()];
    }),
  );
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
function portOfContactPoints(contactPoints: readonly string[]): number {
  const ports = new Set<number>();
  for (const entry of contactPoints) {
    // host:port, [v6]:port; a bare v6 address (several colons, no brackets) names no port.
    const match = /^(?:\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (match) ports.add(Number(match[1]));
  }
  if (ports.size > 1) {
    throw new ConfigError(
      `Invalid configuration: CASSANDRA_CONTACT_POINTS must use one port for every node (got ${[...ports].join(', ')}): the driver reaches the nodes it discovers on that port`,
    );
  }
  const [port = 9042] = ports;
  if (port < 1 || port > 65535) {
    throw new ConfigError(
      `Invalid configuration: CASSANDRA_CONTACT_POINTS port must be between 1 and 65535 (got ${port})`,
    );
  }
  return port;
}


/** Parses and validates the environment once; throws {@link ConfigError} naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" (docker-compose passes `VAR=` through for unset variables).
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || 'environment';
      const received = cleaned[name];
      return `${name} ${issue.message}${received !== undefined && !/SECRET|PASSWORD/.test(name) ? ` (got "${received}")` : ''}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const env = parsed.data;
  if ((env.CASSANDRA_USERNAME === undefined) !== (env.CASSANDRA_PASSWORD === undefined)) {
    throw new ConfigError(
      'Invalid configuration: CASSANDRA_USERNAME and CASSANDRA_PASSWORD must be set together',
    );
  }
  let ca: Buffer | undefined;
  if (env.CASSANDRA_TLS_CA_FILE) {
    try {
      ca = readFileSync(env.CASSANDRA_TLS_CA_FILE);
    } catch (error) {
      throw new ConfigError(
        `Invalid configuration: CASSANDRA_TLS_CA_FILE cannot be read (${(error as Error).message})`,
      );
    }
  }
  const cassandraPort = portOfContactPoints(env.CASSANDRA_CONTACT_POINTS);
  const clusterNodes = env.REDIS_CLUSTER_NODES?.split(',').map((entry) => {
    const [host, portText] = entry.trim().split(':');
    const portNumber = Number(portText ?? 6379);
    if (!host || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
      throw new ConfigError(
        `Invalid configuration: REDIS_CLUSTER_NODES entry "${entry}" must be host:port`,
      );
    }
    return { host, port: portNumber };
  });

  return Object.freeze({
    env: env.FLEETGRAPH_ENV,
    isProduction: env.FLEETGRAPH_ENV === 'production',
    logLevel: env.LOG_LEVEL,
    cassandra: Object.freeze({
      contactPoints: env.CASSANDRA_CONTACT_POINTS,
      localDataCenter: env.CASSANDRA_LOCAL_DC,
      keyspace: env.CASSANDRA_KEYSPACE,
      replication: env.CASSANDRA_REPLICATION,
      readConsistency: env.CASSANDRA_READ_CONSISTENCY,
      writeConsistency: env.CASSANDRA_WRITE_CONSISTENCY,
      ...(env.CASSANDRA_USERNAME && env.CASSANDRA_PASSWORD
        ? { credentials: { username: env.CASSANDRA_USERNAME, password: env.CASSANDRA_PASSWORD } }
        : {}),
      ...(env.CASSANDRA_TLS ? { tls: ca ? { ca } : {} } : {}),
      port: cassandraPort,
      connectTimeoutMs: env.CASSANDRA_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: env.CASSANDRA_REQUEST_TIMEOUT_MS,
      speculativeDelayMs: env.CASSANDRA_SPECULATIVE_DELAY_MS,
      speculativeExecutions: env.CASSANDRA_SPECULATIVE_EXECUTIONS,
      batchConcurrency: env.CASSANDRA_BATCH_CONCURRENCY,
      loaderMode: env.DATALOADER_MODE,
    }),
    redis: Object.freeze({
      url: env.REDIS_URL,
      ...(clusterNodes ? { clusterNodes } : {}),
      keyPrefix: env.REDIS_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    }),
    identitySigningSecret: env.IDENTITY_SIGNING_SECRET ?? DEV_SECRET,
    jwtSecret: env.JWT_SECRET ?? DEV_SECRET,
    jwt: Object.freeze({
      ...(env.JWT_JWKS_URL ? { jwksUrl: env.JWT_JWKS_URL } : {}),
      ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
      ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
      clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
    }),
    router: Object.freeze({
      supergraphPath: env.SUPERGRAPH_PATH,
      trustedDocumentsDir: env.TRUSTED_DOCUMENTS_DIR,
      responseCache: env.RESPONSE_CACHE,
      responseCacheMinUses: env.RESPONSE_CACHE_MIN_USES,
      maxConcurrentExecutions: env.ROUTER_MAX_CONCURRENT_EXECUTIONS,
      maxQueuedExecutions: env.ROUTER_MAX_QUEUED_EXECUTIONS,
      workers: env.ROUTER_WORKERS,
      subgraphUrls: Object.freeze(pairs(env.SUBGRAPH_URLS)),
      graphqlPath: env.ROUTER_GRAPHQL_PATH,
      allowAnonymous: env.ROUTER_ALLOW_ANONYMOUS,
      subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
      subgraphMutationTimeoutMs: env.SUBGRAPH_MUTATION_TIMEOUT_MS,
      subgraphRetries: env.SUBGRAPH_RETRIES,
      sessionCheckCacheSeconds: env.SESSION_CHECK_CACHE_SECONDS,
      rateLimits: Object.freeze(
        Object.fromEntries(Object.entries(pairs(env.RATE_LIMITS)).map(([k, v]) => [k, Number(v)])),
      ),
      limits: Object.freeze({
        maxDepth: env.MAX_QUERY_DEPTH,
        maxAliases: env.MAX_QUERY_ALIASES,
        maxTokens: env.MAX_QUERY_TOKENS,
        maxDirectives: env.MAX_QUERY_DIRECTIVES,
        maxCost: env.MAX_QUERY_COST,
      }),
    }),
    host: env.HOST,
    ports: Object.freeze({
      users: env.USERS_PORT,
      sessions: env.SESSIONS_PORT,
      fleet: env.FLEET_PORT,
      router: env.ROUTER_PORT,
    }),
  });
}
