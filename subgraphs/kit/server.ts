/**
 * Builds one subgraph's HTTP server (does not listen: entry files listen, tests import this).
 *
 * @remarks
 * The composition root of a subgraph: the schema (its SDL file, its resolvers, its schema
 * transform — authorization), Apollo Server 5 with the kit's plugins and error masking
 * (plugins/, formatSubgraphError.ts), and the node:http routes (handleRequests.ts), which admit
 * only callers with an identity signed by the router. The per-request context — identity,
 * request id and a fresh set of DataLoaders — is created in one place: the subgraph's
 * `createContext`. Configuration is read here and in main.ts only; the pieces get values.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';
import type { SubgraphConfig } from '../../platform/config/load.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import type { Identity } from '../../platform/contract/identity.js';
import { gracefulCloser } from '../../platform/http.js';
import type { Logger } from '../../platform/logger.js';
import { StartupError } from '../../platform/startup.js';
import { refuseUnexecutableOperations } from '../../platform/unexecutableOperations.js';
import { Db } from './cassandra/db.js';
import { requestTags } from './cassandra/entityTags.js';
import { CursorCodec } from './cassandra/pagination.js';
import { formatSubgraphError } from './formatSubgraphError.js';
import { handleRequests } from './handleRequests.js';
import { DEFAULT_LOADER_OPTIONS, type LoaderOptions } from './loaders.js';
import { createSubgraphMetrics, type SubgraphMetrics } from './metrics.js';
import { countRequests } from './plugins/countRequests.js';
import { reportEntityTags } from './plugins/reportEntityTags.js';
import { policyFingerprint } from './authz/policyFingerprint.js';

/** What every subgraph's context starts from. */
export interface BaseContext {
  readonly identity: Identity;
  readonly requestId: string;
  readonly db: Db;
  readonly cursors: CursorCodec;
  readonly metrics: SubgraphMetrics;
  readonly logger: Logger;
  /**
   * How this server's DataLoaders batch and cache (loaderTable.ts applies them; absent:
   * {@link DEFAULT_LOADER_OPTIONS}). Only the benchmarks' baseline without DataLoader differs.
   */
  readonly loaderOptions?: LoaderOptions;
  /** What the subgraph's `open` returned (its own process-wide resources); absent without one. */
  readonly resources?: unknown;
}

/** What a subgraph's own resources are opened with. */
export interface ResourceDeps {
  readonly config: SubgraphConfig;
  readonly logger: Logger;
  readonly metrics: SubgraphMetrics;
}

/** A subgraph's own process-wide resources beyond Cassandra (the fleet's Redis event streams). */
export interface SubgraphResources {
  /** Handed to every request's createContext as `base.resources`. */
  readonly value: unknown;
  /** Releases them; called once the server has drained, so in-flight writes still reach them. */
  close(): Promise<void>;
}

export interface SubgraphDefinition<TContext extends BaseContext, TName extends string = string> {
  /** The subgraph's name in the supergraph (and, for ours, which configuration slice it loads). */
  readonly name: TName;
  /** Path of the SDL file under schema/subgraphs/ — the single source of the schema. */
  readonly schemaFile: URL;
  readonly resolvers: GraphQLResolverMap<TContext>;
  /** Builds the per-request context: the only place per-request state is created. */
  readonly createContext: (base: BaseContext) => TContext;
  /** Optional: wraps the built schema (e.g. with authorization middleware). */
  readonly transformSchema?: (schema: GraphQLSchema) => GraphQLSchema;
  /** Optional: opens the subgraph's own resources when its server is built (see SubgraphResources). */
  readonly open?: (deps: ResourceDeps) => Promise<SubgraphResources>;
}

/**
 * The resolvers of one GraphQL type (an entry of a resolver map), for subgraphs that keep one
 * file per type and assemble the map from them.
 */
export type TypeResolvers<TContext> = GraphQLResolverMap<TContext>[string];

export interface SubgraphServer {
  readonly name: string;
  readonly httpServer: Server;
  readonly metrics: SubgraphMetrics;
  readonly schema: GraphQLSchema;
  readonly sdl: string;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export interface SubgraphDeps {
  readonly config: SubgraphConfig;
  readonly cassandra: CassandraClient;
  readonly logger: Logger;
  readonly metrics?: SubgraphMetrics;
  /** DataLoader options of every request's loaders; default {@link DEFAULT_LOADER_OPTIONS}. */
  readonly loaderOptions?: LoaderOptions;
}

export async function createSubgraphServer<TContext extends BaseContext>(
  definition: SubgraphDefinition<TContext>,
  deps: SubgraphDeps,
): Promise<SubgraphServer> {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? createSubgraphMetrics(definition.name);
  const loaderOptions = deps.loaderOptions ?? DEFAULT_LOADER_OPTIONS;
  const db = new Db(deps.cassandra, metrics);
  const cursors = new CursorCodec(config.cursorSigningSecret);
  const { schema, sdl } = buildSchema(definition);
  const apollo = new ApolloServer<TContext>({
    schema,
    // Inline tracing (ftv1) is for Apollo's SaaS usage reporting, which we do not use; it
    // costs time on every field.
    plugins: [
      countRequests(metrics),
      reportEntityTags(policyFingerprint(schema, sdl)),
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
  const resources = await definition.open?.({ config, logger, metrics });

  const contextOf = (identity: Identity, requestId: string): TContext =>
    definition.createContext({
      identity,
      requestId,
      db,
      cursors,
      metrics,
      logger: logger.child({ requestId }),
      loaderOptions,
      resources: resources?.value,
    });
  const httpServer = createServer(
    handleRequests({
      name: definition.name,
      metrics,
      logger,
      identitySigningSecret: config.identitySigningSecret,
      // Each request collects the entity tags of what it reads and writes (plugins/).
      execute: (httpGraphQLRequest, identity, requestId) =>
        requestTags.run({ reads: new Set(), writes: new Set() }, () =>
          apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest,
            context: async () => contextOf(identity, requestId),
          }),
        ),
    }),
  );
  httpServer.keepAliveTimeout = 65_000;
  const drain = gracefulCloser(httpServer);

  return {
    name: definition.name,
    httpServer,
    metrics,
    schema,
    sdl,
    listen: (port, host) => listen(httpServer, definition.name, port, host),
    /**
     * Graceful: stop accepting, let in-flight requests finish (up to 10 s) and close their
     * keep-alive connections — the router's pool would otherwise keep them busy, and the
     * server open, for as long as it sends requests (see gracefulCloser).
     */
    close: async () => {
      await drain(10_000);
      await apollo.stop();
      await resources?.close();
    },
  };
}

/** The subgraph's schema: its SDL file with its resolvers, then its transform (authorization). */
function buildSchema<TContext extends BaseContext>(
  definition: SubgraphDefinition<TContext>,
): { schema: GraphQLSchema; sdl: string } {
  const sdl = readFileSync(definition.schemaFile, 'utf8');
  const schema = buildSubgraphSchema([
    { typeDefs: parse(sdl), resolvers: definition.resolvers as GraphQLResolverMap<unknown> },
  ]);
  return { schema: definition.transformSchema?.(schema) ?? schema, sdl };
}

/** Listens on `host:port`; resolves with the GraphQL URL, rejects naming the port if taken. */
function listen(httpServer: Server, name: string, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new StartupError(
              `${name} subgraph: port ${port} on ${host} is already in use (${name.toUpperCase()}_PORT)`,
            )
          : error,
      ),
    );
    httpServer.listen(port, host, () => {
      const address = httpServer.address() as AddressInfo;
      resolve(`http://${host}:${address.port}/graphql`);
    });
  });
}
