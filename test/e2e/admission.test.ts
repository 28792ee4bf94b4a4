/**
 * Admission control (router/executionLimit.ts) through the real router, subgraphs and
 * Cassandra: at most ROUTER_MAX_CONCURRENT_EXECUTIONS operations execute at once, the next
 * ones queue, and beyond ROUTER_MAX_QUEUED_EXECUTIONS a request gets 503 SERVICE_OVERLOADED.
 * Concurrency is observed where it costs: in front of the fleet subgraph, by a loopback proxy
 * that holds each answer 100 ms and counts the requests it has in flight.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

const ROBOT = 'query Robot($id: ID!) { robot(id: $id) { id serial status } }';

interface CountingProxy {
  route(upstreamUrl: string): string;
  /** The most requests in flight at once since the last reset. */
  maxInFlight: number;
  /** Requests forwarded since the proxy started. */
  forwarded: number;
  close(): Promise<void>;
}

async function startCountingProxy(holdMs: number): Promise<CountingProxy> {
  let upstream: URL | undefined;
  let inFlight = 0;
  const proxy: CountingProxy = {
    route(upstreamUrl) {
      upstream = new URL(upstreamUrl);
      const proxied = new URL(upstreamUrl);
      proxied.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      return proxied.toString();
    },
    maxInFlight: 0,
    forwarded: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    inFlight++;
    proxy.forwarded++;
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight);
    const forward = request(
      {
        host: upstream!.hostname,
        port: upstream!.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        setTimeout(() => {
          inFlight--;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }, holdMs);
      },
    );
    forward.on('error', () => {
      inFlight--;
      res.destroy();
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return proxy;
}

async function startBehindProxy(env: Record<string, string>) {
  const proxy = await startCountingProxy(100);
  const federation = await startFederation(
    { RESPONSE_CACHE: 'false', ...env },
    { routeSubgraph: (name, url) => (name === 'fleet' ? proxy.route(url) : url) },
  );
  return { proxy, federation };
}

const robots = (count: number) =>
  Array.from({ length: count }, (_, i) => seedIds.robot(0, 1, 10 + i));

async function sendAll(federation: Federation, token: string, ids: string[]) {
  return Promise.all(ids.map((id) => federation.query(ROBOT, { id }, { token })));
}

describe('admission control: a bounded number of executions, then a queue, then 503', () => {
  let token: string;
  const started: { proxy: CountingProxy; federation: Federation }[] = [];
  before(async () => {
    const first = await startBehindProxy({
      ROUTER_MAX_CONCURRENT_EXECUTIONS: '2',
      ROUTER_MAX_QUEUED_EXECUTIONS: '100',
    });
    started.push(first);
    token = await tokenFor(first.federation.config, 0, 0);
  });
  after(async () => {
    for (const { proxy, federation } of started) {
      await federation.close();
      await proxy.close();
    }
  });

  it('when 10 operations arrive at once with a limit of 2, then all answer and the subgraph never sees more than 2 at a time', async () => {
    const { proxy, federation } = started[0]!;
    proxy.maxInFlight = 0;
    const responses = await sendAll(federation, token, robots(10));
    for (const response of responses) {
      assert.equal(response.status, 200);
      assert.equal((response.body as { errors?: unknown }).errors, undefined);
    }
    assert.equal(proxy.maxInFlight, 2);
    const queued = await federation.routerMetric('fleetgraph_router_execution_queue_seconds_count');
    assert.ok(queued >= 10, `${queued} executions went through the queue`);
  });

  it('when the limit is high, then the same 10 reach the subgraph together (the proxy does see concurrency)', async () => {
    const control = await startBehindProxy({ ROUTER_MAX_CONCURRENT_EXECUTIONS: '50' });
    started.push(control);
    await sendAll(control.federation, token, robots(10));
    assert.ok(control.proxy.maxInFlight > 2, `${control.proxy.maxInFlight} in flight`);
  });

  it('when a client hangs up while its operation waits in the queue, then the operation is never executed', async () => {
    const single = await startBehindProxy({
      ROUTER_MAX_CONCURRENT_EXECUTIONS: '1',
      ROUTER_MAX_QUEUED_EXECUTIONS: '10',
    });
    started.push(single);
    const [first, abandoned] = robots(2);
    const running = single.federation.query(ROBOT, { id: first }, { token });
    await new Promise((resolve) => setTimeout(resolve, 30)); // the first holds the only slot
    const gone = new AbortController();
    const waiting = fetch(single.federation.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ROBOT, variables: { id: abandoned } }),
      signal: gone.signal,
    }).catch((error: Error) => error.name);
    await new Promise((resolve) => setTimeout(resolve, 30));
    gone.abort();
    assert.equal(await waiting, 'AbortError');
    assert.equal((await running).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the queue's turn has come
    assert.equal(single.proxy.forwarded, 1, 'only the first operation reached the subgraph');
    assert.equal((await single.federation.query(ROBOT, { id: abandoned }, { token })).status, 200);
    assert.equal(single.proxy.forwarded, 2);
  });

  it('when the queue is full, then the rest get 503 SERVICE_OVERLOADED with Retry-After, and the admitted ones answer', async () => {
    const tight = await startBehindProxy({
      ROUTER_MAX_CONCURRENT_EXECUTIONS: '1',
      ROUTER_MAX_QUEUED_EXECUTIONS: '1',
    });
    started.push(tight);
    const responses = await sendAll(tight.federation, token, robots(10));
    const shed = responses.filter((r) => r.status === 503);
    const answered = responses.filter((r) => r.status === 200);
    assert.equal(shed.length + answered.length, 10, 'every answer is a 200 or a 503');
    assert.ok(answered.length >= 2, `${answered.length} answered`);
    assert.ok(shed.length >= 1, `${shed.length} shed`);
    for (const response of shed) {
      assert.equal(response.headers.get('retry-after'), '1');
      const { errors } = response.body as {
        errors: { message: string; extensions: { code: string } }[];
      };
      assert.equal(errors[0]!.extensions.code, 'SERVICE_OVERLOADED');
      assert.match(errors[0]!.message, /limit of 1 executing and 1 queued/);
    }
    assert.equal(
      await tight.federation.routerMetric('fleetgraph_router_executions_shed_total'),
      shed.length,
    );
  });
});
