/**
 * Errors that reach a client name what failed, never the internals behind it: no address or
 * port of a subgraph that is down, no byte of a failing subgraph's own answer. The detail goes
 * to the router's log under the request id (router/subgraphFailures.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

const SECRET_BODY = 'java.lang.IllegalStateException at /srv/internal/Users.java:42 token=abc123';

/** A "subgraph" that answers every request 502 with an internal-looking body. */
async function brokenSubgraph(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(SECRET_BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

function messagesOf(body: { errors?: { message: string }[] }): string[] {
  return (body.errors ?? []).map((error) => error.message);
}

describe('error messages reveal no internals', () => {
  let federation: Federation;
  let broken: { url: string; server: Server };
  let token: string;
  before(async () => {
    broken = await brokenSubgraph();
    federation = await startFederation(
      { SUBGRAPH_RETRIES: '0' },
      { routeSubgraph: (name, url) => (name === 'users' ? broken.url : url) },
    );
    token = await tokenFor(federation.config, 0, 0);
  });
  after(async () => {
    await federation.close();
    broken.server.close();
  });

  it('when a subgraph answers 5xx with its own body, then the client is told its status, not its body', async () => {
    const { body } = await federation.query(
      `{ user(id: "${seedIds.user(0, 1)}") { displayName } }`,
      {},
      { token },
    );
    const messages = messagesOf(body);
    assert.deepEqual(messages, ['Subgraph users is unavailable (HTTP 502)'], messages.join('; '));
  });

  it('when a subgraph is down, then the client is told so without its address or the socket error', async () => {
    const fleetUrl = federation.subgraphs.fleet.url;
    const port = new URL(fleetUrl).port;
    await federation.stopSubgraph('fleet');
    try {
      const { body } = await federation.query(
        `{ fleet(id: "${seedIds.fleet(0, 0)}") { name } }`,
        {},
        { token },
      );
      const messages = messagesOf(body);
      assert.ok(messages.length > 0, 'the fleet field failed');
      for (const message of messages) {
        assert.doesNotMatch(message, /127\.0\.0\.1|ECONNREFUSED|connect /);
        assert.ok(!message.includes(port), `${message} names the port ${port}`);
        assert.match(
          message,
          /^Subgraph fleet is unavailable \((connection refused|circuit open)\)$/,
        );
      }
    } finally {
      await federation.restartSubgraph('fleet');
    }
  });
});
