/**
 * Control of the fault tests' three-node Cassandra cluster (infra/cassandra-cluster/): which
 * node is which, killing one with SIGKILL, restarting it on its data, and waiting until it has
 * rejoined, both in the cluster's eyes and in the driver's.
 *
 * @remarks
 * Node N listens on 127.0.0.N on the cluster's one native port (CASSANDRA_CONTACT_POINTS, set
 * by test/cluster/run.sh). Only the project's scripts touch the nodes: kill.sh signals the pid
 * that start.sh recorded, so nothing but the cluster this run started can be killed.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import cassandra from 'cassandra-driver';
import type { ToolConfig } from '../../platform/config/load.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';

export type NodeNumber = 1 | 2 | 3;

export interface ClusterNode {
  readonly node: NodeNumber;
  /** `127.0.0.N:<port>`, as the driver names the host. */
  readonly endpoint: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A restart on a shared 2-core machine: commit-log replay, gossip, CQL (start.sh waits 180 s). */
const START_TIMEOUT_MS = 240_000;

/**
 * The cluster the configuration points at, node by node; throws (naming test/cluster/run.sh)
 * unless it is the fault-test cluster: three contact points 127.0.0.1-3 on one port other than
 * the dev node's 9042, so that these tests can never kill a node they did not start.
 */
export function clusterOf(config: Pick<ToolConfig, 'cassandra'>): ClusterNode[] {
  const { contactPoints, port } = config.cassandra;
  const expected = [1, 2, 3].map((n) => `127.0.0.${n}:${port}`);
  if (port === 9042 || [...contactPoints].sort().join(',') !== expected.join(',')) {
    throw new Error(
      `These tests need the three-node fault-test cluster (CASSANDRA_CONTACT_POINTS=${expected.join(',')}, not ${contactPoints.join(',')}): run them with bash test/cluster/run.sh`,
    );
  }
  return ([1, 2, 3] as const).map((node) => ({ node, endpoint: `127.0.0.${node}:${port}` }));
}

/** Runs one of infra/cassandra-cluster/*.sh; its output goes to this process's stdout. */
function script(name: 'start.sh' | 'kill.sh', node: NodeNumber, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [`infra/cassandra-cluster/${name}`, String(node)],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        process.stdout.write(`${stdout}${stderr}`.replace(/^/gm, '    '));
        if (error) reject(new Error(`${name} ${node} failed: ${error.message}`));
        else resolve();
      },
    );
  });
}

/** SIGKILLs node N (infra/cassandra-cluster/kill.sh) and resolves once its process is gone. */
export const killNode = (node: NodeNumber): Promise<void> => script('kill.sh', node, 30_000);

/** Restarts node N on its data (infra/cassandra-cluster/start.sh); resolves once it answers CQL. */
export const startNode = (node: NodeNumber): Promise<void> =>
  script('start.sh', node, START_TIMEOUT_MS);

/**
 * Resolves once `target` has rejoined: every client's driver sees it up, and a read at
 * consistency ALL (which needs all three replicas, RF 3 on three nodes) succeeds through each
 * node as coordinator, i.e. every node's gossip sees the target alive. Throws after `timeoutMs`.
 *
 * @param probe - a statement reading one partition of a replicated table, e.g. a seeded robot.
 */
export async function waitUntilRejoined(
  clients: readonly CassandraClient[],
  cluster: readonly ClusterNode[],
  target: ClusterNode,
  probe: { query: string; params: unknown[] },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = '';
  while (Date.now() < deadline) {
    lastProblem = await rejoinProblem(clients, cluster, target, probe);
    if (!lastProblem) return;
    await sleep(250);
  }
  throw new Error(`node ${target.node} did not rejoin within ${timeoutMs} ms: ${lastProblem}`);
}

async function rejoinProblem(
  clients: readonly CassandraClient[],
  cluster: readonly ClusterNode[],
  target: ClusterNode,
  probe: { query: string; params: unknown[] },
): Promise<string> {
  for (const [i, client] of clients.entries()) {
    if (!client.hosts.get(target.endpoint)?.isUp()) return `client ${i} sees it down`;
  }
  const client = clients[0]!;
  for (const coordinator of cluster) {
    const host = client.hosts.get(coordinator.endpoint);
    if (!host?.isUp()) return `coordinator ${coordinator.endpoint} is down`;
    try {
      await client.execute(probe.query, probe.params, {
        prepare: true,
        host,
        consistency: cassandra.types.consistencies.all,
        isIdempotent: true,
      });
    } catch (error) {
      return `a read at ALL through ${coordinator.endpoint} failed: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  return '';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
