/**
 * Ceiling: a bare node:http server that answers each scenario with the exact response bytes our
 * router produced for it — no parsing, planning, authentication or subgraph calls. No Node router
 * can be faster on this machine, so it shows how much of the budget the load generator, the
 * kernel and HTTP itself take.
 *
 * The harness stores a response per scenario with `PUT /__bench/response/<key>` (a JSON body
 * `{ status, contentType, body }`); requests name theirs in the x-bench-response header. The
 * request body is read to its end (any server must receive it) but not parsed.
 *
 * Environment: BENCH_PORT (listen port, 127.0.0.1).
 */
import { createServer, type IncomingMessage } from 'node:http';

interface StoredResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

const port = Number(process.env.BENCH_PORT ?? 5006);
const responses = new Map<string, StoredResponse>();
const STORE_PREFIX = '/__bench/response/';

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  if (req.method === 'PUT' && url.startsWith(STORE_PREFIX)) {
    void readAll(req).then((text) => {
      const stored = JSON.parse(text) as { status: number; contentType: string; body: string };
      responses.set(decodeURIComponent(url.slice(STORE_PREFIX.length)), {
        status: stored.status,
        contentType: stored.contentType,
        body: Buffer.from(stored.body, 'utf8'),
      });
      res.writeHead(204).end();
    });
    return;
  }
  const key = req.headers['x-bench-response'];
  const stored = typeof key === 'string' ? responses.get(key) : undefined;
  req.resume();
  req.once('end', () => {
    if (!stored) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"message":"no stored response for this x-bench-response"}]}');
      return;
    }
    res.writeHead(stored.status, {
      'content-type': stored.contentType,
      'content-length': stored.body.length,
    });
    res.end(stored.body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`bare http listening on :${port}`));

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
