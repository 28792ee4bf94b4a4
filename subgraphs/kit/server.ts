/**
 * Builds one subgraph's HTTP server (does not listen: entry files listen, tests import this).
 *
 * @remarks
 * Routes: POST/GET `/graphql` (Apollo Server 5 over node:http, no framework), GET `/metrics`
 * (Prometheus), GET `/healthz`. Every GraphQL request must carry an identity signed by the
 * router (identity.ts); an unsigned, forged or stale one is answered 401 UNAUTHENTICATED before
 * any resolver runs. The per-request context — identity, request id and a fresh set of
 * DataLoaders — is created in one place: the subgraph's `createContext`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { GraphQLError, parse, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Config } from '../../platform/config.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { Db } from './cassandra/db.js';
import { CursorCodec } from './cassandra/pagination.js';
import { codeOfFormattedError, ErrorCode, EXPECTED_CODES } from '../../platform/contract/errors.js';
import { TAGS_EXTENSION, TAGS_REQUEST_HEADER } from '../../platform/contract/entityTags.js';
import { requestTags } from './cassandra/entityTags.js';
import {
  REQUEST_ID_HEADER,
  verifyIdentity,
  type Identity,
} from '../../platform/contract/identity.js';
import type { Logger } from '../../platform/logger.js';
import { setLoaderMode } from './loaders.js';
import { createSubgraphMetrics, type SubgraphMetrics } from './metrics.js';
import {
  gracefulCloser,
  headerMapOf,
  isClientHangUp,
  readBody,
  sendJson,
} from '../../platform/http.js';
import { StartupError } from '../../platform/startup.js';
import { refuseUnexecutableOperations } from '../../platform/unexecutableOperations.js';

/** What every subgraph's context starts from. */
export interface BaseContext {
  readonly identity: Identity;
  readonly requestId: string;
  readonly db: Db;
  readonly cursors: CursorCodec;
  readonly metrics: SubgraphMetrics;
  readonly logger: Logger;
  readonly config: Config;
}

export interface SubgraphDefinition<TContext extends BaseContext> {
  readonly name: string;
  /** Path of the SDL file under schema/subgraphs/ — the single source of the schema. */
  readonly schemaFile: URL;
  readonly resolvers: GraphQLResolverMap<TContext>;
  /** Builds the per-request context: the only place per-request state is created. */
  readonly createContext: (base: BaseContext) => TContext;
  /** Optional: wraps the built schema (e.g. with authorization middleware). */
  readonly transformSchema?: (schema: GraphQLSchema) => GraphQLSchema;
}

export interface SubgraphServer {
  readonly name: string;
  readonly httpServer: Server;
  readonly metrics: SubgraphMetrics;
  readonly schema: GraphQLSchema;
  readonly sdl: string;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export async function createSubgraphServer<TContext extends BaseContext>(
  definition: SubgraphDefinition<TContext>,
  deps: { config: Config; cassandra: CassandraClient; logger: Logger; metrics?: SubgraphMetrics },
): Promise<SubgraphServer> {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? createSubgraphMetrics(definition.name);
  setLoaderMode(config.cassandra.loaderMode);
  const db = new Db(deps.cassandra, metrics, config.cassandra.batchConcurrency);
  const cursors = new CursorCodec(config.identitySigningSecret);
  const sdl = readFileSync(definition.schemaFile, 'utf8');
  let schema = buildSubgraphSchema([
    { typeDefs: parse(sdl), resolvers: definition.resolvers as GraphQLResolverMap<unknown> },
  ]);
  if (definition.transformSchema) schema = definition.transformSchema(schema);

  // The router asks for the entity tags of each fetch (x-fleetgraph-tags: 1) to key its
  // response cache and to purge it after mutations; see cache/entityTags.ts.
  const reportEntityTags: ApolloServerPlugin<TContext> = {
    async requestDidStart({ request }) {
      // '1': every tag (the router's response cache stores and purges by them); 'writes': only
      // a mutation's (a router without the cache still purges the others' entries).
      const wanted = request.http?.headers.get(TAGS_REQUEST_HEADER);
      if (wanted !== '1' && wanted !== 'writes') return;
      return {
        async willSendResponse({ response }) {
          const tags = requestTags.getStore();
          if (!tags || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            [TAGS_EXTENSION]: {
              reads: wanted === '1' ? [...tags.reads] : [],
              writes: [...tags.writes],
            },
          };
        },
      };
    },
  };

  const countRequests: ApolloServerPlugin<TContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName }) {
          metrics.requests.inc({ operation: operationName ?? 'anonymous' });
        },
      };
    },
  };

  const apollo = new ApolloServer<TContext>({
    schema,
    // Inline tracing (ftv1) is for Apollo's SaaS usage reporting, which we do not use; it
    // costs time on every field.
    plugins: [
      countRequests,
      reportEntityTags,
      refuseUnexecutableOperations as ApolloServerPlugin<TContext>,
      ApolloServerPluginInlineTraceDisabled(),
    ],
    introspection: !config.isProduction,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => formatSubgraphError(formatted, error, metrics, logger),
    // The entry point (main.ts) owns SIGTERM/SIGINT: Apollo's own handler (on unless
    // NODE_ENV=test) would stop this server at once and then re-raise the signal, killing the
    // process mid-drain — writes executed, their answers never sent.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const httpServer = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A client that hangs up mid-request is not a server error.
      if (isClientHangUp(error, req)) {
        res.destroy();
        return;
      }
      logger.error({ err: error }, 'unhandled error in request handler');
      if (!res.headersSent)
        sendJson(res, 500, {
          errors: [
            {
              message: 'Internal server error',
              extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
            },
          ],
        });
      else res.end();
    });
  });
  httpServer.keepAliveTimeout = 65_000;
  const drain = gracefulCloser(httpServer);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://subgraph');
    if (url.pathname === '/healthz')
      return sendJson(res, 200, { status: 'ok', subgraph: definition.name });
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found' });

    const headers = headerMapOf(req);
    const verified = verifyIdentity(headers, config.identitySigningSecret);
    if (!verified.ok) {
      metrics.resolverErrors.inc({ code: ErrorCode.UNAUTHENTICATED });
      return sendJson(res, 401, {
        errors: [
          {
            message: `Request refused: ${verified.reason}`,
            extensions: { code: ErrorCode.UNAUTHENTICATED },
          },
        ],
      });
    }
    const requestId = headers.get(REQUEST_ID_HEADER) ?? randomUUID();
    let body: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req);
      if (raw === null) {
        // readBody stopped reading mid-body: the connection cannot carry another request, and
        // kept alive it would wedge the client's next request on it (found by
        // test/e2e/hostile-input.test.ts), so it is closed after this answer.
        res.setHeader('connection', 'close');
        return sendJson(res, 413, {
          errors: [
            { message: 'Request body too large', extensions: { code: ErrorCode.BAD_USER_INPUT } },
          ],
        });
      }
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        return sendJson(res, 400, {
          errors: [
            {
              message: 'Request body is not valid JSON',
              extensions: { code: ErrorCode.BAD_USER_INPUT },
            },
          ],
        });
      }
    }
    const response = await requestTags.run({ reads: new Set(), writes: new Set() }, () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () =>
          definition.createContext({
            identity: verified.identity,
            requestId,
            db,
            cursors,
            metrics,
            logger: logger.child({ requestId }),
            config,
          }),
      }),
    );
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  return {
    name: definition.name,
    httpServer,
    metrics,
    schema,
    sdl,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            error.code === 'EADDRINUSE'
              ? new StartupError(
                  `${definition.name} subgraph: port ${port} on ${host} is already in use (${definition.name.toUpperCase()}_PORT)`,
                )
              : error,
          ),
        );
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          resolve(`http://${host}:${address.port}/graphql`);
        });
      }),
    /**
     * Graceful: stop accepting, let in-flight requests finish (up to 10 s) and close their
     * keep-alive connections — the router's pool would otherwise keep them busy, and the
     * server open, for as long as it sends requests (see gracefulCloser).
     */
    close: async () => {
      await drain(10_000);
      await apollo.stop();
    },
  };
}

/**
 * Expected errors (a code from the registry) pass through as they are; anything else is
 * logged with its stack and masked, so internals (CQL, hosts, stack traces) never reach a client.
 */
function formatSubgraphError(
  formatted: GraphQLFormattedError,
  error: unknown,
  metrics: SubgraphMetrics,
  logger: Logger,
): GraphQLFormattedError {
  const code = codeOfFormattedError(formatted, error);
  // Apollo's own request errors (parse/validation) carry their own codes and are safe.
  const isApolloCode =
    /^(GRAPHQL_PARSE_FAILED|GRAPHQL_VALIDATION_FAILED|BAD_REQUEST|PERSISTED_QUERY_NOT_FOUND|PERSISTED_QUERY_NOT_SUPPORTED|OPERATION_RESOLUTION_FAILURE)$/.test(
      code,
    );
  if (EXPECTED_CODES.has(code) || isApolloCode) {
    metrics.resolverErrors.inc({ code });
    return { ...formatted, extensions: { ...formatted.extensions, code } };
  }
  metrics.resolverErrors.inc({ code: ErrorCode.INTERNAL_SERVER_ERROR });
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  logger.error({ err: original, path: formatted.path }, 'unexpected resolver error');
  return {
    message: 'Internal server error',
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
