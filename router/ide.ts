/**
 * The local GraphQL IDE (development only): GraphiQL 3 served from this router's own
 * node_modules — no CDN, so it works without internet access. The page has a headers editor
 * (set `Authorization: Bearer <token>`; mint one with `npm run token:mint`), and the token can
 * also be passed as `/ide?token=…`, which pre-fills that header. Subscriptions run over the
 * router's WebSocket transport (`<graphql path>/ws`, graphql-ws's browser client, also served
 * from node_modules), authenticated with the headers editor's Authorization / X-Api-Key sent
 * in `connection_init` (a browser cannot set headers on a WebSocket); queries and mutations
 * stay on HTTP.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';

const require = createRequire(import.meta.url);
/** A file inside an installed package (their `exports` maps hide the UMD builds). */
const packageFile = (pkg: string, file: string) =>
  join(dirname(require.resolve(`${pkg}/package.json`)), file);
const ASSETS: Record<string, { file: string; type: string }> = {
  '/ide/react.js': {
    file: packageFile('react', 'umd/react.production.min.js'),
    type: 'text/javascript',
  },
  '/ide/react-dom.js': {
    file: packageFile('react-dom', 'umd/react-dom.production.min.js'),
    type: 'text/javascript',
  },
  '/ide/graphiql.js': { file: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  '/ide/graphiql.css': { file: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
  '/ide/graphql-ws.js': {
    file: packageFile('graphql-ws', 'umd/graphql-ws.min.js'),
    type: 'text/javascript',
  },
};

function page(graphqlPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Fleetgraph IDE</title>
  <link rel="stylesheet" href="/ide/graphiql.css" />
  <style>html, body, #ide { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="ide">Loading…</div>
  <script src="/ide/react.js"></script>
  <script src="/ide/react-dom.js"></script>
  <script src="/ide/graphiql.js"></script>
  <script src="/ide/graphql-ws.js"></script>
  <script>
    const token = new URLSearchParams(location.search).get('token');
    const headers = token ? JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2) : '{\\n  "Authorization": "Bearer <token from npm run token:mint>"\\n}';
    const httpFetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(graphqlPath)} });
    const wsUrl = location.origin.replace(/^http/, 'ws') + ${JSON.stringify(`${graphqlPath}/ws`)};
    // One WebSocket per set of credentials, sent in connection_init.
    const wsClients = new Map();
    function wsClientFor(headers) {
      const credentials = {};
      for (const [name, value] of Object.entries(headers || {}))
        if (/^(authorization|x-api-key)$/i.test(name)) credentials[name.toLowerCase()] = value;
      const key = JSON.stringify(credentials);
      if (!wsClients.has(key))
        wsClients.set(key, graphqlWs.createClient({ url: wsUrl, connectionParams: credentials, lazy: true }));
      return wsClients.get(key);
    }
    function isSubscription(params, options) {
      const definitions = (options && options.documentAST && options.documentAST.definitions) || [];
      const operation = definitions.find((d) => d.kind === 'OperationDefinition' && (!params.operationName || (d.name && d.name.value === params.operationName)));
      return Boolean(operation && operation.operation === 'subscription');
    }
    const fetcher = (params, options) =>
      isSubscription(params, options)
        ? wsClientFor(options && options.headers).iterate(params)
        : httpFetcher(params, options);
    ReactDOM.createRoot(document.getElementById('ide')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultHeaders: headers,
        shouldPersistHeaders: true,
        isHeadersEditorEnabled: true,
        defaultQuery: '# Fleetgraph: one federated graph over users, sessions and the robot fleet.\\n{\\n  me { id displayName organization { name } }\\n  fleets { id name }\\n}\\n',
      }),
    );
  </script>
</body>
</html>`;
}

export async function serveIde(
  pathname: string,
  graphqlPath: string,
  res: ServerResponse,
): Promise<void> {
  if (pathname === '/ide' || pathname === '/ide/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(page(graphqlPath));
    return;
  }
  const asset = ASSETS[pathname];
  if (!asset) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'content-type': `${asset.type}; charset=utf-8`,
    'cache-control': 'public, max-age=3600',
  });
  res.end(await readFile(asset.file));
}
