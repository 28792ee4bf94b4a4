/**
 * A signed identity header set is good for one request to one subgraph (security issue 16):
 * one captured on its way from the router to a subgraph is refused by another subgraph, and by
 * the same subgraph with another body, 401 UNAUTHENTICATED.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  IDENTITY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '../../platform/contract/identity.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

interface Captured {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A pass-through proxy in front of the users subgraph that records what the router sends. */
async function recordingProxy(target: () => string): Promise<{
  url: string;
  server: Server;
  captured: Captured[];
}> {
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([, v]) => typeof v === 'string'),
      ) as Record<string, string>;
      captured.push({ headers, body });
      const forward = httpRequest(
        target(),
        { method: 'POST', headers: { ...headers, host: new URL(target()).host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, server, captured };
}

describe('a signed identity is bound to its subgraph and its body', () => {
  let federation: Federation;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let captured: Captured;

  before(async () => {
    let usersUrl = '';
    proxy = await recordingProxy(() => usersUrl);
    federation = await startFederation(
      { SUBGRAPH_RETRIES: '0', RESPONSE_CACHE: 'false' },
      {
        routeSubgraph: (name, url) => {
          if (name !== 'users') return url;
          usersUrl = url;
          return proxy.url;
        },
      },
    );
    const token = await tokenFor(federation.config, 0, 0);
    const answer = await federation.query(
      `{ user(id: "${seedIds.user(0, 1)}") { displayName } }`,
      {},
      { token },
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(answer.body.data?.['user'], JSON.stringify(answer.body));
    const signed = proxy.captured.find((c) => c.headers[SIGNATURE_HEADER]);
    assert.ok(signed, 'the router sent a signed request to users');
    captured = signed;
  });
  after(async () => {
    await federation.close();
    proxy.server.close();
  });

  const identityHeaders = () => ({
    [IDENTITY_HEADER]: captured.headers[IDENTITY_HEADER]!,
    [TIMESTAMP_HEADER]: captured.headers[TIMESTAMP_HEADER]!,
    [SIGNATURE_HEADER]: captured.headers[SIGNATURE_HEADER]!,
  });

  async function replay(url: string, body: string) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...identityHeaders() },
      body,
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string } }[];
      },
    };
  }

  it('when the captured set is replayed with its own body to its own subgraph, then it is accepted (within the minute)', async () => {
    const answer = await replay(federation.subgraphs.users.url, captured.body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  it('when the captured set is sent to users with another body, then it is refused 401 UNAUTHENTICATED', async () => {
    const other = JSON.stringify({
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }',
      variables: { r: [{ __typename: 'User', id: seedIds.user(0, 2) }] },
    });
    const answer = await replay(federation.subgraphs.users.url, other);
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal(answer.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    // One byte more is another body too.
    const padded = await replay(federation.subgraphs.users.url, `${captured.body} `);
    assert.equal(padded.status, 401);
  });

  it('when the captured set is sent to another subgraph, then it is refused 401 UNAUTHENTICATED', async () => {
    for (const name of ['sessions', 'fleet'] as const) {
      const same = await replay(federation.subgraphs[name].url, captured.body);
      assert.equal(same.status, 401, `${name}: ${JSON.stringify(same.body)}`);
      assert.equal(same.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      const own = await replay(
        federation.subgraphs[name].url,
        JSON.stringify({ query: '{ __typename }' }),
      );
      assert.equal(own.status, 401, `${name}: ${JSON.stringify(own.body)}`);
    }
  });

  it('when the captured set is moved into the query string of a GET, then it is refused', async () => {
    const query = encodeURIComponent('{ __typename }');
    const response = await fetch(`${federation.subgraphs.users.url}?query=${query}`, {
      headers: { 'apollo-require-preflight': 'true', ...identityHeaders() },
    });
    assert.equal(response.status, 401);
  });
});
