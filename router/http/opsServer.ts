/**
 * The router's operations listener (ROUTER_OPS_HOST:ROUTER_OPS_PORT, default 127.0.0.1:4090):
 * GET /metrics, POST /cache/invalidate for operators (../ops/cacheInvalidation.ts), GET
 * /healthz. Separate from the public port so that neither is reachable from the internet:
 * **never expose it publicly** — bind it to loopback or a private network that only operators
 * and the metrics scraper reach.
 *
 * @remarks
 * /metrics asks for nothing beyond reaching this listener (decision): the scraper should not
 * hold a credential that can also purge every tenant's cache, and what the metrics hold is
 * bounded and tenant-free (operation names only of registered operations: ../metrics.ts).
 * Cache purges need the operator token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '../../platform/contract/errors.js';
import { isClientHangUp, sendJson } from '../../platform/http.js';
import type { Logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup.js';
import { sendErrors } from './responses.js';

export interface OpsRoutes {
  readonly metrics: (res: ServerResponse) => Promise<void>;
  readonly invalidateCache: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export function createOpsServer(routes: OpsRoutes, logger: Logger): Server {
  return createServer((req, res) => {
    route(routes, req, res).catch((error: unknown) => {
      if (isClientHangUp(error, req)) {
        res.destroy();
        return;
      }
      logger.error({ err: error }, 'unhandled error in router operations handler');
      if (!res.headersSent)
        sendErrors(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.end();
    });
  });
}

async function route(routes: OpsRoutes, req: IncomingMessage, res: ServerResponse) {
  const { pathname } = new URL(req.url ?? '/', 'http://router-ops');
  if (pathname === '/metrics' && req.method === 'GET') return routes.metrics(res);
  if (pathname === '/cache/invalidate' && req.method === 'POST')
    return routes.invalidateCache(req, res);
  if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
  return sendJson(res, 404, { error: 'not found' });
}

/** Listens; resolves the listener's base URL (`http://host:port`). */
export function listenOps(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new StartupError(
              `router: operations port ${port} on ${host} is already in use (ROUTER_OPS_PORT)`,
            )
          : error,
      ),
    );
    server.listen(port, host, () =>
      resolve(`http://${host}:${(server.address() as AddressInfo).port}`),
    );
  });
}
