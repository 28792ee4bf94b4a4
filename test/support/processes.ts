/**
 * The federated stack as separate node processes — the three subgraphs and the router, each its
 * own `node` — for tests that signal or measure a process (shutdown drain, soak). A thin layer
 * over the benchmark's harness (bench/lib/processes.ts builds, starts, waits for and stops the
 * children; bench/lib/stack.ts says how each is configured), adding free loopback ports, this
 * suite's keyspace and Redis prefix, inspectors on request, and clean-up when the test process
 * exits.
 *
 * @remarks
 * Everything runs on 127.0.0.1. Only processes this module spawned are ever signalled: on
 * success the caller stops them, on failure {@link StackProcesses.stopAll} (called from an
 * `after` hook or a `finally`) does, and if the test process exits without either, its 'exit'
 * handler SIGKILLs what is left.
 */
import { createServer } from 'node:net';
import { ProcessGroup, type Service, type ServiceSpec } from '../../bench/lib/processes.js';
import { benchIssuer, routerSpec, subgraphSpecs } from '../../bench/lib/stack.js';
import { testConfig } from './stack.js';

export type SubgraphName = 'users' | 'sessions' | 'fleet';
export type SubgraphPorts = Record<SubgraphName, number>;

/**
 * A port nothing listens on right now (the kernel's choice for port 0). Another process could
 * take it before the child binds it; the harness then fails fast with EADDRINUSE in the log.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StackOptions {
  /** Keeps this run's rate-limit, APQ and response-cache keys apart from other test runs. */
  readonly redisKeyPrefix: string;
  /** Extra router environment (e.g. RESPONSE_CACHE). */
  readonly routerEnv?: Readonly<Record<string, string>>;
  /** Extra environment of the subgraphs (e.g. OTEL_* to trace them). */
  readonly subgraphEnv?: Readonly<Record<string, string>>;
  /**
   * Starts every process with its inspector on a free loopback port (see
   * {@link inspectorPortOf}), for a test that reads their heaps.
   */
  readonly inspect?: boolean;
}

export interface StackProcesses {
  readonly group: ProcessGroup;
  readonly subgraphs: Readonly<Record<SubgraphName, Service>>;
  readonly subgraphPorts: SubgraphPorts;
  /** Starts a router in front of the subgraphs (another one after the first has stopped). */
  startRouter(name?: string): Promise<Service>;
  stopAll(): Promise<void>;
}

const groups = new Set<ProcessGroup>();
process.once('exit', () => {
  for (const group of groups) group.killAllNow();
});

/**
 * Starts the three subgraphs (production configuration, as the benchmark runs them, over this
 * suite's keyspace) on free ports and resolves once each answers /healthz.
 */
export async function startSubgraphProcesses(options: StackOptions): Promise<StackProcesses> {
  const group = new ProcessGroup();
  groups.add(group);
  const keyspace = testConfig.cassandra.keyspace;
  const subgraphPorts: SubgraphPorts = {
    users: await freePort(),
    sessions: await freePort(),
    fleet: await freePort(),
  };
  const configure = async (spec: ServiceSpec): Promise<ServiceSpec> => ({
    ...spec,
    env: { ...spec.env, REDIS_KEY_PREFIX: options.redisKeyPrefix },
    ...(options.inspect
      ? { nodeArgs: [...(spec.nodeArgs ?? []), `--inspect=127.0.0.1:${await freePort()}`] }
      : {}),
  });
  const started: Partial<Record<SubgraphName, Service>> = {};
  try {
    for (const spec of subgraphSpecs(keyspace, subgraphPorts, 'batched')) {
      const env = { ...spec.env, ...options.subgraphEnv };
      started[spec.name as SubgraphName] = await group.start(await configure({ ...spec, env }));
    }
  } catch (error) {
    await group.stopAll();
    throw error;
  }
  const subgraphs = started as Record<SubgraphName, Service>;
  let routers = 0;
  return {
    group,
    subgraphs,
    subgraphPorts,
    async startRouter(name = `router-${++routers}`) {
      await benchIssuer(); // the routers' JWKS (production refuses HS256)
      const spec = routerSpec({
        name,
        keyspace,
        port: await freePort(),
        subgraphUrls: Object.entries(subgraphPorts)
          .map(([subgraph, port]) => `${subgraph}=http://127.0.0.1:${port}/graphql`)
          .join(','),
        responseCache: true,
        // Its operations listener (/metrics) on a free port too: routerSpec's default (its
        // port + 1100) is for the benchmark's fixed ports.
        extraEnv: { ROUTER_OPS_PORT: String(await freePort()), ...options.routerEnv },
      });
      const router = await group.start(await configure(spec));
      await waitForReadiness(router.baseUrl);
      return router;
    },
    async stopAll() {
      await group.stopAll();
      groups.delete(group);
    },
  };
}

/** The inspector port of a service started with `inspect: true`. */
export function inspectorPortOf(service: Service): number | undefined {
  for (const arg of service.spec.nodeArgs ?? []) {
    const match = /^--inspect=127\.0\.0\.1:(\d+)$/.exec(arg);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Waits (bounded) until the router's /readyz says every subgraph answers. */
async function waitForReadiness(baseUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`router at ${baseUrl} not ready within ${timeoutMs / 1000}s: ${last}`);
}
