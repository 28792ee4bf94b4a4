/**
 * The subgraph's node:http request handler (no framework): GET `/healthz`, GET `/metrics`
 * (Prometheus) and POST/GET `/graphql`, which it hands to Apollo Server only once the caller
 * has proved who it is.
 *
 * @remarks
 * Every GraphQL request must carry an identity signed by the router (platform/contract/
 * identity.ts) for this subgraph and this very body; an unsigned, forged or stale one, or one
 * signed for another subgraph or another request, is answered 401 UNAUTHENTICATED before any
 * resolver runs. A body too large or not JSON is refused here as BAD_USER_INPUT. Anything that
 * escapes is logged and answered 500 INTERNAL_SERVER_ERROR, except a client hanging up, which
 * is no server error.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPGraphQLRequest, HTTPGraphQLResponse } from '@apollo/server';
import { ErrorCode } from '../../platform/contract/errors.js';
import {
  hasIdentityHeaders,
  REQUEST_ID_HEADER,
  verifyIdentity,
  type Identity,
} from '../../platform/contract/identity.js';
import { headerMapOf, isClientHangUp, readBody, sendJson } from '../../platform/http.js';
import type { Logger } from '../../platform/logger.js';
import type { SubgraphMetrics } from './metrics.js';

/** Runs one GraphQL request (Apollo Server) for a verified caller. */
export type ExecuteGraphQL = (
  request: HTTPGraphQLRequest,
  identity: Identity,
  requestId: string,
) => Promise<HTTPGraphQLResponse>;

export interface RequestHandlerOptions {
  /** The subgraph's name, reported by /healthz. */
  readonly name: string;
  readonly metrics: SubgraphMetrics;
  readonly logger: Logger;
  /** The secret the router signs identities with. */
  readonly identitySigningSecret: string;
  readonly execute: ExecuteGraphQL;
}

const errorBody = (message: string, code: ErrorCode) => ({
  errors: [{ message, extensions: { code } }],
});

/** The handler to give `http.createServer`. */
export function handleRequests(
  options: RequestHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger } = options;
  return (req, res) => {
    route(options, req, res).catch((error: unknown) => {
      // A client that hangs up mid-request is not a server error.
      if (isClientHangUp(error, req)) {
        res.destroy();
        return;
      }
      logger.error({ err: error }, 'unhandled error in request handler');
      if (!res.headersSent)
        sendJson(res, 500, errorBody('Internal server error', ErrorCode.INTERNAL_SERVER_ERROR));
      else res.end();
    });
  };
}

async function route(
  options: RequestHandlerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { metrics } = options;
  const url = new URL(req.url ?? '/', 'http://subgraph');
  if (url.pathname === '/healthz')
    return sendJson(res, 200, { status: 'ok', subgraph: options.name });
  if (url.pathname === '/metrics') {
    // Unauthenticated: a subgraph's port is internal (the router→subgraph trust boundary;
    // clients reach only the router, whose /metrics is on its operations listener), and its
    // label sets are bounded whatever callers name their operations (./metrics.ts).
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
    return;
  }
  if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found' });

  const headers = headerMapOf(req);
  // Unsigned requests are refused before their body is read; a signed one is verified only
  // with its body, which its signature covers (platform/contract/identity.ts).
  if (!hasIdentityHeaders(headers)) return refuse(options, res, 'missing identity signature');
  let raw = '';
  if (req.method === 'POST') {
    const read = await readBody(req);
    if (read === null) {
      // readBody stopped reading mid-body: the connection cannot carry another request, and
      // kept alive it would wedge the client's next request on it (found by
      // test/e2e/hostile-input.test.ts), so it is closed after this answer.
      res.setHeader('connection', 'close');
      return sendJson(res, 413, errorBody('Request body too large', ErrorCode.BAD_USER_INPUT));
    }
    raw = read;
  }
  const verified = verifyIdentity(headers, options.identitySigningSecret, {
    subgraph: options.name,
    body: raw,
    search: rawSearchOf(req.url ?? ''),
  });
  if (!verified.ok) return refuse(options, res, verified.reason);
  const requestId = headers.get(REQUEST_ID_HEADER) ?? randomUUID();
  let body: unknown;
  if (req.method === 'POST') {
    try {
      body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      return sendJson(
        res,
        400,
        errorBody('Request body is not valid JSON', ErrorCode.BAD_USER_INPUT),
      );
    }
  }
  const response = await options.execute(
    { method: req.method ?? 'GET', headers, search: url.search, body },
    verified.identity,
    requestId,
  );
  await send(res, response);
}

/** The query string as sent ('' or `?…`), not as parsed: what the signer signed. */
function rawSearchOf(target: string): string {
  const at = target.indexOf('?');
  return at < 0 ? '' : target.slice(at);
}

/** 401 UNAUTHENTICATED: no identity, or one not signed for this request to this subgraph. */
function refuse(options: RequestHandlerOptions, res: ServerResponse, reason: string): void {
  options.metrics.resolverErrors.inc({ code: ErrorCode.UNAUTHENTICATED });
  sendJson(res, 401, errorBody(`Request refused: ${reason}`, ErrorCode.UNAUTHENTICATED));
}

/** Writes Apollo's answer: status, headers, and the body whole or as it streams. */
async function send(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
  } else {
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }
}
