/**
 * OpenTelemetry tracing end to end (docs/observability.md): the router and the three subgraphs
 * as their own processes, exporting OTLP/HTTP (JSON) to a receiver in this process. One
 * FleetDashboard request must make one trace whose spans link, parent to child: the router's
 * server span → its client span to a subgraph (undici) → that subgraph's server span (which
 * continued the trace from `traceparent`) → a Cassandra statement; and the router's Redis
 * commands are in it too. Off — the default — nothing is exported and the SDK is not loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../bench/lib/processes.js';
import { benchIssuer } from '../../bench/lib/stack.js';
import { seedIds } from '../../scripts/seed-ids.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlpReceiver.js';
import { startSubgraphProcesses, type StackProcesses } from '../support/processes.js';

const DASHBOARD = readFileSync('schema/operations/fleet-console/FleetDashboard.graphql', 'utf8');
const SERVER = 2;
/** The stable semantic conventions' db.system.name (db.system before them). */
const dbSystemOf = (span: ReceivedSpan) =>
  span.attributes['db.system.name'] ?? span.attributes['db.system'];
const CLIENT = 3;

const tracingEnv = (receiver: OtlpReceiver) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '200', // read by the SDK itself: export within the test's patience
});

async function eventually<T>(find: () => T | undefined, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000}s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('tracing (OpenTelemetry over OTLP/HTTP)', () => {
  let receiver: OtlpReceiver;
  let stack: StackProcesses;
  let router: Service;

  before(async () => {
    receiver = await startOtlpReceiver();
    const env = tracingEnv(receiver);
    stack = await startSubgraphProcesses({
      redisKeyPrefix: `fgtest-tracing-${randomUUID().slice(0, 8)}:`,
      subgraphEnv: env,
      routerEnv: env,
    });
    router = await stack.startRouter();
  });
  after(async () => {
    await stack?.stopAll();
    await receiver?.close();
  });

  it('when a FleetDashboard request is traced, then router, subgraph and Cassandra spans form one trace', async () => {
    const organizationId = seedIds.organization(0);
    const token = await (
      await benchIssuer()
    ).mint({ userId: randomUUID(), organizationId, roles: ['admin', 'operator', 'viewer'] }, '10m');
    const response = await fetch(`${router.baseUrl}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        query: DASHBOARD,
        operationName: 'FleetDashboard',
        variables: { fleetId: seedIds.fleet(0, 0), first: 5 },
      }),
    });
    const body = (await response.json()) as { data?: { fleet?: { robots: { nodes: unknown[] } } } };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.ok(body.data?.fleet?.robots.nodes.length, JSON.stringify(body));

    const routerServer = await eventually(
      () =>
        receiver.spans.find(
          (s) => s.service === 'fleetgraph-router' && s.kind === SERVER && !s.parentSpanId,
        ),
      'the router server span',
    );
    const inTrace = () => receiver.spans.filter((s) => s.traceId === routerServer.traceId);
    const byId = (id: string | undefined) => inTrace().find((s) => s.spanId === id);
    const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
      const parent = byId(span.parentSpanId);
      return parent ? [parent, ...ancestors(parent)] : [];
    };
    // A Cassandra statement of a subgraph, under that subgraph's server span, under a client
    // span of the router, under the router's server span.
    const chain = await eventually(() => {
      for (const cql of inTrace().filter((s) => dbSystemOf(s) === 'cassandra')) {
        if (cql.service === 'fleetgraph-router') continue;
        const up = ancestors(cql);
        const subgraphServer = up.find((s) => s.kind === SERVER && s.service === cql.service);
        const routerClient = subgraphServer && byId(subgraphServer.parentSpanId);
        if (routerClient?.kind !== CLIENT || routerClient.service !== 'fleetgraph-router') continue;
        if (!ancestors(routerClient).includes(routerServer)) continue;
        return { cql, subgraphServer, routerClient };
      }
      return undefined;
    }, 'router server → router client → subgraph server → Cassandra');
    assert.match(chain.cql.service, /^fleetgraph-(users|sessions|fleet)$/);
    assert.match(String(chain.routerClient.attributes['url.full']), /\/graphql$/);
    const names = new Set(inTrace().map((s) => s.name));
    for (const name of ['gateway.request', 'gateway.plan', 'gateway.fetch'])
      assert.ok(names.has(name), `${name} in ${[...names].join(', ')}`);
    assert.ok(
      inTrace().some((s) => s.service === 'fleetgraph-router' && dbSystemOf(s) === 'redis'),
      'a Redis command of the router in the trace',
    );
    assert.ok(
      [...names].some((n) => n.startsWith('dataloader ')),
      'a DataLoader batch span',
    );
  });

  it('when tracing is off, then nothing is exported and the SDK is not loaded', async () => {
    const probe = async (env: Record<string, string>) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'test/support/telemetryProbe.ts'],
        { env: { ...process.env, ...env } },
      );
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
        tracing: boolean;
        sdkModules: number;
      };
      const exported = receiver.spans.filter((s) => s.service === env.OTEL_SERVICE_NAME);
      return { ...result, exported };
    };
    const on = tracingEnv(receiver);
    const name = `probe-off-${randomUUID()}`;
    const off = await probe({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SDK_DISABLED: 'true',
      OTEL_SERVICE_NAME: name,
    });
    assert.deepEqual(
      { tracing: off.tracing, sdkModules: off.sdkModules },
      { tracing: false, sdkModules: 0 },
    );
    assert.equal(receiver.spans.filter((s) => s.service === name).length, 0);
    const onName = `probe-on-${randomUUID()}`;
    const traced = await probe({ ...on, OTEL_SERVICE_NAME: onName });
    assert.equal(traced.tracing, true);
    assert.ok(traced.sdkModules > 0, 'the probe sees the SDK when it is loaded');
    assert.ok(receiver.spans.some((s) => s.service === onName && dbSystemOf(s) === 'cassandra'));
  });
});
