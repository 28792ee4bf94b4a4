/**
 * The small node:http pieces the router and the subgraph servers share (neither uses a web
 * framework: each serves four routes and hands GraphQL to Apollo Server directly).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HeaderMap } from '@apollo/server';

/** Largest request body accepted: a reportTelemetry call of 10,000 samples is ~1.5 MB of JSON. */
export const MAX_BODY_BYTES = 4_000_000;

/**
 * The request's body as text, or null when it exceeds {@link MAX_BODY_BYTES} (reading then
 * stops mid-body, and the caller must close the connection after answering). Rejects when the
 * client hangs up mid-body.
 */
export function readBody(req: IncomingMessage): Promise<string | null> {
  // A declared Content-Length within the limit cannot be exceeded (the HTTP parser holds the
  // body to it), so such a body is read with plain listeners: the async iterator's promises
  // and extra ticks were 3.3% of the router's cache-hit path (bench/results/profile-top.md),
  // where every body is one small chunk. Bodies too large, or chunked, take the bounded path.
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) <= MAX_BODY_BYTES) return readDeclaredBody(req);
  return readBoundedBody(req);
}

function readDeclaredBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onEnd = () => {
      detach();
      resolve(
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      );
    };
    const onError = (error: Error) => {
      detach();
      reject(error);
    };
    // Closed before its end (a client hanging up mid-body): the same error as for-await gives.
    const onClose = () => {
      detach();
      reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    };
    const detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function readBoundedBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads a request's headers as HeaderMap does (lower-case names, repeated values joined),
 * without copying them: the router's cache-hit path needs two of them, and building a
 * HeaderMap of all of them was 4% of its busy time (bench/results/profile-top.md).
 */
export function headerReaderOf(req: IncomingMessage): { get(name: string): string | undefined } {
  return {
    get(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Node's request headers as the HeaderMap Apollo Server takes (repeated values joined). */
export function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

/** A client that hung up mid-request: not a server error, nothing to answer. */
export function isClientHangUp(error: unknown, req: IncomingMessage): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECONNRESET' || req.destroyed;
}

/**
 * Graceful shutdown of a node:http server: returns `drain(timeoutMs)`, which stops accepting
 * connections, lets every request already received finish, and resolves once every connection
 * is closed (those still open after `timeoutMs` are destroyed).
 *
 * @remarks
 * `server.close()` alone is no drain: it closes the idle keep-alive connections but not the
 * busy ones, and Node keeps serving new requests that arrive on those — a caller's connection
 * pool (the router's to a subgraph, a load balancer's) keeps reusing them, so a loaded server
 * never finishes closing, and a deadline then cuts requests off mid-way. So while draining,
 * every response carries `Connection: close`: each connection ends after the response in
 * flight on it, and callers open new connections, which are refused.
 */
export function gracefulCloser(server: Server): (timeoutMs: number) => Promise<void> {
  const active = new Set<ServerResponse>();
  let draining = false;
  // Prepended so that it runs before the request handler can send headers.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close');
    active.add(res);
    res.once('close', () => active.delete(res));
  });
  return async (timeoutMs) => {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
    server.closeIdleConnections();
    const deadline = Date.now() + timeoutMs;
    while (active.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Now only idle connections (or, past the deadline, stuck requests) are left.
    server.closeAllConnections();
    await closed;
  };
}
