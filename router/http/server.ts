/**
 * The router's HTTP entry: a node:http server and its routing table. GraphQL requests go
 * down the pipeline (../pipeline/handleGraphQL.ts); the rest are operations endpoints
 * (../ops/) and, outside production, the IDE. /metrics and operator cache purges are not here
 * but on the operations listener (opsServer.ts), which is never public.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../../platform/contract/errors.js';
import { isClientHangUp, sendJson } from '../../platform/http.js';
import type { Logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup.js';
import { serveIde } from '../ide.js';
import type { GraphQLHandler } from '../pipeline/handleGraphQL.js';
import { sendErrors } from './responses.js';

export interface Routes {
  /** ROUTER_GRAPHQL_PATH, matched exactly. */
  readonly graphqlPath: string;
  /** The IDE is served only outside production. */
  readonly isProduction: boolean;
  readonly graphql: GraphQLHandler;
  readonly readiness: (res: ServerResponse) => Promise<void>;
  /** Organization admins, one entity of their own (../ops/cacheInvalidation.ts). */
  readonly invalidateCache: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Subscriptions over SSE at `<graphqlPath>/stream` (../subscriptions/sse.ts). */
  readonly subscriptionStream: (
    req: IncomingMessage,
    res: ServerResponse,
    search: string,
  ) => Promise<void>;
  /** Subscriptions over WebSocket at `<graphqlPath>/ws` (../subscriptions/ws.ts). */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

export function createHttpServer(routes: Routes, logger: Logger): Server {
  const route = routeOf(routes);
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // A client that hangs up mid-request is not a server error.
      if (isClientHangUp(error, req)) {
        logger.debug({ err: error }, 'client closed the connection');
        res.destroy();
        return;
      }
      logger.error({ err: error }, 'unhandled error in router request handler');
      if (!res.headersSent)
        sendErrors(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!routes.upgrade(req, socket, head)) socket.destroy();
  });
  return server;
}

function routeOf(routes: Routes): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { graphqlPath, isProduction } = routes;
  return async function route(req, res) {
    // The GraphQL path as sent is matched without a URL object (building one was 2.5% of the
    // cache-hit path's busy time); anything else goes through URL's normalisation below.
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    if ((queryAt < 0 ? target : target.slice(0, queryAt)) === graphqlPath)
      return routes.graphql(req, res, queryAt < 0 ? '' : target.slice(queryAt));
    const url = new URL(target, 'http://router');
    if (url.pathname === graphqlPath) return routes.graphql(req, res, url.search);
    if (url.pathname === `${graphqlPath}/stream`)
      return routes.subscriptionStream(req, res, url.search);
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') return routes.readiness(res);
    if (!isProduction && (url.pathname === '/ide' || url.pathname.startsWith('/ide/'))) {
      return serveIde(url.pathname, graphqlPath, res);
    }
    if (url.pathname === '/cache/invalidate' && req.method === 'POST')
      return routes.invalidateCache(req, res);
    return sendJson(res, 404, { error: 'not found' });
  };
}

/** Listens; resolves the GraphQL endpoint's URL. */
export function listen(
  server: Server,
  port: number,
  host: string,
  graphqlPath: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new StartupError(`router: port ${port} on ${host} is already in use (ROUTER_PORT)`)
          : error,
      ),
    );
    server.listen(port, host, () =>
      resolve(`http://${host}:${(server.address() as AddressInfo).port}${graphqlPath}`),
    );
  });
}
