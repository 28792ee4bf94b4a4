/**
 * GraphQL over Server-Sent Events (graphql-sse's protocol and handler) at
 * `<ROUTER_GRAPHQL_PATH>/stream`: "distinct connections" mode (one request per subscription:
 * `POST` with `accept: text/event-stream` and a JSON body, or `GET ?query=…`) and "single
 * connection" mode (`PUT` reserves a stream token, `GET` with the token opens the stream,
 * `POST`s with it add operations, `DELETE` ends one).
 *
 * @remarks
 * Before graphql-sse sees a request, it goes through the GraphQL path's own stages
 * (pipeline/): CSRF prevention for GET and POST (http/csrf.ts, as Apollo Server applies it on
 * /graphql), authentication (`authenticate`: 401/429 as for a query) and the rate limit (one
 * request). Credentials are headers only (Authorization, X-Api-Key): a browser's EventSource
 * cannot send them, so browsers use the graphql-sse client (fetch) or the WebSocket transport.
 *
 * The node adapter is ours, not graphql-sse's `use/http`, for three reasons: each event is sent
 * with its stream id (`id: <event id>`), so a reconnecting SSE client's `Last-Event-ID` resumes
 * it; back-pressure (`onNext` waits while the connection's buffer is full, so unsent events wait
 * in the subscriber's bounded queue, subscriber.ts, instead of graphql-sse's unbounded one);
 * and keep-alive comments every SUBSCRIPTION_KEEPALIVE_SECONDS. A stream token is bound to the
 * caller that reserved it: another caller can neither read its stream nor add to it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { createHandler, TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type Response } from 'graphql-sse';
import { ErrorCode } from '../../platform/contract/errors.js';
import { REQUEST_ID_HEADER } from '../../platform/contract/identity.js';
import type { Logger } from '../../platform/logger.js';
import { passesCsrfPrevention } from '../http/csrf.js';
import { sendErrors } from '../http/responses.js';
import { readBody } from '../pipeline/readBody.js';
import { ANSWERED, RequestState, type StageOutcome } from '../pipeline/requestState.js';
import type { Subscriptions } from './manager.js';
import { SseDirectStream, SseFlusher } from './sseDelivery.js';
import { SseStreams } from './sseStreams.js';

interface SseContext {
  readonly state: RequestState;
  /** Distinct connections mode: the subscription's events, written by sseDelivery.ts. */
  direct?: SseDirectStream;
}

const CSRF_MESSAGE =
  "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header (with a type that is not one of application/x-www-form-urlencoded, multipart/form-data, text/plain) or provide a non-empty value for one of the following headers: x-apollo-operation-name, apollo-require-preflight";

/** How long a stream ended by the router may take to flush before its connection is cut. */
const END_GRACE_MS = 10_000;

/** The credential headers kept for a subscription's periodic re-check. */
export function credentialsOf(headers: {
  get(name: string): string | undefined;
}): Record<string, string> {
  const credentials: Record<string, string> = {};
  for (const name of ['authorization', 'x-api-key']) {
    const value = headers.get(name);
    if (value) credentials[name] = value;
  }
  return credentials;
}

export function sseHandler(deps: {
  readonly subscriptions: Subscriptions;
  readonly authenticate: (state: RequestState) => Promise<StageOutcome>;
  readonly rateLimit: (state: RequestState) => StageOutcome;
  readonly logger: Logger;
}): (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void> {
  const { subscriptions, logger } = deps;
  const streams = new SseStreams(subscriptions.settings.maxPerIdentity);
  const keepAliveMs = subscriptions.settings.keepAliveMs;

  const flusher = new SseFlusher(subscriptions.settings.flushMs);
  const handler = graphqlSseHandler(subscriptions, streams, flusher);

  return async function handleSse(req, res, search) {
    const state = new RequestState(req, res, search);
    res.setHeader(REQUEST_ID_HEADER, state.id);
    const method = state.method;
    // A stream token header forces a browser's preflight as the CSRF rule's headers do.
    const preflighted = state.headers.get(TOKEN_HEADER_KEY) !== undefined;
    if (
      (method === 'GET' || method === 'POST') &&
      !preflighted &&
      !passesCsrfPrevention(state.headers)
    ) {
      sendErrors(res, 400, CSRF_MESSAGE, 'BAD_REQUEST');
      return;
    }
    if ((await deps.authenticate(state)) === ANSWERED) return;
    if (deps.rateLimit(state) === ANSWERED) return;
    if ((await readBody(state)) === ANSWERED) return;
    const context: SseContext = { state };
    const [body, init] = await handler({
      method,
      url: req.url ?? '/',
      headers: { get: (name) => state.headers.get(name) },
      body: state.raw ?? null,
      raw: req,
      context,
    });
    res.writeHead(init.status, init.statusText, init.headers);
    if (!body || typeof body === 'string') {
      res.end(body ?? undefined);
      return;
    }
    context.direct?.open(res);
    // An open event stream: remembered under its token (single connection mode) for onNext.
    const token = state.headers.get(TOKEN_HEADER_KEY) ?? tokenInUrl(req.url ?? '/');
    if (token !== undefined) streams.opened(token, res);
    const keepAlive = setInterval(() => res.write(':\n\n'), keepAliveMs);
    const onClose = () => void body.return();
    res.once('close', onClose);
    try {
      for await (const chunk of body) {
        if (res.destroyed) break;
        res.write(withEventId(chunk));
      }
    } catch (error) {
      logger.warn({ err: error }, 'event stream failed');
    } finally {
      clearInterval(keepAlive);
      res.off('close', onClose);
      if (token) streams.ended(token);
      if (!res.destroyed) {
        res.end();
        // A client that stopped reading cannot take the rest: cut it loose after a while.
        const cut = setTimeout(() => res.destroy(), END_GRACE_MS);
        cut.unref();
        res.once('close', () => clearTimeout(cut));
      }
    }
  };
}

/** graphql-sse's handler, its hooks bound to the router's subscriptions. */
function graphqlSseHandler(subscriptions: Subscriptions, streams: SseStreams, flusher: SseFlusher) {
  return createHandler<IncomingMessage, SseContext>({
    authenticate(req) {
      const { state } = req.context;
      const caller = state.auth.rateSubject;
      // A reservation first: graphql-sse's client sends its PUT without a token.
      if (req.method === 'PUT') {
        const reserved = streams.reserve(caller);
        if (reserved) return reserved;
        const limit = subscriptions.settings.maxPerIdentity;
        return refusalResponse([
          new GraphQLError(
            `At most ${limit} stream tokens may be reserved and not yet opened per caller (SUBSCRIPTIONS_MAX_PER_IDENTITY); open one first`,
            { extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS } },
          ),
        ]);
      }
      const token = req.headers.get(TOKEN_HEADER_KEY) ?? tokenInUrl(req.url);
      if (!token) return randomUUID(); // unknown to graphql-sse: distinct connections mode
      if (!streams.mayUse(token, caller))
        return [
          JSON.stringify({ errors: [{ message: 'Stream not found' }] }),
          { status: 404, statusText: 'Not Found', headers: jsonHeaders },
        ];
      return token;
    },
    async onSubscribe(req, params) {
      const { state } = req.context;
      const lastEventId = state.headers.get('last-event-id');
      const result = await subscriptions.subscribe({
        auth: state.auth,
        credentials: credentialsOf(state.headers),
        clientAddress: state.req.socket.remoteAddress ?? 'unknown',
        request: params,
        lastEventId: lastEventId || undefined,
        transport: 'sse',
        rateCounted: true,
      });
      if (Array.isArray(result)) return refusalResponse(result);
      const token = req.headers.get(TOKEN_HEADER_KEY) ?? tokenInUrl(req.url);
      if (token === undefined) req.context.direct = new SseDirectStream(result, flusher);
      return result;
    },
    async onNext(_ctx, req) {
      // Single connection mode (distinct connections are written by sseDelivery.ts).
      // Back-pressure: the next event stays in the subscriber's bounded queue while the
      // connection's buffer is full.
      const token = req.headers.get(TOKEN_HEADER_KEY) ?? tokenInUrl(req.url);
      const res = (token && streams.connectionOf(token)) || req.context.state.res;
      if (res.writableNeedDrain && !res.destroyed)
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
    },
  });
}

const jsonHeaders = { 'content-type': 'application/graphql-response+json; charset=utf-8' };

/** A refused subscription: an HTTP error whose status says what kind of refusal it is. */
function refusalResponse(errors: readonly GraphQLError[]): Response {
  const code = String(errors[0]?.extensions['code'] ?? '');
  const status = STATUS_BY_CODE[code] ?? 400;
  return [
    JSON.stringify({
      errors: errors.map((error) => ({
        message: error.message,
        extensions: { code: error.extensions['code'] },
      })),
    }),
    { status, statusText: '', headers: jsonHeaders },
  ];
}

const STATUS_BY_CODE: Record<string, number> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.TOO_MANY_SUBSCRIPTIONS]: 429,
  [ErrorCode.SERVICE_OVERLOADED]: 503,
  [ErrorCode.SERVER_RESTARTING]: 503,
  [ErrorCode.INTERNAL_SERVER_ERROR]: 500,
};

function tokenInUrl(url: string): string | undefined {
  const at = url.indexOf('?');
  if (at < 0) return undefined;
  return new URLSearchParams(url.slice(at)).get(TOKEN_QUERY_KEY) ?? undefined;
}

/**
 * Adds the SSE `id:` field to an event that carries a fleet event's id (its result's
 * `extensions.eventId`, which the router puts last in the result: the last occurrence of the
 * marker is the result's own, whatever strings the data holds — those are JSON-escaped).
 */
const MARKER = '"extensions":{"eventId":"';
export function withEventId(chunk: string): string {
  if (!chunk.startsWith('event: next')) return chunk;
  const at = chunk.lastIndexOf(MARKER);
  if (at < 0) return chunk;
  const start = at + MARKER.length;
  const id = chunk.slice(start, chunk.indexOf('"', start));
  return /^\d+-\d+$/.test(id) ? `id: ${id}\n${chunk}` : chunk;
}
