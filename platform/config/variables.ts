/**
 * The environment variables, grouped by what they configure, each a zod schema: the one
 * description of configuration. The service slices (slices.ts) pick the groups a process needs
 * and transform them into its typed settings; docs and docker-compose.yml are checked against
 * {@link ALL_VARIABLES}.
 *
 * @remarks
 * Defaults are the single-node development/test stack that `infra/up.sh` starts. Production
 * (`FLEETGRAPH_ENV=production`) has no defaults for secrets (and refuses the published ones,
 * secrets.ts), verifies JWTs only through a JWKS, and must name its cluster: the same
 * variables point at a multi-node Cassandra (contact points, local data center, consistency,
 * credentials, TLS) and a real Redis (URL with `rediss://` for TLS, or cluster nodes).
 */
import { z } from 'zod';
import { subscriptionVariables } from './subscriptionVariables.js';

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

export const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be an integer')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** `a=1, b=2` → { a: '1', b: '2' } (the format is checked by each variable's regex first). */
export function pairs(text: string | undefined): Record<string, string> {
  if (!text) return {};
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const index = pair.indexOf('=');
      return [pair.slice(0, index).trim(), pair.slice(index + 1).trim()];
    }),
  );
}

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

const secret = z.string().min(32, 'must be at least 32 characters');

/** Every process: where it runs and how it logs. */
export const processVariables = {
  FLEETGRAPH_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
};

/** Every process that reads or writes Cassandra. */
export const cassandraVariables = {
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
  CASSANDRA_CONNECT_TIMEOUT_MS: int(100, 120_000, 5000),
  /**
   * Per attempt, per coordinator: above the server's own timeouts (read 5 s, write 2 s, range
   * and other requests 10 s), so a slow replica comes back as a typed ReadTimeout/WriteTimeout
   * the retry policy can judge; only a coordinator that says nothing at all hits this one.
   */
  CASSANDRA_REQUEST_TIMEOUT_MS: int(100, 120_000, 12_000),
  /**
   * A read (an idempotent statement) with no answer after this long is also sent to the next
   * node of its query plan; the first answer wins. Well above a healthy read's latency, far
   * below the timeouts: it only fires for a stalled coordinator (a GC pause, a dying node).
   */
  CASSANDRA_SPECULATIVE_DELAY_MS: int(0, 60_000, 300),
  /** Extra executions one read may start (0: no speculative execution). */
  CASSANDRA_SPECULATIVE_EXECUTIONS: int(0, 4, 1),
};

/** Processes that use Redis: the router, the fleet subgraph (change events), cache CLIs. */
export const redisVariables = {
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  /** Comma-separated host:port seeds; when set, Redis Cluster is used instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().default('fg:'),
  /** A Redis slower than this is treated as down for the request (fail-open). */
  REDIS_COMMAND_TIMEOUT_MS: int(5, 10_000, 100),
};

/**
 * The router and every subgraph: the HMAC secret of forwarded identities. Each secret has one
 * purpose and its own development value; production's rules are in secrets.ts.
 */
export const identityVariables = {
  IDENTITY_SIGNING_SECRET: secret.optional(),
};

/** Every subgraph: the HMAC secret of the pagination cursors it hands to clients. */
export const cursorVariables = {
  CURSOR_SIGNING_SECRET: secret.optional(),
};

/** The router only: authentication of callers. */
export const jwtVariables = {
  /** HS256 secret for development JWTs; production refuses it (and HS256) and needs a JWKS. */
  JWT_SECRET: secret.optional(),
  /** JWKS endpoint of the identity provider (RS256/ES256/EdDSA); required in production. */
  JWT_JWKS_URL: z.url({ error: 'must be a URL' }).optional(),
  /** Required in production. */
  JWT_ISSUER: z.string().optional(),
  /** Required in production. */
  JWT_AUDIENCE: z.string().optional(),
  JWT_CLOCK_TOLERANCE_SECONDS: int(0, 300, 30),
};

/** The router only: serving, limits, caching, subgraph fetches. */
export const routerVariables = {
  ...subscriptionVariables,
  ROUTER_PORT: port.default(4000),
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
  ROUTER_WORKERS: int(1, 64, 1),
  /**
   * Operations executing at once per router process; more wait in a queue of
   * ROUTER_MAX_QUEUED_EXECUTIONS, and beyond it get 503 (router/executionLimit.ts).
   */
  ROUTER_MAX_CONCURRENT_EXECUTIONS: int(1, 10_000, 32),
  ROUTER_MAX_QUEUED_EXECUTIONS: int(0, 100_000, 2000),
  /** Whether the router caches whole query responses in Redis (router/cache/). */
  RESPONSE_CACHE: bool.default(true),
  /**
   * Uses of a response before it is stored (nginx's proxy_cache_min_uses): 2 leaves out
   * responses asked for once, which fill the cache and cost a Redis write each, never a hit.
   */
  RESPONSE_CACHE_MIN_USES: int(1, 10, 2),
  /**
   * Whether the router caches `_entities` fetches per entity in Redis (router/cache/entityCache.ts,
   * docs/caching.md): stored at an entity's second use, Redis commands batched; on the live
   * fleet it spares users and sessions most of their reads.
   */
  ENTITY_CACHE: bool.default(true),
  /** Who runs query plans: lean, gateway (stock) or compare (tests); router/execution/. */
  QUERY_PLAN_EXECUTOR: z.enum(['lean', 'gateway', 'compare']).default('lean'),
  /** Whether requests without credentials are served (as the anonymous identity). */
  ROUTER_ALLOW_ANONYMOUS: bool.default(true),
  SUBGRAPH_TIMEOUT_MS: int(50, 120_000, 5000),
  /** A mutation's fetch deadline: sent once, it must outlast the subgraph's write path. */
  SUBGRAPH_MUTATION_TIMEOUT_MS: int(50, 300_000, 40_000),
  SUBGRAPH_RETRIES: int(0, 5, 2),
  /** Seconds a "session not revoked" answer is trusted (cached in Redis). */
  SESSION_CHECK_CACHE_SECONDS: int(0, 300, 5),
  /**
   * Requests per minute by class: `user=600,partner-standard=300,partner-premium=3000`. The
   * class `auth-failure` is failed authentications per client address (default 30).
   */
  RATE_LIMITS: z
    .string()
    .regex(
      /^[\w-]+=\d+(,[\w-]+=\d+)*$/,
      'must be class=requestsPerMinute pairs separated by commas',
    )
    .default(
      'user=1200,anonymous=300,partner-standard=600,partner-premium=6000,partner-trial=60,auth-failure=30',
    ),
  MAX_QUERY_DEPTH: int(1, 100, 12),
  MAX_QUERY_ALIASES: int(0, 1000, 20),
  MAX_QUERY_TOKENS: int(10, 100_000, 3000),
  MAX_QUERY_DIRECTIVES: int(0, 1000, 20),
  MAX_QUERY_COST: int(1, 10_000_000, 20_000),
  /**
   * The operations listener (router/http/opsServer.ts): /metrics and the operator form of
   * POST /cache/invalidate. Never expose it publicly: bind it to loopback or a private
   * network that only operators and the metrics scraper reach.
   */
  ROUTER_OPS_PORT: port.default(4090),
  ROUTER_OPS_HOST: z.string().default('127.0.0.1'),
  /**
   * The bearer token of operator cache purges on the operations listener (any form, any
   * tenant). Required in production. Not the JWT `operator` role, which is a fleet role.
   */
  OPERATOR_TOKEN: secret.optional(),
  /** Public POST /cache/invalidate requests per minute per caller (org admins). */
  CACHE_INVALIDATION_RATE_LIMIT: int(1, 10_000, 30),
};

/**
 * The router and every subgraph: OpenTelemetry tracing, as the OpenTelemetry specification
 * names the variables; on only when an OTLP exporter is configured (telemetry.ts).
 */
export const telemetryVariables = {
  OTEL_SDK_DISABLED: bool.default(false),
  /** `otlp` or `none`; unset: `otlp` when an OTLP endpoint is set. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  /** The collector's base URL (traces go to `<endpoint>/v1/traces`). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ error: 'must be a URL' }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ error: 'must be a URL' }).optional(),
  /** OTLP over HTTP only: protobuf (the specification's default) or JSON. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  /** The fraction of new traces sampled (parent-based: subgraphs follow the router). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
};

/** Each subgraph its own port; a subgraph reads only its own. */
export const subgraphPortVariables = {
  users: { USERS_PORT: port.default(4001) },
  sessions: { SESSIONS_PORT: port.default(4002) },
  fleet: { FLEET_PORT: port.default(4003) },
} as const;
export type SubgraphName = keyof typeof subgraphPortVariables;

/** Every environment variable this project reads (docker-compose.yml is tested against it). */
export const ALL_VARIABLES: readonly string[] = Object.keys({
  ...processVariables,
  ...cassandraVariables,
  ...redisVariables,
  ...identityVariables,
  ...cursorVariables,
  ...jwtVariables,
  ...routerVariables,
  ...telemetryVariables,
  ...subgraphPortVariables.users,
  ...subgraphPortVariables.sessions,
  ...subgraphPortVariables.fleet,
});
