/**
 * Security issue 16, item 3: /metrics. Not on the router's public port (production or not),
 * only on its operations listener; and no caller can grow the label sets: operation names are
 * labels only for registered operations in the router ("unregistered" otherwise), and a bounded
 * set in each subgraph. Real router and subgraphs (dev Cassandra), on a private Redis.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';

const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');
/** Reaches the fleet subgraph (refused there for the anonymous caller, but counted). */
const probe = (name: string) => `query ${name}($id: ID!) { robot(id: $id) { id } }`;
const ROUTER_SERIES = [
  'fleetgraph_router_requests_total',
  'fleetgraph_router_request_duration_seconds_count',
];
const SUBGRAPH_SERIES = 'fleetgraph_graphql_requests_total';
/** The most operation labels a subgraph keeps (subgraphs/kit/metrics.ts), plus `other`. */
const SUBGRAPH_LABEL_BOUND = 100 + 1;

/** How many series (label sets) of `name` a Prometheus text holds. */
function seriesOf(text: string, name: string): number {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`)).length;
}

describe('metrics: off the public port, and no caller-chosen label values', () => {
  let federation: Federation;
  let redis: PrivateRedis;

  const routerMetrics = async () =>
    (await fetch(`${federation.opsUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const routerSeries = async () => {
    const text = await routerMetrics();
    return ROUTER_SERIES.map((name) => seriesOf(text, name));
  };
  const subgraphSeries = async () =>
    Promise.all(
      Object.values(federation.subgraphs).map(async (subgraph) =>
        seriesOf(
          await (await fetch(subgraph.url.replace(/\/graphql$/, '/metrics'))).text(),
          SUBGRAPH_SERIES,
        ),
      ),
    );
  /** Anonymous requests, one per name, 10 at a time. */
  const sendNamed = async (names: string[]) => {
    const variables = { id: seedIds.robot(0, 0, 0) };
    for (let start = 0; start < names.length; start += 10)
      await Promise.all(
        names.slice(start, start + 10).map(async (name) => {
          const response = await fetch(federation.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: probe(name), variables }),
          });
          assert.equal(response.status, 200, await response.text());
        }),
      );
  };

  before(async () => {
    redis = await startPrivateRedis();
    federation = await startFederation({
      REDIS_URL: redis.url,
      // 1000 anonymous requests from one address within a minute are the point, not a flood.
      RATE_LIMITS: 'user=100000,anonymous=100000',
    });
  });
  after(async () => {
    await federation?.close();
    await redis?.stop();
  });

  it('when /metrics is asked of the public port, then it is 404', async () => {
    const response = await fetch(federation.url.replace(/\/graphql$/, '/metrics'));
    assert.equal(response.status, 404);
    assert.doesNotMatch(await response.text(), /fleetgraph_/);
  });

  it('when /metrics is asked of the operations listener, then it answers without a token', async () => {
    const response = await fetch(`${federation.opsUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /fleetgraph_router_subgraph_fetches_total/);
  });

  it('when 500 anonymous requests each name a new operation, then the router grows no series and the subgraphs stay bounded', async () => {
    await sendNamed(['Warmup']); // the "unregistered" series exist from here on
    const routerBefore = await routerSeries();
    await sendNamed(Array.from({ length: 500 }, (_, i) => `Probe${i}`));
    assert.deepEqual(await routerSeries(), routerBefore, 'router series unchanged');
    const text = await routerMetrics();
    assert.doesNotMatch(text, /operation="Probe/, 'no caller-chosen name is a label');
    const subgraphs = await subgraphSeries();
    for (const count of subgraphs)
      assert.ok(count <= SUBGRAPH_LABEL_BOUND, `a subgraph has ${count} operation series`);
    assert.equal(
      Math.max(...subgraphs),
      SUBGRAPH_LABEL_BOUND,
      'the names reached the fleet subgraph',
    );
    // Once full, the set stays as it is whatever else callers name.
    await sendNamed(Array.from({ length: 200 }, (_, i) => `Again${i}`));
    assert.deepEqual(await subgraphSeries(), subgraphs, 'subgraph series unchanged once full');
  });

  it('when a registered operation runs, then it is labelled by name; the same name on another document is not', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const send = (query: string) =>
      fetch(federation.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { fleetId: seedIds.fleet(0, 0), first: 5 } }),
      }).then((response) => response.json());
    const count = async () => {
      const text = await routerMetrics();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('fleetgraph_router_requests_total{operation="FleetDashboard"'));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await count();
    await send(DASHBOARD);
    assert.equal(await count(), before + 1, 'the registered dashboard is counted by name');
    await send('query FleetDashboard($fleetId: ID!) { fleet(id: $fleetId) { id name } }');
    assert.equal(await count(), before + 1, 'an unregistered document borrowing the name is not');
  });
});
