/**
 * `node --import tsx bench/routerbound/server.ts`: serves the four in-memory subgraphs of the
 * router-bound scenario (subgraphs.ts) from one process, each on its own port
 * (ROUTERBOUND_PORTS, default 5021,5022,5023,5024 for catalog, inventory, pricing, reviews).
 *
 * @remarks
 * These stand for third-party subgraphs: they accept requests with or without identity headers
 * and check nothing. To keep the measurement on the routers, a response is memoised by the exact
 * request body (a gateway sends the same fetch bytes for the same operation and data), so after
 * the first request a fetch costs a map lookup; ROUTERBOUND_MEMO=false executes every fetch.
 * Requests are counted per subgraph and exposed in Prometheus format on GET /metrics (any of the
 * ports) as routerbound_requests_total{subgraph}: the harness counts subgraph fetches per
 * operation with it, for routers that have no metrics of their own.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { ROUTER_BOUND_SUBGRAPHS, type RouterBoundSubgraph } from './subgraphs.js';

const ports = (process.env.ROUTERBOUND_PORTS ?? '5021,5022,5023,5024').split(',').map(Number);
const memoise = process.env.ROUTERBOUND_MEMO !== 'false';
const MEMO_MAX_ENTRIES = 5000;

const requestCounts = new Map<string, number>();
let listening = 0;

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function metricsText(): string {
  const lines = [
    '# HELP routerbound_requests_total GraphQL requests received, by subgraph',
    '# TYPE routerbound_requests_total counter',
  ];
  for (const [name, count] of requestCounts)
    lines.push(`routerbound_requests_total{subgraph="${name}"} ${count}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The shop's catalog is public and changes rarely: every answer says so, as a subgraph with
 * `@cacheControl(maxAge: 60)` hints would. Routers that honour subgraph cache policy (ours, in
 * the "cache on" rows) may then share responses across callers; routers that do not, ignore it.
 */
const CACHE_HINT = { 'cache-control': 'max-age=60, public' } as const;

async function serve(definition: RouterBoundSubgraph, port: number): Promise<void> {
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([
      { typeDefs: parse(definition.sdl), resolvers: definition.resolvers },
    ]),
    // No usage reporting here, so no per-field traces either.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const memo = new Map<string, { status: number; contentType: string; body: string }>();
  requestCounts.set(definition.name, 0);

  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') {
        const ready = listening === ROUTER_BOUND_SUBGRAPHS.length;
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ready }));
        return;
      }
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(metricsText());
        return;
      }
      const raw = await readAll(req);
      requestCounts.set(definition.name, (requestCounts.get(definition.name) ?? 0) + 1);
      const remembered = memoise ? memo.get(raw) : undefined;
      if (remembered) {
        res.writeHead(remembered.status, { 'content-type': remembered.contentType, ...CACHE_HINT });
        res.end(remembered.body);
        return;
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method ?? 'POST',
          headers,
          search: new URL(req.url ?? '/', 'http://subgraph').search,
          body: raw ? JSON.parse(raw) : undefined,
        },
        context: async () => ({}),
      });
      let body = '';
      if (response.body.kind === 'complete') body = response.body.string;
      else for await (const chunk of response.body.asyncIterator) body += chunk;
      const status = response.status ?? 200;
      const contentType = response.headers.get('content-type') ?? 'application/json';
      if (memoise && status === 200 && !body.includes('"errors":[')) {
        if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
        memo.set(raw, { status, contentType, body });
      }
      res.writeHead(status, { 'content-type': contentType, ...CACHE_HINT });
      res.end(body);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  listening++;
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
  });
}

await Promise.all(
  ROUTER_BOUND_SUBGRAPHS.map((definition, i) => serve(definition, ports[i] ?? 5021 + i)),
);
console.log(
  `router-bound subgraphs listening: ${ROUTER_BOUND_SUBGRAPHS.map((d, i) => `${d.name}=:${ports[i]}`).join(' ')} (memo ${memoise ? 'on' : 'off'})`,
);
process.once('SIGTERM', () => setTimeout(() => process.exit(0), 100));
process.once('SIGINT', () => process.exit(0));
