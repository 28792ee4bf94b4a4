/**
 * The router's revocation check when the sessions subgraph answers with an error in the field
 * (its Cassandra read failed): `tokensRevokedBefore` is nullable and null means "never signed
 * out everywhere", so an error's null must not be read as that. Before, the router looked at
 * `data` only and let a signed-out user's old tokens through whenever the read failed; and a
 * revocation this router made did not drop the mark it last knew, which its stale-if-error path
 * then applied. The subgraph is real; a proxy on the router's route to it turns its answers to
 * `TokensRevokedBefore` into what it sends when the resolver throws (the field null, an error
 * with the field's path).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { mintDevelopmentToken } from '../../router/auth/jwt.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { jwtSecretOf, startFederation, type Federation } from '../support/federation.js';
import { AUTH_SERVICE } from '../support/subgraphs.js';

const ORG = seedIds.organization(0);

/** An HTTP proxy to the sessions subgraph that can fail every `TokensRevokedBefore` field. */
async function startFieldErrorProxy(): Promise<{
  route: (url: string) => string;
  failMarks: (on: boolean) => void;
  close: () => Promise<void>;
}> {
  let upstream = '';
  let failing = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const headers = { ...req.headers };
      delete headers.host;
      delete headers['content-length'];
      void request(`${upstream}${req.url?.replace(/^\/graphql/, '') ?? ''}`, {
        method: 'POST',
        headers,
        body,
      })
        .then(async (upstreamAnswer) => {
          let text = await upstreamAnswer.body.text();
          const { operationName, query } = JSON.parse(body) as {
            operationName?: string;
            query: string;
          };
          if (failing && (operationName ?? query).includes('TokensRevokedBefore')) {
            const answer = JSON.parse(text) as { data: Record<string, unknown> | null };
            const fields = Object.keys(answer.data ?? {});
            text = JSON.stringify({
              data: Object.fromEntries(fields.map((field) => [field, null])),
              errors: fields.map((field) => ({
                message: 'Unexpected error.',
                path: [field],
                extensions: { code: 'INTERNAL_SERVER_ERROR' },
              })),
            });
          }
          res.writeHead(upstreamAnswer.statusCode, { 'content-type': 'application/json' });
          res.end(text);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    route(url) {
      upstream = url;
      return `http://127.0.0.1:${port}/graphql`;
    },
    failMarks: (on) => (failing = on),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('revocation check: an error in the sessions subgraph field is no answer', () => {
  let federation: Federation;
  let proxy: Awaited<ReturnType<typeof startFieldErrorProxy>>;

  before(async () => {
    proxy = await startFieldErrorProxy();
    federation = await startFederation(
      { SESSION_CHECK_CACHE_SECONDS: '30', RESPONSE_CACHE: 'false' },
      { routeSubgraph: (name, url) => (name === 'sessions' ? proxy.route(url) : url) },
    );
  });
  after(async () => {
    await federation.close();
    await proxy.close();
  });
  after(() => proxy.failMarks(false));

  const mint = (userId: string) =>
    mintDevelopmentToken(jwtSecretOf(federation.config), {
      userId,
      organizationId: ORG,
      roles: ['viewer'],
    });
  async function ask(token: string, query = '{ __typename }', variables = {}) {
    const response = await fetch(federation.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('when a user who signed out everywhere uses an old token while the mark cannot be read, then it is refused as UNAUTHENTICATED (the token could not be checked; try again), and as revoked once the mark can be read', async () => {
    const userId = randomUUID();
    const token = await mint(userId);
    // Signed out everywhere by the auth service: this router has never seen the user.
    const { body } = await federation.subgraphs.sessions.request<{ revokeAllSessions: number }>(
      'mutation($u: ID!, $o: ID!) { revokeAllSessions(userId: $u, organizationId: $o) }',
      { u: userId, o: ORG },
      AUTH_SERVICE,
    );
    assert.equal(typeof body.data?.revokeAllSessions, 'number', JSON.stringify(body));

    proxy.failMarks(true);
    const refused = await ask(token);
    proxy.failMarks(false);
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.match(JSON.stringify(refused.body), /"The token could not be checked; try again"/);
    assert.match(JSON.stringify(refused.body), /"code":"UNAUTHENTICATED"/);
    // Once the mark can be read, the token is refused as revoked.
    assert.equal((await ask(token)).status, 401);
  });

  it('when a user signs out everywhere through this router and the mark then cannot be read, then the mark it knew before is not used', async () => {
    const userId = randomUUID();
    const token = await mint(userId);
    assert.equal((await ask(token)).status, 200); // the router learns "never signed out"
    const revoked = await ask(token, 'mutation($u: ID!) { revokeAllSessions(userId: $u) }', {
      u: userId,
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));

    proxy.failMarks(true);
    const refused = await ask(token);
    proxy.failMarks(false);
    assert.notEqual(refused.status, 200, JSON.stringify(refused.body));
    assert.equal((await ask(token)).status, 401);
  });
});
