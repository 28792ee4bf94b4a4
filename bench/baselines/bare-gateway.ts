/**
 * Baseline: a bare @apollo/gateway — `new ApolloGateway({ supergraphSdl, buildService })` served
 * by `startStandaloneServer` with @apollo/server's defaults. No authentication, rate limiting,
 * operation limits, response cache, retries, circuit breaker or metrics: what our router costs
 * on top of the gateway is the difference.
 *
 * The subgraphs only accept a router-signed identity (platform/contract/identity.ts), so this
 * gateway signs one per subgraph fetch, as our router does — and does no more than that needs:
 * the caller's JWT payload is decoded *without* verifying its signature, and a partner API key
 * is mapped to its identity from a table the harness passes in (BENCH_PARTNER_IDENTITIES)
 * instead of being looked up in Cassandra.
 *
 * It runs the published @apollo/gateway code (the `apollo-gateway-stock` alias of the same
 * version), not the copy our router patches, and without router/flatFederationExports.ts.
 *
 * Environment: BENCH_PORT (listen port, 127.0.0.1), SUPERGRAPH_PATH, SUBGRAPH_URLS and
 * IDENTITY_SIGNING_SECRET as for the router (read through loadRouterConfig).
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
// The stock package, installed under an alias: node_modules/@apollo/gateway carries our patch
// (router/patches), and the baseline must be the gateway as published.
import { ApolloGateway, RemoteGraphQLDataSource } from 'apollo-gateway-stock';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { loadRouterConfig } from '../../platform/config/load.js';
import { ANONYMOUS, signIdentity, type Identity } from '../../platform/contract/identity.js';

interface GatewayContext {
  readonly identity: Identity;
}

const config = loadRouterConfig();
const port = Number(process.env.BENCH_PORT ?? 5005);
const partnerIdentities = JSON.parse(process.env.BENCH_PARTNER_IDENTITIES ?? '{}') as Record<
  string,
  { apiKeyId: string; organizationId: string; scopes: string[] }
>;

/** The caller as the subgraphs need it; the JWT is trusted as it is (no signature check). */
function identityOf(headers: IncomingHttpHeaders): Identity {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string') {
    const partner = partnerIdentities[apiKey];
    return partner ? { kind: 'partner', ...partner } : ANONYMOUS;
  }
  const token = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  if (!token) return ANONYMOUS;
  const claims = JSON.parse(
    Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as {
    sub: string;
    org: string;
    roles?: Extract<Identity, { kind: 'user' }>['roles'];
    sid?: string;
  };
  return {
    kind: 'user',
    userId: claims.sub,
    organizationId: claims.org,
    roles: claims.roles ?? ['viewer'],
    sessionId: claims.sid ?? null,
  };
}

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(config.supergraphPath, 'utf8'),
  buildService: ({ name, url }) =>
    new RemoteGraphQLDataSource<GatewayContext>({
      url: config.subgraphUrls[name] ?? url,
      willSendRequest({ request, context }) {
        // The body RemoteGraphQLDataSource will send (query first, without `http`): the
        // signature covers it (platform/contract/identity.ts).
        const signed = signIdentity(context.identity ?? ANONYMOUS, config.identitySigningSecret, {
          subgraph: name,
          body: JSON.stringify({ query: request.query, ...request, http: undefined }),
        });
        for (const [header, value] of Object.entries(signed))
          request.http?.headers.set(header, value);
      },
    }),
});

const server = new ApolloServer<GatewayContext>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port, host: '127.0.0.1' },
  context: async ({ req }) => ({ identity: identityOf(req.headers) }),
});
console.log(`bare gateway listening on ${url}`);

const shutdown = async () => {
  await server.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
