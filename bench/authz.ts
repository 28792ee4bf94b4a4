/**
 * `npm run bench:authz` (`node --import tsx bench/authz.ts`): what authorization costs, shield
 * on vs off, in one bounded run against the real Cassandra node and Redis. The process stops
 * itself 10 s after it started, whatever happens.
 *
 * - **fleet list** (HTTP): the fleet subgraph serving the seeded fleet (0,0)'s 120 robots in one
 *   list (the demo seed has 120 robots per fleet, so a 120-row list rather than 200), 11 scalar
 *   fields per robot, with two fields behind rules on every robot (firmware, position: 240
 *   guarded fields per response), as organization 0's admin with a router-signed identity.
 * - **dashboard** (HTTP): the FleetDashboard trusted document (100 robots with operator, session
 *   count and current mission) through the router, response cache off, with a JWT.
 * - **fleet list execution** (in process, last, for whatever time the rest leaves): the same
 *   list executed with graphql-js against both schemas, alternately, without HTTP: the CPU time
 *   one execution costs, which depends far less on how busy the machine is than throughput does.
 *
 * "on" is the subgraph as shipped; "off" is the same definition with `transformSchema`
 * removed, so shield's middleware (and the start-up coverage check) is gone while the
 * object-level checks in loaders and `__resolveReference` — a comparison per object — stay.
 *
 * Method. autocannon measures in whole seconds, and the budget leaves two seconds per HTTP
 * scenario; measured one after the other, the variant measured second paid for the first's
 * aftermath on the 2-core dev machine (Cassandra busier), by ±30% from run to run. So both
 * variants are loaded at the same time, each with half the connections (fleet list 8 + 8 = 16,
 * dashboard 2 + 2: at 16 its latency passes a second), and share whatever the machine does; the
 * ratio of their throughputs is the cost. Both share one event loop too, so a cost in the
 * subgraph's CPU shows less here than in the execution figure, which is the one to watch for
 * shield's own overhead. Servers and load generator share one process (worker threads cost ~2 s
 * per run to start), so absolute figures are low; the ratios are what counts.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { mintDevelopmentToken } from '../router/auth/jwt.js';
import { createRouter, type Router } from '../router/server.js';
import { seedIds } from '../scripts/seed-ids.js';
import { fleetSubgraph } from '../subgraphs/fleet/subgraph.js';
import { sessionsSubgraph } from '../subgraphs/sessions/subgraph.js';
import { usersSubgraph } from '../subgraphs/users/subgraph.js';
import { Db } from '../subgraphs/kit/cassandra/db.js';
import { CursorCodec } from '../subgraphs/kit/cassandra/pagination.js';
import {
  loadRouterConfig,
  loadSubgraphConfig,
  type Environment,
  type RouterConfig,
  type SubgraphName,
} from '../platform/config/load.js';
import { connectCassandra, type CassandraClient } from '../platform/cassandra/client.js';
import { signIdentity, type Identity } from '../platform/contract/identity.js';
import { createLogger } from '../platform/logger.js';
import { createSubgraphMetrics } from '../subgraphs/kit/metrics.js';
import { createRedis, waitForRedis } from '../platform/redis/client.js';
import {
  createSubgraphServer,
  type BaseContext,
  type SubgraphDefinition,
  type SubgraphServer,
} from '../subgraphs/kit/server.js';
import { runMain } from '../platform/startup.js';

/** Per HTTP scenario, both variants at once (1 s when a slow start-up left no time for 2). */
const WINDOW_SECONDS = 2;
/** The process stops itself this long after it started (imports included). */
const DEADLINE_MS = 10_000;
/** Time kept for the report and shutting down. */
const REPORT_MARGIN_MS = 400;

const ADMIN: Identity = {
  kind: 'user',
  userId: seedIds.user(0, 0),
  organizationId: seedIds.organization(0),
  roles: ['admin', 'operator', 'viewer'],
  sessionId: seedIds.session(0, 0, 0),
};
const FLEET_LIST = `query FleetRobots($id: ID!) {
  fleet(id: $id) {
    robots(first: 120) {
      nodes { id serial model status batteryPercent firmware lastHeartbeatAt registeredAt position { latitude longitude heading } }
    }
  }
}`;
const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');

type Variant = 'off' | 'on';
const VARIANTS = ['off', 'on'] as const;

interface Target {
  readonly url: string;
  readonly connections: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface Sample {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** The definition without its schema transform: shield off, everything else the same. */
function unshielded<T extends BaseContext>(
  definition: SubgraphDefinition<T>,
): SubgraphDefinition<T> {
  return { ...definition, transformSchema: undefined };
}

const DEFINITIONS = [usersSubgraph, sessionsSubgraph, fleetSubgraph].map(
  (definition) => definition as unknown as SubgraphDefinition<BaseContext>,
);

async function startStack(
  env: Environment,
  deps: { cassandra: CassandraClient; redis: ReturnType<typeof createRedis> },
  variant: Variant,
): Promise<{ servers: SubgraphServer[]; router: Router; urls: Record<string, string> }> {
  const logger = createLogger(loadRouterConfig(env), `bench-${variant}`);
  const servers: SubgraphServer[] = [];
  const urls: Record<string, string> = {};
  for (const definition of DEFINITIONS) {
    const server = await createSubgraphServer(
      variant === 'on' ? definition : unshielded(definition),
      {
        config: loadSubgraphConfig(definition.name as SubgraphName, env),
        cassandra: deps.cassandra,
        logger,
      },
    );
    urls[definition.name] = await server.listen(0, '127.0.0.1');
    servers.push(server);
  }
  const routerConfig = loadRouterConfig({
    ...env,
    LOG_LEVEL: 'silent',
    RESPONSE_CACHE: 'false',
    RATE_LIMITS: 'user=100000000',
    SUBGRAPH_URLS: Object.entries(urls)
      .map(([name, url]) => `${name}=${url}`)
      .join(','),
  });
  const router = await createRouter(routerConfig, { ...deps, logger });
  urls['router'] = await router.listen(0, '127.0.0.1');
  return { servers, router, urls };
}

/** A few requests first: a wrong answer would make the figures meaningless, and JIT warms. */
async function verifyAndWarm(name: string, target: Target): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: target.headers,
      body: target.body,
    });
    const body = (await response.json()) as {
      data?: { fleet?: { robots?: { nodes?: unknown[] } } };
      errors?: unknown;
    };
    if (response.status !== 200 || body.errors || !body.data?.fleet?.robots?.nodes?.length)
      throw new Error(`${name}: unexpected answer ${JSON.stringify(body).slice(0, 300)}`);
  }
}

async function load(target: Target, seconds: number): Promise<Sample> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections: target.connections,
    duration: seconds,
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * The fleet list executed in process against both schemas, alternately (so drift hits both),
 * until `until`: median CPU milliseconds per execution.
 */
async function executionCost(
  config: RouterConfig,
  env: Environment,
  cassandra: CassandraClient,
  until: number,
): Promise<Record<Variant, number> & { pairs: number }> {
  const metrics = createSubgraphMetrics('bench', { defaultMetrics: false });
  const fleetConfig = loadSubgraphConfig('fleet', env);
  const logger = createLogger(config, 'bench');
  // The fleet context carries the server's change events (a Redis connection); only queries run.
  const resources = await fleetSubgraph.open!({ config: fleetConfig, logger, metrics });
  const base = {
    identity: ADMIN,
    requestId: 'bench',
    db: new Db(cassandra, metrics),
    // The subgraphs' cursor key (not the identity key: one secret per purpose).
    cursors: new CursorCodec(fleetConfig.cursorSigningSecret),
    metrics,
    logger,
    resources: resources.value,
  };
  const off = buildSubgraphSchema([
    {
      typeDefs: parse(readFileSync(fleetSubgraph.schemaFile, 'utf8')),
      resolvers: fleetSubgraph.resolvers as GraphQLResolverMap<unknown>,
    },
  ]);
  const schemas: Record<Variant, GraphQLSchema> = { off, on: fleetSubgraph.transformSchema!(off) };
  const document = parse(FLEET_LIST);
  const cpu: Record<Variant, number[]> = { off: [], on: [] };
  const once = async (variant: Variant) => {
    const started = process.cpuUsage();
    const result = await execute({
      schema: schemas[variant],
      document,
      contextValue: fleetSubgraph.createContext(base),
      variableValues: { id: seedIds.fleet(0, 0) },
    });
    const used = process.cpuUsage(started);
    if (result.errors) throw result.errors[0];
    cpu[variant].push((used.user + used.system) / 1000);
  };
  for (let i = 0; i < 5; i++) for (const variant of VARIANTS) await once(variant);
  cpu.off.length = cpu.on.length = 0;
  let pairs = 0;
  while (Date.now() < until) {
    for (const variant of pairs % 2 ? (['on', 'off'] as const) : VARIANTS) await once(variant);
    pairs++;
  }
  await resources.close();
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  return { off: median(cpu.off), on: median(cpu.on), pairs };
}

/** What has been measured so far (printed at the end, or at the deadline). */
const rows: Record<string, string | number>[] = [];

function report(how: string, loadBefore: number): void {
  console.log(
    `bench/authz: ${how}; ${process.uptime().toFixed(1)} s since the process started; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
  );
  if (rows.length > 0) console.table(rows);
}

runMain(async () => {
  const deadlineAt = Date.now() + DEADLINE_MS - process.uptime() * 1000;
  // Other work on the machine (a compaction, another benchmark) moves every figure.
  const loadBefore = loadavg()[0]!;
  const deadline = setTimeout(() => {
    report(`stopped at the ${DEADLINE_MS / 1000} s deadline`, loadBefore);
    process.exit(2);
  }, deadlineAt - Date.now());

  const env = { ...process.env, LOG_LEVEL: 'silent' };
  const config = loadRouterConfig(env);
  const cassandra = await connectCassandra(config);
  const redis = createRedis(config);
  await waitForRedis(redis, 5000);
  const token = await mintDevelopmentToken(
    config.jwt.mode === 'hs256' ? config.jwt.secret : '',
    {
      userId: seedIds.user(0, 0),
      organizationId: seedIds.organization(0),
      roles: ['admin', 'operator', 'viewer'],
      sessionId: seedIds.session(0, 0, 0),
    },
    '10m',
  );
  const [offStack, onStack] = await Promise.all(
    VARIANTS.map((variant) => startStack(env, { cassandra, redis }, variant)),
  );
  const stacks = { off: offStack!, on: onStack! };
  const targets: Record<string, Record<Variant, Target>> = {
    'fleet list': {},
    dashboard: {},
  } as never;
  for (const variant of VARIANTS) {
    const { urls } = stacks[variant];
    const fleetList = JSON.stringify({ query: FLEET_LIST, variables: { id: seedIds.fleet(0, 0) } });
    targets['fleet list']![variant] = {
      url: urls['fleet']!,
      connections: 8,
      // Signed once, for this body: a signature stays valid for 60 s, far longer than the run.
      headers: {
        'content-type': 'application/json',
        ...signIdentity(ADMIN, config.identitySigningSecret, {
          subgraph: 'fleet',
          body: fleetList,
        }),
      },
      body: fleetList,
    };
    targets['dashboard']![variant] = {
      url: urls['router']!,
      connections: 2,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: DASHBOARD,
        variables: { fleetId: seedIds.fleet(0, 0), first: 100 },
      }),
    };
  }

  // The HTTP scenarios get two seconds each when the start-up left time for it (a busy machine
  // starts slower), else one; the in-process executions come last (the HTTP load has warmed
  // the resolvers up by then) and get whatever time is left.
  const httpMs = (seconds: number) => Object.keys(targets).length * (seconds * 1000 + 150) + 600;
  const left = deadlineAt - Date.now() - REPORT_MARGIN_MS;
  const window = left >= httpMs(WINDOW_SECONDS) + 1200 ? WINDOW_SECONDS : 1;
  await Promise.all(
    Object.entries(targets).flatMap(([name, pair]) =>
      VARIANTS.map((variant) => verifyAndWarm(`${name} (${variant})`, pair[variant])),
    ),
  );
  for (const [name, pair] of Object.entries(targets)) {
    const [off, on] = await Promise.all([load(pair.off, window), load(pair.on, window)]);
    rows.push({
      scenario: `${name} (${pair.on.connections}+${pair.off.connections} conn)`,
      'off req/s': off.requestsPerSecond.toFixed(1),
      'on req/s': on.requestsPerSecond.toFixed(1),
      'on/off': (on.requestsPerSecond / off.requestsPerSecond).toFixed(3),
      'off p50/p99 ms': `${off.p50}/${off.p99}`,
      'on p50/p99 ms': `${on.p50}/${on.p99}`,
      errors: off.errors + on.errors,
    });
  }
  const execution = await executionCost(config, env, cassandra, deadlineAt - REPORT_MARGIN_MS);
  rows.push({
    scenario: `fleet list execution (${execution.pairs} pairs)`,
    'off CPU ms': execution.off.toFixed(2),
    'on CPU ms': execution.on.toFixed(2),
    'on/off': (execution.on / execution.off).toFixed(3),
  });
  clearTimeout(deadline);
  report(`${window} s per HTTP scenario, both variants at once`, loadBefore);

  // Shut down in order if there is time; the figures are out either way.
  const stop = setTimeout(() => process.exit(0), Math.max(0, deadlineAt - Date.now()));
  for (const { servers, router } of Object.values(stacks)) {
    await router.close();
    for (const server of servers) await server.close();
  }
  redis.disconnect();
  await cassandra.shutdown();
  clearTimeout(stop);
});
