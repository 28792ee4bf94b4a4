/**
 * router/subscriptions/sseDelivery.ts over real HTTP connections on loopback: an event shared by
 * a group is serialised once for all its subscribers, a burst reaches a subscriber in one write,
 * and a connection that is not read stops being written to (the events wait in the subscriber's
 * bounded queue until it is full).
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SseDirectStream, SseFlusher, sseFrameOf } from '../../router/subscriptions/sseDelivery.js';
import { Subscriber, type EventResult } from '../../router/subscriptions/subscriber.js';

interface Connection {
  readonly res: ServerResponse;
  writes: number;
}

describe('SSE delivery (distinct connections)', () => {
  let server: Server;
  let port: number;
  const connections: Connection[] = [];
  let waiting: ((connection: Connection) => void) | undefined;

  before(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      const connection: Connection = { res, writes: 0 };
      const write = res.write.bind(res) as (chunk: string) => boolean;
      res.write = ((chunk: string) => {
        connection.writes++;
        return write(chunk);
      }) as typeof res.write;
      connections.push(connection);
      waiting?.(connection);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const { res } of connections) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Opens a stream; resolves with the server's side and a reader of what the client received. */
  async function open(options: { read?: boolean } = {}) {
    const connected = new Promise<Connection>((resolve) => (waiting = resolve));
    let received = '';
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => {
      res.setEncoding('utf8');
      if (options.read === false) res.pause();
      else res.on('data', (chunk: string) => (received += chunk));
    });
    req.end();
    const connection = await connected;
    return { connection, received: () => received, close: () => req.destroy() };
  }

  function subscriber(bufferEvents = 100): { subscriber: Subscriber; delivered: () => number } {
    let delivered = 0;
    const created = new Subscriber(
      { bufferEvents, coalesce: false, onDelivered: () => delivered++ },
      '0-0',
    );
    return { subscriber: created, delivered: () => delivered };
  }

  function event(id: number, payload: Record<string, unknown>): EventResult {
    return { eventId: `${id}-0`, entity: `Robot:${id}`, result: { data: payload } };
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!condition()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('serialises an event once for every subscriber it goes to, with its stream id', async () => {
    const flusher = new SseFlusher(0);
    let serialised = 0;
    const shared = event(7, { toJSON: () => (serialised++, { robotChanged: { id: 'r7' } }) });
    const clients = [await open(), await open(), await open()];
    for (const client of clients) {
      const { subscriber: one } = subscriber();
      new SseDirectStream(one, flusher).open(client.connection.res);
      assert.equal(one.push(shared), true);
    }
    const frame = 'id: 7-0\nevent: next\ndata: {"data":{"robotChanged":{"id":"r7"}}}\n\n';
    for (const client of clients) await until(() => client.received() === frame, 'the frame');
    assert.equal(serialised, 1, 'JSON.stringify ran once for three subscribers');
    assert.equal(sseFrameOf(shared), frame);
    for (const client of clients) client.close();
  });

  it('writes the events that waited together in one write, in order', async () => {
    const flusher = new SseFlusher(30);
    const client = await open();
    const { subscriber: one, delivered } = subscriber();
    new SseDirectStream(one, flusher).open(client.connection.res);
    const writesBefore = client.connection.writes;
    for (let i = 1; i <= 5; i++) one.push(event(i, { n: i }));
    await until(() => delivered() === 5, 'five deliveries');
    await until(() => client.received().split('\n\n').length === 6, 'five frames');
    assert.equal(client.connection.writes - writesBefore, 1, 'one write for the burst');
    const ids = [...client.received().matchAll(/^id: (\d+)-0$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ids, [1, 2, 3, 4, 5]);
    client.close();
  });

  it('writes an event after a quiet spell at once, and events closer than flushMs together at the next flush', async () => {
    const flusher = new SseFlusher(200);
    const client = await open();
    const { subscriber: one, delivered } = subscriber();
    new SseDirectStream(one, flusher).open(client.connection.res);
    const writesBefore = client.connection.writes;
    const started = performance.now();
    one.push(event(1, { n: 1 }));
    await until(() => delivered() === 1, 'the first event');
    assert.ok(performance.now() - started < 150, 'the first event did not wait for a flush');
    one.push(event(2, { n: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    one.push(event(3, { n: 3 }));
    await until(() => delivered() === 3, 'the other two');
    assert.ok(performance.now() - started >= 190, 'they waited for the next flush');
    assert.equal(client.connection.writes - writesBefore, 2, 'two writes for three events');
    client.close();
  });

  it('yields to the event loop between slices of connections, so I/O is not held behind a flush of 1,000', async () => {
    // Stand-ins for the connections: what is asserted is the order in which the flusher writes
    // and the loop runs other callbacks, which a socket's speed would only blur.
    const flusher = new SseFlusher(0);
    const order: string[] = [];
    for (let i = 0; i < 250; i++) {
      const { subscriber: one } = subscriber();
      const res = { destroyed: false, writableNeedDrain: false, write: () => order.push('write') };
      new SseDirectStream(one, flusher).open(res as unknown as ServerResponse);
      one.push(event(i, { n: i }));
    }
    // Queued after the flush (setImmediate): runs once the flush lets the loop go round.
    setImmediate(() => order.push('other callback'));
    await until(() => order.filter((entry) => entry === 'write').length === 250, 'every write');
    assert.equal(order.indexOf('other callback'), 100, 'the loop ran it after the first slice');
  });

  it('stops writing to a connection that is not read; its events wait until the buffer is full', async () => {
    const flusher = new SseFlusher(0);
    const client = await open({ read: false });
    const bufferEvents = 50;
    const { subscriber: one } = subscriber(bufferEvents);
    new SseDirectStream(one, flusher).open(client.connection.res);
    const big = 'x'.repeat(64 * 1024);
    let accepted = 0;
    // Each event is written at the end of the loop's turn; once the socket's buffers are full,
    // events stay queued until push refuses one (the caller then ends this subscriber).
    for (let i = 1; i <= 10_000; i++) {
      if (!one.push(event(i, { big }))) break;
      accepted++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(accepted < 10_000, 'push refused an event once the buffer was full');
    assert.equal(one.queued, bufferEvents, 'the queue held SUBSCRIPTION_BUFFER_EVENTS events');
    assert.ok(client.connection.res.writableNeedDrain, 'the connection was full');
    client.close();
  });
});
