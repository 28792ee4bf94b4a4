/**
 * A loopback TCP proxy in front of a real server that can make it answer slowly: what the
 * client sends goes through at once; what the server answers is held back. Two ways:
 * - `delay(ms)`: every chunk of the answer is released `ms` after it arrived (a server that is
 *   slow to answer at all: the response headers arrive late);
 * - `trickle(bytes, everyMs)`: the status line and headers go through at once, then the body
 *   is released `bytes` at a time every `everyMs` (a server that answers at once but streams
 *   its body slowly, never pausing long enough for an idle timeout).
 * `pass()` restores a transparent proxy. Order is kept per connection. The proxy listens before
 * it knows its upstream: `route(url)` sets the upstream and returns the URL to use instead (same
 * path, the proxy's port), e.g. for SUBGRAPH_URLS.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  /** Sends connections to `upstreamUrl` from now on; returns that URL on the proxy's port. */
  route(upstreamUrl: string): string;
  pass(): void;
  delay(ms: number): void;
  trickle(bytes: number, everyMs: number): void;
  /** Answers (chunks from the upstream) that were held back since the proxy started. */
  readonly heldBack: number;
  close(): Promise<void>;
}

type Mode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'trickle'; bytes: number; everyMs: number };

const HEADERS_END = Buffer.from('\r\n\r\n');

export async function startDelayProxy(): Promise<DelayProxy> {
  let upstream: URL | undefined;
  let mode: Mode = { kind: 'pass' };
  let heldBack = 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    if (!upstream) return client.destroy();
    const target = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(target);
    // Pieces wait in one queue per connection, released in order by one timer: later pieces
    // never overtake earlier ones (a timer per piece could fire out of order when two come due
    // in the same millisecond, which garbled a Redis connection's replies).
    let releaseAt = 0;
    let ended = false;
    const queue: { piece: Buffer; at: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const release = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.at <= now) {
        const { piece } = queue.shift()!;
        if (!client.destroyed) client.write(piece);
      }
      if (queue.length > 0) timer = setTimeout(release, queue[0]!.at - now);
      else if (ended) client.end();
    };
    const releaseAtOrAfter = (piece: Buffer, time: number) => {
      releaseAt = Math.max(releaseAt, time);
      queue.push({ piece, at: releaseAt });
      if (timer === undefined) release();
    };
    target.on('data', (chunk: Buffer) => {
      const current = mode;
      const now = Date.now();
      if (current.kind === 'pass') return releaseAtOrAfter(chunk, now);
      heldBack++;
      if (current.kind === 'delay') return releaseAtOrAfter(chunk, now + current.ms);
      // trickle: a chunk that opens a response passes its head at once, the rest drips.
      let body = chunk;
      if (chunk.subarray(0, 5).toString() === 'HTTP/') {
        const end = chunk.indexOf(HEADERS_END);
        if (end >= 0) {
          releaseAtOrAfter(chunk.subarray(0, end + HEADERS_END.length), now);
          body = chunk.subarray(end + HEADERS_END.length);
        }
      }
      for (let i = 0; i < body.length; i += current.bytes)
        releaseAtOrAfter(
          body.subarray(i, i + current.bytes),
          Math.max(releaseAt, now) + current.everyMs,
        );
    });
    target.on('end', () => {
      ended = true;
      if (queue.length === 0) client.end();
    });
    client.pipe(target);
    const teardown = () => {
      clearTimeout(timer);
      queue.length = 0;
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('error', teardown).on('close', teardown);
    target.on('error', teardown).on('close', () => {
      // The upstream hung up (or went away): deliver what is held back, then close.
      if (queue.length === 0) teardown();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    route(upstreamUrl) {
      upstream = new URL(upstreamUrl);
      const proxied = new URL(upstreamUrl);
      proxied.host = `127.0.0.1:${port}`;
      return proxied.toString();
    },
    pass: () => (mode = { kind: 'pass' }),
    delay: (ms) => (mode = { kind: 'delay', ms }),
    trickle: (bytes, everyMs) => (mode = { kind: 'trickle', bytes, everyMs }),
    get heldBack() {
      return heldBack;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
