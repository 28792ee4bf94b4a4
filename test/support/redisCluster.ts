/**
 * The Redis Cluster of `npm run test:redis-cluster` (infra/redis-cluster/start.sh: three masters
 * on 127.0.0.1:7101-7103), as the tests of test/redis-cluster/ reach it.
 *
 * @remarks
 * Those tests run with REDIS_CLUSTER_NODES set (test/redis-cluster/run.sh), so the test
 * configuration ({@link testConfig}, and every router startFederation builds) uses the cluster.
 * Run without it they would quietly test the single Redis instead: {@link clusterNodes} refuses.
 */
import { Cluster, Redis } from 'ioredis';
import { createRedis, keySlot, waitForRedis } from '../../platform/redis/client.js';
import { testConfig } from './stack.js';

/** The configured cluster's seed nodes; throws when the tests are not run against a cluster. */
export function clusterNodes(): readonly { host: string; port: number }[] {
  const nodes = testConfig.redis.clusterNodes;
  if (!nodes?.length)
    throw new Error(
      'REDIS_CLUSTER_NODES is not set: run these tests with `npm run test:redis-cluster`',
    );
  return nodes;
}

/** A Cluster client configured as the router's (prefix, timeouts), once ready. */
export async function clusterForTest(): Promise<Cluster> {
  clusterNodes();
  const client = createRedis(testConfig);
  await waitForRedis(client, 5000);
  if (!(client instanceof Cluster)) throw new Error('createRedis did not return a Cluster');
  return client;
}

export interface ClusterMaster {
  /** `host:port`, as ioredis names the node. */
  readonly id: string;
  /** A plain connection to this node only (no prefix): sees what lives on it. */
  readonly redis: Redis;
  readonly slots: readonly (readonly [number, number])[];
}

/** The cluster's masters, each with a plain connection, from CLUSTER SLOTS. */
export async function clusterMasters(cluster: Cluster): Promise<ClusterMaster[]> {
  const byNode = new Map<string, [number, number][]>();
  for (const [from, to, master] of await cluster.cluster('SLOTS')) {
    if (!master) continue;
    const id = `${master[0]}:${master[1]}`;
    byNode.set(id, [...(byNode.get(id) ?? []), [from, to]]);
  }
  return [...byNode].map(([id, slots]) => {
    const [host, port] = id.split(':');
    return { id, slots, redis: new Redis(Number(port), host!, { lazyConnect: false }) };
  });
}

/** The master serving a key (as stored: with the client's prefix). */
export function masterOf(masters: readonly ClusterMaster[], storedKey: string): ClusterMaster {
  const slot = keySlot(storedKey);
  const master = masters.find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
  if (!master) throw new Error(`no master serves slot ${slot}`);
  return master;
}
