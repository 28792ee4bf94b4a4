/**
 * What the benchmark starts, where, and with which environment.
 *
 * @remarks
 * Ports 5000–5048 on 127.0.0.1, clear of the development servers (4000–4003). Every process
 * runs with FLEETGRAPH_ENV=production (no IDE, introspection off, field suggestions blocked:
 * the configuration being measured is the one deployed), so with what production requires:
 * identity and cursor secrets of this run (random, distinct), and JWTs verified through a
 * JWKS — the run's own identity provider on 127.0.0.1 ({@link benchIssuer}), which mints the
 * benchmark's tokens (ES256, with issuer and audience). Data lives in its own keyspace
 * (BENCH_KEYSPACE, default fleetgraph_bench): the large seed rewrites organization 0's demo fleets
 * (more robots, other statuses) that the test suite counts, so it never goes into the
 * development keyspace; Redis keys get their own prefix (fgbench:) for the same reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  randomProductionSecrets,
  startJwksIssuer,
  type JwksIssuer,
} from '../../test/support/jwksIssuer.js';
import { REPO_ROOT, type ServiceSpec } from './processes.js';
import type { TargetId } from './results.js';

export const PORTS = {
  router: 5000,
  subgraphs: { users: 5001, sessions: 5002, fleet: 5003 },
  routerCache: 5004,
  bareGateway: 5005,
  bareHttp: 5006,
  routerNaive: 5010,
  /** Our router with QUERY_PLAN_EXECUTOR=gateway: issue 20's baseline, side by side. */
  routerStockExecutor: 5007,
  naiveSubgraphs: { users: 5011, sessions: 5012, fleet: 5013 },
  routerBound: {
    router: 5020,
    routerCache: 5025,
    bareGateway: 5026,
    /** The real sessions subgraph: our routers check token revocation with it. */
    sessions: 5027,
    /** Our router with QUERY_PLAN_EXECUTOR=gateway: the baseline of issue 20's executor. */
    routerStockExecutor: 5048,
  },
} as const;

/** The rate class of the benchmark's partner keys; the routers give it (and users) no limit. */
export const PARTNER_RATE_CLASS = 'partner-bench';
const UNLIMITED = 1_000_000_000;
export const BENCH_RATE_LIMITS = `user=${UNLIMITED},anonymous=${UNLIMITED},partner-standard=${UNLIMITED},${PARTNER_RATE_CLASS}=${UNLIMITED}`;

/** The identity and cursor secrets of this run's processes. */
const RUN_SECRETS = randomProductionSecrets();

let issuer: Promise<JwksIssuer> | undefined;
let started: JwksIssuer | undefined;
/** The run's identity provider (a JWKS on 127.0.0.1), started on first use. */
export async function benchIssuer(): Promise<JwksIssuer> {
  issuer ??= startJwksIssuer({
    issuer: 'https://identity.bench.fleetgraph.test/',
    audience: 'fleetgraph-bench',
  });
  started = await issuer;
  return started;
}

/** JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE of a router: benchIssuer() must have run. */
function jwtEnv(): Readonly<Record<string, string>> {
  if (!started) throw new Error('start benchIssuer() before a router');
  return started.env;
}

/** The router's V8 flags (router/v8-flags; why, in router/index.ts). */
export const ROUTER_NODE_FLAGS: readonly string[] = process.env.BENCH_ROUTER_NODE_FLAGS
  ? process.env.BENCH_ROUTER_NODE_FLAGS.split(' ').filter(Boolean) // to compare GC settings
  : readFileSync(join(REPO_ROOT, 'router/v8-flags'), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join(' ')
      .split(' ')
      .filter(Boolean);

/** V8 flags for the subgraphs: none by default, as they are started elsewhere; to compare GC settings. */
const SUBGRAPH_NODE_FLAGS: readonly string[] = (process.env.BENCH_SUBGRAPH_NODE_FLAGS ?? '')
  .split(' ')
  .filter(Boolean);

export function commonEnv(keyspace: string): Record<string, string> {
  return {
    FLEETGRAPH_ENV: 'production',
    // As the container image runs them (Dockerfile `ENV NODE_ENV=production`): graphql-js checks
    // every `instanceOf` for a second copy of itself otherwise. Measured on the live-fleet
    // scenario, cache off: fleet subgraph CPU per dashboard 8.74 → 7.61 / 7.05 ms, router
    // 7.72 → 7.70 / 6.97 ms (bench/README.md, "Environment").
    NODE_ENV: 'production',
    ...RUN_SECRETS,
    CASSANDRA_KEYSPACE: keyspace,
    REDIS_KEY_PREFIX: 'fgbench:',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
}

type SubgraphPorts = { readonly users: number; readonly sessions: number; readonly fleet: number };

export function subgraphUrls(ports: SubgraphPorts): string {
  return Object.entries(ports)
    .map(([name, port]) => `${name}=http://127.0.0.1:${port}/graphql`)
    .join(',');
}

/**
 * The three subgraphs: `batched` from their own entry files, `naive` (without DataLoader) from
 * bench/baselines/naive-subgraph.ts.
 */
export function subgraphSpecs(
  keyspace: string,
  ports: SubgraphPorts,
  mode: 'batched' | 'naive',
): ServiceSpec[] {
  return (['users', 'sessions', 'fleet'] as const).map((name) => ({
    name: `${name}${mode === 'naive' ? '-naive' : ''}`,
    entry: mode === 'naive' ? 'bench/baselines/naive-subgraph.ts' : `subgraphs/${name}/index.ts`,
    port: ports[name],
    env: {
      ...commonEnv(keyspace),
      [`${name.toUpperCase()}_PORT`]: String(ports[name]),
      ...(mode === 'naive' ? { BENCH_SUBGRAPH: name } : {}),
    },
    ready: { get: '/healthz' },
    nodeArgs: SUBGRAPH_NODE_FLAGS,
  }));
}

/** A benchmark router's operations port is its port + this (bench/README.md). */
export const ROUTER_OPS_PORT_OFFSET = 1100;

export function routerSpec(options: {
  readonly name: string;
  readonly keyspace: string;
  readonly port: number;
  readonly subgraphUrls: string;
  readonly responseCache: boolean;
  readonly supergraphPath?: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
  readonly nodeArgs?: readonly string[];
}): ServiceSpec {
  return {
    name: options.name,
    entry: 'router/index.ts',
    // The router's recommended V8 flags (ROUTER_NODE_FLAGS in router/index.ts' docs), plus any
    // the caller adds (e.g. --cpu-prof).
    nodeArgs: [...ROUTER_NODE_FLAGS, ...(options.nodeArgs ?? [])],
    port: options.port,
    env: {
      ...commonEnv(options.keyspace),
      ...jwtEnv(),
      ROUTER_PORT: String(options.port),
      // Each router its own operations port (the default, 4090, is the development router's).
      // + 1100, not + 1000: the main router's 5000 + 1000 is 6000, a port fetch() refuses to
      // call (the WHATWG "bad ports": X11), so its /metrics scrapes failed silently and its
      // fetches/request read 0.
      ROUTER_OPS_PORT: String(options.port + ROUTER_OPS_PORT_OFFSET),
      SUBGRAPH_URLS: options.subgraphUrls,
      RESPONSE_CACHE: String(options.responseCache),
      RATE_LIMITS: BENCH_RATE_LIMITS,
      ...(options.supergraphPath ? { SUPERGRAPH_PATH: options.supergraphPath } : {}),
      ...options.extraEnv,
    },
    ready: { get: '/healthz' },
  };
}

export function bareGatewaySpec(options: {
  readonly name: string;
  readonly keyspace: string;
  readonly port: number;
  readonly subgraphUrls: string;
  readonly supergraphPath?: string;
  readonly partnerIdentities?: unknown;
}): ServiceSpec {
  return {
    name: options.name,
    entry: 'bench/baselines/bare-gateway.ts',
    port: options.port,
    env: {
      ...commonEnv(options.keyspace),
      ...jwtEnv(),
      BENCH_PORT: String(options.port),
      SUBGRAPH_URLS: options.subgraphUrls,
      BENCH_PARTNER_IDENTITIES: JSON.stringify(options.partnerIdentities ?? {}),
      ...(options.supergraphPath ? { SUPERGRAPH_PATH: options.supergraphPath } : {}),
    },
    ready: { graphql: '/graphql' },
  };
}

export function bareHttpSpec(): ServiceSpec {
  return {
    name: 'bare-http',
    entry: 'bench/baselines/bare-http.ts',
    port: PORTS.bareHttp,
    env: { BENCH_PORT: String(PORTS.bareHttp) },
    ready: { get: '/healthz' },
  };
}

export function routerBoundSubgraphsSpec(ports: readonly number[]): ServiceSpec {
  return {
    name: 'routerbound-subgraphs',
    entry: 'bench/routerbound/server.ts',
    port: ports[0]!,
    env: { ROUTERBOUND_PORTS: ports.join(',') },
    ready: { get: '/healthz' },
  };
}

/**
 * Our router's operation limits for the router-bound operation, which is deeper (13 levels)
 * and costlier than the product's operations; everything else (authentication, rate limiting,
 * the other limits, metrics) stays as configured.
 */
export const ROUTER_BOUND_LIMITS = {
  MAX_QUERY_DEPTH: '30',
  MAX_QUERY_COST: '10000000',
  MAX_QUERY_TOKENS: '10000',
};

export const isRouterTarget = (target: TargetId) => target.startsWith('router');
