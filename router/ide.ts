/**
 * The local GraphQL IDE (development only): GraphiQL 3 served from this router's own
 * node_modules — no CDN, so it works without internet access. The page has a headers editor
 * (set `Authorization: Bearer <token>`; mint one with `npm run token:mint`), and the token can
 * also be passed as `/ide?token=…`, which pre-fills that header.
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
  <script>
    const token = new URLSearchParams(location.search).get('token');
    const headers = token ? JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2) : '{\\n  "Authorization": "Bearer <token from npm run token:mint>"\\n}';
    const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(graphqlPath)} });
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
