/**
 * The whole federated stack in the test process: the three real subgraphs (on random ports,
 * against the real Cassandra node) and the router in front of them (real Redis), configured
 * with SUBGRAPH_URLS pointing at those ports.
 */
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';
import { loadRouterConfig, type RouterConfig } from '../../platform/config/load.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { createLogger } from '../../platform/logger.js';
import { createRedis, waitForRedis, type RedisClient } from '../../platform/redis/client.js';
import { createRouter, type Router } from '../../router/server.js';
import { mintDevelopmentToken } from '../../router/auth/jwt.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { cassandraForTest, testEnv } from './stack.js';
import { startSubgraph, sumMetric, type RunningSubgraph } from './subgraphs.js';

export interface GraphQLResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: T | null;
    errors?: {
      message: string;
      path?: (string | number)[];
      extensions?: Record<string, unknown>;
    }[];
  };
}

export interface Federation {
  readonly config: RouterConfig;
  readonly url: string;
  /** The router's operations listener (/metrics, operator cache purges), e.g. http://127.0.0.1:1234. */
  readonly opsUrl: string;
  readonly cassandra: CassandraClient;
  readonly redis: RedisClient;
  readonly router: Router;
  readonly subgraphs: { users: RunningSubgraph; sessions: RunningSubgraph; fleet: RunningSubgraph };
  query<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    auth?: { token?: string; apiKey?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  routerMetric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Stops one subgraph (its port closes); `restartSubgraph` brings it back on the same port. */
  stopSubgraph(name: 'users' | 'sessions' | 'fleet'): Promise<void>;
  restartSubgraph(name: 'users' | 'sessions' | 'fleet'): Promise<void>;
  close(): Promise<void>;
}

const definitions = {
  users: usersSubgraph,
  sessions: sessionsSubgraph,
  fleet: fleetSubgraph,
} as const;

export interface FederationOptions {
  /**
   * The URL the router is given for a subgraph (SUBGRAPH_URLS), from the URL it listens on;
   * e.g. a fault-injecting proxy in front of it. Default: the subgraph's own URL.
   */
  readonly routeSubgraph?: (name: 'users' | 'sessions' | 'fleet', url: string) => string;
  /**
   * Signing secrets instead of the development ones (e.g. randomProductionSecrets(), so that a
   * production router can share the subgraphs): both to the subgraphs, the identity one to the
   * router.
   */
  readonly secrets?: { IDENTITY_SIGNING_SECRET: string; CURSOR_SIGNING_SECRET: string };
}

export async function startFederation(
  routerEnv: Record<string, string> = {},
  options: FederationOptions = {},
): Promise<Federation> {
  const cassandra = await cassandraForTest();
  const secrets = options.secrets ?? {};
  // Redis keys of this test process only (below); the fleet subgraph appends its change
  // events under the same prefix and to the same Redis the router reads them from.
  const redisKeyPrefix = routerEnv['REDIS_KEY_PREFIX'] ?? `fgtest-${process.pid}:`;
  const fleetEnv = {
    ...secrets,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    ...(routerEnv['REDIS_URL'] ? { REDIS_URL: routerEnv['REDIS_URL'] } : {}),
  };
  const subgraphs = {
    users: await startSubgraph(usersSubgraph, cassandra, 0, secrets),
    sessions: await startSubgraph(sessionsSubgraph, cassandra, 0, secrets),
    fleet: await startSubgraph(fleetSubgraph, cassandra, 0, fleetEnv),
  };
  const ports = Object.fromEntries(
    Object.entries(subgraphs).map(([name, s]) => [name, Number(new URL(s.url).port)]),
  );
  const config = loadRouterConfig({
    ...testEnv,
    // Redis keys of this test process only: rate-limit counts are shared through Redis, and
    // the hostile-input file's thousands of requests as admin (0, 0) left the next file's
    // router (the IDE test, same user, same minute) rate-limited.
    REDIS_KEY_PREFIX: redisKeyPrefix,
    SUBGRAPH_URLS: Object.entries(subgraphs)
      .map(
        ([name, s]) =>
          `${name}=${options.routeSubgraph?.(name as keyof typeof subgraphs, s.url) ?? s.url}`,
      )
      .join(','),
    ...(options.secrets
      ? { IDENTITY_SIGNING_SECRET: options.secrets.IDENTITY_SIGNING_SECRET }
      : {}),
    ...routerEnv,
  });
  const redis = createRedis(config);
  await waitForRedis(redis, 5000);
  const router = await createRouter(config, {
    cassandra,
    redis,
    logger: createLogger(config, 'test-router'),
  });
  const url = await router.listen(0, '127.0.0.1');
  const opsUrl = await router.listenOps(0, '127.0.0.1');
  const metricsUrl = `${opsUrl}/metrics`;

  return {
    config,
    url,
    opsUrl,
    cassandra,
    redis,
    router,
    subgraphs,
    async query(query, variables = {}, auth = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
          ...(auth.apiKey ? { 'x-api-key': auth.apiKey } : {}),
          ...auth.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as never,
      };
    },
    async routerMetric(name, labels = {}) {
      return sumMetric(await (await fetch(metricsUrl)).text(), name, labels);
    },
    async stopSubgraph(name) {
      await subgraphs[name].close();
    },
    async restartSubgraph(name) {
      const restarted = await startSubgraph(
        definitions[name] as never,
        cassandra,
        ports[name],
        name === 'fleet' ? fleetEnv : secrets,
      );
      (subgraphs as Record<string, RunningSubgraph>)[name] = restarted;
    },
    async close() {
      await router.close();
      for (const subgraph of Object.values(subgraphs))
        await subgraph.close().catch(() => undefined);
      redis.disconnect();
      await cassandra.shutdown();
    },
  };
}

/** The HS256 secret the test router verifies development JWTs with. */
export function jwtSecretOf(config: RouterConfig): string {
  if (config.jwt.mode !== 'hs256') throw new Error('development tokens need JWT_SECRET (hs256)');
  return config.jwt.secret;
}

/** A development JWT for a seeded user (organization o, user u), bound to their first session. */
export function tokenFor(
  config: RouterConfig,
  o: number,
  u: number,
  roles: string[] = ['admin', 'operator', 'viewer'],
  options: { sessionId?: string | null; expiresIn?: string | number } = {},
): Promise<string> {
  return mintDevelopmentToken(
    jwtSecretOf(config),
    {
      userId: seedIds.user(o, u),
      organizationId: seedIds.organization(o),
      roles,
      ...(options.sessionId === null
        ? {}
        : { sessionId: options.sessionId ?? seedIds.session(o, u, 0) }),
    },
    (options.expiresIn ?? '10m') as string,
  );
}
