/**
 * The entity cache on a real Redis Cluster (REDIS_CLUSTER_NODES, test/redis-cluster/run.sh):
 * its lookups and stores are pipelines, which ioredis refuses when their keys live on different
 * nodes — and failing open would hide that as a cache that never hits. So this reads a fleet
 * dashboard (~10 operators each for users and sessions) until it is served from the entity
 * cache, and checks that the entries are spread over the masters and no Redis bypass was
 * counted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { clusterNodes } from '../support/redisCluster.js';

const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');

describe('the entity cache on a Redis Cluster', () => {
  let federation: Federation;
  let token: string;
  before(async () => {
    clusterNodes(); // refuses to run against the single Redis
    federation = await startFederation({
      RESPONSE_CACHE: 'false',
      ENTITY_CACHE: 'true',
      RATE_LIMITS: 'user=1000000',
      REDIS_COMMAND_TIMEOUT_MS: '1000',
    });
    token = await tokenFor(federation.config, 0, 0);
  });
  after(async () => {
    await federation?.close();
  });

  const read = async () => {
    const response = await federation.query(
      DASHBOARD,
      { fleetId: seedIds.fleet(0, 0), first: 100 },
      { token },
    );
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  };
  const entityFetches = async () =>
    (await federation.routerMetric('fleetgraph_router_subgraph_fetches_total', {
      subgraph: 'users',
    })) +
    (await federation.routerMetric('fleetgraph_router_subgraph_fetches_total', {
      subgraph: 'sessions',
    }));

  it('when a dashboard is read a third time, then users and sessions are served from entries spread over the masters, with no Redis bypass', async () => {
    await read(); // first use: not stored (admission)
    await read(); // second use: stored
    const before = await entityFetches();
    await read();
    assert.equal((await entityFetches()) - before, 0, 'no _entities fetch on the third read');
    const cluster = new Cluster([...clusterNodes()]);
    try {
      await new Promise((resolve) => cluster.once('ready', resolve));
      const prefix = federation.config.redis.keyPrefix;
      const perMaster = await Promise.all(
        cluster.nodes('master').map(async (node) => (await node.keys(`${prefix}ent:*`)).length),
      );
      assert.ok(
        perMaster.filter((count) => count > 0).length >= 2,
        `entries on several masters: ${perMaster.join(', ')}`,
      );
    } finally {
      cluster.disconnect();
    }
    assert.equal(
      await federation.routerMetric('fleetgraph_router_redis_bypass_total', {
        purpose: 'entity_cache',
      }),
      0,
      'no lookup or store refused',
    );
  });
});
