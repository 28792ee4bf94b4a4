/**
 * GraphQL over WebSocket (graphql-ws's `graphql-transport-ws` protocol, its `useServer` on a
 * `ws` server) at `<ROUTER_GRAPHQL_PATH>/ws`, upgraded on the router's own port.
 *
 * @remarks
 * - **Authentication** at `connection_init`: the payload's `authorization` (`Bearer <jwt>` or
 *   `ApiKey <key>`) or `x-api-key` — a browser cannot set headers on a WebSocket — else the
 *   upgrade request's own headers (non-browser clients); the same Authenticator, failure limit
 *   and anonymous rule as a query. Refused: closed with 4401 and the reason (4429 when the
 *   address is over its failed-authentication limit). A WebSocket carries no cookie we read,
 *   so a cross-site page cannot ride on a user's credentials (the CSRF concern).
 * - **Subscriptions only**: queries and mutations go to ROUTER_GRAPHQL_PATH; each `subscribe`
 *   message is one request for the rate limit.
 * - **Shutdown**: {@link WebSocketTransport.close} closes every socket with 1012 ("service
 *   restart"), which graphql-ws clients answer by reconnecting — to another instance.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { buildSchema, GraphQLError, parse } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { headerReaderOf } from '../../platform/http.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { Authenticated } from '../pipeline/requestState.js';
import type { Subscriptions } from './manager.js';
import { credentialsOf } from './sse.js';

const SUBSCRIPTION_DOCUMENT = parse('subscription { event }');
const SCHEMA_PLACEHOLDER = buildSchema('type Query { event: ID } type Subscription { event: ID }');

type Extra = {
  auth?: Authenticated;
  credentials?: Record<string, string>;
};

export interface WebSocketTransport {
  /** For the HTTP server's `upgrade` event; false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

export function webSocketTransport(deps: {
  readonly path: string;
  readonly subscriptions: Subscriptions;
  readonly authenticator: Authenticator;
  readonly isProduction: boolean;
}): WebSocketTransport {
  const { subscriptions, authenticator } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1_000_000 });
  useServer<Record<string, unknown> | undefined, Extra>(
    {
      isProd: deps.isProduction,
      async onConnect(ctx) {
        const payload = ctx.connectionParams ?? {};
        const fromUpgrade = headerReaderOf(ctx.extra.request);
        const given = (name: string) => {
          const value = payload[name] ?? payload[name === 'authorization' ? 'Authorization' : name];
          return typeof value === 'string' ? value : fromUpgrade.get(name);
        };
        const headers = { get: given };
        const address = ctx.extra.request.socket.remoteAddress ?? 'unknown';
        const auth = await authenticator.authenticate(headers, address);
        if (!auth.ok) {
          ctx.extra.socket.close(auth.retryAfterSeconds ? 4429 : 4401, limitReason(auth.message));
          return false;
        }
        ctx.extra.auth = auth;
        ctx.extra.credentials = credentialsOf(headers);
        return true;
      },
      async onSubscribe(ctx, _id, payload) {
        const { auth, credentials } = ctx.extra;
        if (!auth) return [new GraphQLError('Authentication is required')];
        const result = await subscriptions.subscribe({
          auth,
          credentials: credentials ?? {},
          clientAddress: ctx.extra.request.socket.remoteAddress ?? 'unknown',
          request: payload,
          transport: 'ws',
          rateCounted: false,
        });
        if (Array.isArray(result)) return result;
        // graphql-ws then calls `subscribe` (below) with these arguments: the document only
        // tells it the operation is a subscription (ours was vetted by the manager).
        return {
          schema: SCHEMA_PLACEHOLDER,
          document: SUBSCRIPTION_DOCUMENT,
          contextValue: result,
        };
      },
      subscribe: (args) => args.contextValue as AsyncGenerator<never>,
    },
    wss,
    subscriptions.settings.keepAliveMs,
  );

  return {
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path !== deps.path) return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    async close() {
      for (const client of wss.clients as Set<WebSocket>)
        client.close(1012, 'The router is restarting; reconnect');
      // Clients that do not answer the close in time are cut off.
      await new Promise((resolve) => setTimeout(resolve, wss.clients.size ? 200 : 0));
      for (const client of wss.clients as Set<WebSocket>) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A WebSocket close reason is at most 123 bytes. */
function limitReason(message: string): string {
  return Buffer.byteLength(message) <= 123 ? message : `${message.slice(0, 110)}…`;
}
