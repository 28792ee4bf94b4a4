import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiKeyStore } from '../../router/auth/apiKeys.js';
import { TrustedDocuments } from '../../router/trustedDocuments.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { signIdentity } from '../../platform/contract/identity.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { AUTH_SERVICE } from '../support/subgraphs.js';

const FLEETS = '{ fleets { id name } }';

describe('the router: authentication, limits, rate limits and resilience end to end', () => {
  let federation: Federation;
  let apiKeys: ApiKeyStore;
  before(async () => {
    federation = await startFederation({
      // Response caching has its own tests (cache.test.ts); here every request must execute.
      RESPONSE_CACHE: 'false',
      // Small numbers so the test reaches them quickly: trial partners get 3 requests a minute,
      // sessions are re-checked every second, the breaker sees failures after one retry.
      RATE_LIMITS: 'user=1000,anonymous=1000,partner-standard=1000,partner-trial=3',
      SESSION_CHECK_CACHE_SECONDS: '1',
      SUBGRAPH_RETRIES: '1',
      SUBGRAPH_TIMEOUT_MS: '2000',
      MAX_QUERY_DEPTH: '8',
      MAX_QUERY_ALIASES: '5',
      MAX_QUERY_TOKENS: '400',
      MAX_QUERY_COST: '3000',
    });
    apiKeys = new ApiKeyStore(federation.cassandra);
  });
  after(() => federation.close());

  it('when a user sends a valid JWT, then me and the fleets of their organization come back', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const { status, body } = await federation.query<{
      me: { id: string };
      fleets: { id: string }[];
    }>(`{ me { id } ${FLEETS.slice(1, -1)} }`, {}, { token });
    assert.equal(status, 200);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.me.id, seedIds.user(0, 0));
    // What Cassandra holds for the organization: its two seeded fleets, plus any scratch fleet
    // another test file left in this keyspace when it was interrupted (permissions.test.ts).
    const stored = await federation.cassandra.execute(
      'SELECT fleet_id FROM fleets_by_organization WHERE organization_id = ?',
      [seedIds.organization(0)],
      { prepare: true },
    );
    const expected = stored.rows.map((row) => String(row['fleet_id'])).sort();
    assert.ok(expected.includes(seedIds.fleet(0, 0)) && expected.includes(seedIds.fleet(0, 1)));
    assert.deepEqual(body.data?.fleets.map((f) => f.id).sort(), expected);
  });

  it('when nobody signs in, then the request is served as anonymous (me is null)', async () => {
    const { status, body } = await federation.query<{ me: null }>('{ me { id } }');
    assert.equal(status, 200);
    assert.equal(body.data?.me, null);
  });

  it('when a partner key is used, then its organization is the identity', async () => {
    const { token: apiKey } = await apiKeys.create({
      organizationId: seedIds.organization(1),
      name: 'e2e',
      scopes: ['fleet:read'],
      rateClass: 'partner-standard',
      expiresAt: null,
    });
    const { status, body } = await federation.query<{ fleets: { id: string }[] }>(
      FLEETS,
      {},
      { apiKey },
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(
      body.data?.fleets.map((f) => f.id).sort(),
      [seedIds.fleet(1, 0), seedIds.fleet(1, 1)].sort(),
    );
  });

  it('when the JWT is expired or badly signed, then 401 UNAUTHENTICATED names the problem', async () => {
    const expired = await tokenFor(federation.config, 0, 0, ['viewer'], {
      expiresIn: Math.floor(Date.now() / 1000) - 3600,
    });
    const good = await tokenFor(federation.config, 0, 0);
    const forged = `${good.slice(0, -4)}AAAA`;
    for (const [token, message] of [
      [expired, 'The token has expired'],
      [forged, 'The token is invalid'],
      ['not.a.jwt', 'The token is invalid'],
    ] as const) {
      const { status, body } = await federation.query('{ me { id } }', {}, { token });
      assert.equal(status, 401);
      assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
      assert.equal(body.errors?.[0]?.message, message);
      assert.equal(body.data, undefined);
    }
  });

  it('when the session behind a JWT is revoked, then the token is refused within seconds', async () => {
    // Sessions are started by the auth service (startSession is service-only).
    const started = await federation.subgraphs.sessions.request<{ startSession: { id: string } }>(
      'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
      {
        input: {
          userId: seedIds.user(0, 3),
          organizationId: seedIds.organization(0),
          clientName: 'e2e',
        },
      },
      AUTH_SERVICE,
    );
    assert.equal(started.body.errors, undefined, JSON.stringify(started.body.errors));
    const sessionId = started.body.data!.startSession.id;
    const token = await tokenFor(federation.config, 0, 3, ['viewer'], { sessionId });
    assert.equal((await federation.query('{ me { id } }', {}, { token })).status, 200);
    const revoked = await federation.subgraphs.sessions.request(
      'mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }',
      { id: sessionId },
    );
    assert.equal(revoked.body.errors, undefined);
    const revokedAt = Date.now();
    let refusedAfterMs = -1;
    while (Date.now() - revokedAt < 5000) {
      const { status, body } = await federation.query('{ me { id } }', {}, { token });
      if (status === 401) {
        assert.equal(body.errors?.[0]?.message, 'The session has been revoked');
        refusedAfterMs = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(refusedAfterMs >= 0 && refusedAfterMs <= 2000, `refused after ${refusedAfterMs} ms`);
  });

  it('when a partner key is revoked, then it is refused', async () => {
    const created = await apiKeys.create({
      organizationId: seedIds.organization(0),
      name: 'to revoke',
      scopes: ['fleet:read'],
      rateClass: 'partner-standard',
      expiresAt: null,
    });
    assert.equal((await federation.query(FLEETS, {}, { apiKey: created.token })).status, 200);
    await apiKeys.revoke(created.keyId);
    await new Promise((r) => setTimeout(r, 3100)); // the router's key cache (KEY_CACHE_MS)
    const { status, body } = await federation.query(FLEETS, {}, { apiKey: created.token });
    assert.equal(status, 401);
    assert.equal(body.errors?.[0]?.message, 'The API key has been revoked');
  });

  it('when a partner key exceeds its class limit, then 429 RATE_LIMITED with Retry-After', async () => {
    const { token: apiKey } = await apiKeys.create({
      organizationId: seedIds.organization(0),
      name: 'trial',
      scopes: ['fleet:read'],
      rateClass: 'partner-trial',
      expiresAt: null,
    });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await federation.query(FLEETS, {}, { apiKey });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(last!.body.errors?.[0]?.extensions?.['code'], 'RATE_LIMITED');
    const retryAfter = Number(last!.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
  });

  it('when an operation exceeds the depth, alias, token or cost limit, then it is refused before any subgraph is called', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const fleetId = seedIds.fleet(0, 0);
    const deep = `{ fleet(id: "${fleetId}") { robots { nodes { fleet { robots { nodes { fleet { robots { nodes { fleet { id } } } } } } } } } } }`;
    const aliases = `{ ${Array.from({ length: 8 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const tokens = `{ me { ${Array.from({ length: 600 }, () => 'id').join(' ')} } }`;
    const costly = `{ fleet(id: "${fleetId}") { robots(first: 500) { nodes { id serial status model firmware batteryPercent operator { id displayName email roles createdAt } currentMission { id status steps createdAt } missions(first: 50) { nodes { id status steps } } } } } }`;
    const fetchesBefore = await federation.routerMetric('fleetgraph_router_subgraph_fetches_total');
    // Cost is computed with the variables coerced (router/graphql/operationCost.ts), so it is
    // not a validation error of the document: it has a code of its own.
    for (const [query, pattern, code] of [
      [deep, /depth/i, 'GRAPHQL_VALIDATION_FAILED'],
      [aliases, /alias/i, 'GRAPHQL_VALIDATION_FAILED'],
      [tokens, /token/i, 'GRAPHQL_VALIDATION_FAILED'],
      [costly, /cost/i, 'OPERATION_TOO_COSTLY'],
    ] as const) {
      const { status, body } = await federation.query(query, {}, { token });
      assert.equal(status, 400, JSON.stringify(body));
      assert.match(body.errors?.[0]?.message ?? '', pattern);
      // A limit is not a syntax error: no "Syntax Error:" prefix (graphql-armor's own).
      assert.doesNotMatch(body.errors?.[0]?.message ?? '', /^Syntax Error/);
      assert.equal(body.errors?.[0]?.extensions?.['code'], code);
    }
    assert.equal(
      await federation.routerMetric('fleetgraph_router_subgraph_fetches_total'),
      fetchesBefore,
      'no subgraph was called',
    );
  });

  it('when a request goes straight to a subgraph with a forged, missing or stale signature, then it is refused', async () => {
    const identity = {
      kind: 'user' as const,
      userId: seedIds.user(1, 0),
      organizationId: seedIds.organization(1),
      roles: ['admin' as const],
      sessionId: null,
    };
    const body = JSON.stringify({
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }',
      variables: { r: [{ __typename: 'User', id: seedIds.user(0, 0) }] },
    });
    const request = { subgraph: 'users', body };
    const valid = signIdentity(identity, federation.config.identitySigningSecret, request);
    const cases: [Record<string, string>, string][] = [
      [{}, 'missing identity signature'],
      [signIdentity(identity, 'x'.repeat(40), request), 'invalid identity signature'],
      [
        {
          ...valid,
          'x-fleetgraph-identity': Buffer.from(
            JSON.stringify({ ...identity, organizationId: seedIds.organization(0) }),
          ).toString('base64url'),
        },
        'invalid identity signature',
      ],
      [
        signIdentity(
          identity,
          federation.config.identitySigningSecret,
          request,
          Date.now() - 120_000,
        ),
        'stale identity signature',
      ],
    ];
    for (const [headers, reason] of cases) {
      const response = await fetch(federation.subgraphs.users.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      assert.equal(response.status, 401);
      const answer = (await response.json()) as {
        errors: { message: string; extensions: { code: string } }[];
      };
      assert.equal(answer.errors[0]?.message, `Request refused: ${reason}`);
      assert.equal(answer.errors[0]?.extensions.code, 'UNAUTHENTICATED');
    }
  });

  it('when a subgraph stops, then responses carry partial data, the breaker opens, and it recovers when the subgraph returns', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const query = `{ me { id displayName } fleet(id: "${seedIds.fleet(0, 0)}") { id name } }`;
    assert.equal((await federation.query(query, {}, { token })).body.errors, undefined);
    await federation.stopSubgraph('fleet');
    try {
      const partial = await federation.query<{ me: { id: string } | null; fleet: unknown }>(
        query,
        {},
        { token },
      );
      assert.equal(partial.status, 200);
      assert.equal(partial.body.data?.me?.id, seedIds.user(0, 0), 'users data still served');
      assert.equal(partial.body.data?.fleet, null);
      assert.equal(partial.body.errors?.[0]?.extensions?.['code'], 'SUBGRAPH_UNAVAILABLE');
      // The breaker opens once failures pass 50% of its 10 s rolling window (which still holds
      // the successes of earlier tests), so keep asking — bounded — until it does.
      for (let i = 0; i < 60 && !federation.router.subgraphs.get('fleet')?.circuitOpen; i++)
        await federation.query(query, {}, { token });
      assert.equal(federation.router.subgraphs.get('fleet')?.circuitOpen, true, 'breaker opened');
      assert.equal(
        await federation.routerMetric('fleetgraph_router_circuit_open', { subgraph: 'fleet' }),
        1,
      );
      const open = await federation.query(query, {}, { token });
      assert.match(
        open.body.errors?.[0]?.message ?? '',
        /Subgraph fleet is unavailable \(circuit open\)/,
      );
    } finally {
      await federation.restartSubgraph('fleet');
    }
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const { body } = await federation.query<{ fleet: { id: string } | null }>(
        query,
        {},
        { token },
      );
      recovered = body.errors === undefined && body.data?.fleet?.id === seedIds.fleet(0, 0);
    }
    assert.ok(recovered, 'fleet data served again after the subgraph returned');
  });

  it('when a key requires trusted documents, then registered operations pass (by text or hash) and others are refused', async () => {
    const { token: apiKey } = await apiKeys.create({
      organizationId: seedIds.organization(0),
      name: 'trusted only',
      scopes: ['fleet:read'],
      rateClass: 'partner-standard',
      expiresAt: null,
      requireTrustedDocuments: true,
    });
    const dashboard = readFileSync(
      'schema/operations/fleet-console/FleetDashboard.graphql',
      'utf8',
    );
    const variables = { fleetId: seedIds.fleet(0, 0), first: 2 };
    const byText = await federation.query<{ fleet: { robots: { nodes: unknown[] } } }>(
      dashboard,
      variables,
      { apiKey },
    );
    assert.equal(byText.status, 200, JSON.stringify(byText.body));
    assert.equal(byText.body.data?.fleet.robots.nodes.length, 2);
    const byHash = await fetch(federation.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({
        variables,
        extensions: {
          persistedQuery: { version: 1, sha256Hash: TrustedDocuments.hashOf(dashboard) },
        },
      }),
    });
    assert.equal(byHash.status, 200);
    assert.equal(
      ((await byHash.json()) as { data: { fleet: { robots: { nodes: unknown[] } } } }).data.fleet
        .robots.nodes.length,
      2,
    );
    const other = await federation.query(FLEETS, {}, { apiKey });
    assert.equal(other.status, 400);
    assert.equal(other.body.errors?.[0]?.extensions?.['code'], 'OPERATION_NOT_TRUSTED');
  });

  it('when a client uses automatic persisted queries, then the hash alone works after one registration through Redis', async () => {
    const query = `{ fleet(id: "${seedIds.fleet(0, 1)}") { id name } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    // Fleets are for signed-in callers of their organization.
    const token = await tokenFor(federation.config, 0, 0);
    const send = (body: Record<string, unknown>) =>
      fetch(federation.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          ...body,
          extensions: { persistedQuery: { version: 1, sha256Hash } },
        }),
      }).then(
        async (r) =>
          (await r.json()) as {
            data?: { fleet: { id: string } };
            errors?: { extensions: { code: string } }[];
          },
      );
    await federation.redis.del(`apq:apq:${sha256Hash}`);
    assert.equal((await send({})).errors?.[0]?.extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
    assert.equal((await send({ query })).data?.fleet.id, seedIds.fleet(0, 1));
    assert.equal((await send({})).data?.fleet.id, seedIds.fleet(0, 1));
    assert.equal(await federation.redis.exists(`apq:apq:${sha256Hash}`), 1, 'stored in Redis');
  });

  it('when GraphQL-over-HTTP rules are broken, then the right status comes back', async () => {
    const get = await fetch(
      `${federation.url}?query=${encodeURIComponent('mutation { revokeAllSessions(userId: "x") }')}`,
      {
        headers: {
          accept: 'application/graphql-response+json',
          'apollo-require-preflight': 'true',
        },
      },
    );
    assert.equal(get.status, 405, 'mutations are not allowed over GET');
    const queryOverGet = await fetch(
      `${federation.url}?query=${encodeURIComponent('{ __typename }')}`,
      {
        headers: {
          accept: 'application/graphql-response+json',
          'apollo-require-preflight': 'true',
        },
      },
    );
    assert.equal(queryOverGet.status, 200);
    assert.match(
      queryOverGet.headers.get('content-type') ?? '',
      /application\/graphql-response\+json/,
    );
    const csrf = await fetch(`${federation.url}?query=${encodeURIComponent('{ __typename }')}`);
    assert.equal(
      csrf.status,
      400,
      'a simple GET without a preflight header is refused (CSRF prevention)',
    );
    // A document that fails to parse or validate, or variables that fail to coerce: 400 for a
    // client that accepts application/graphql-response+json, 200 with the errors for a legacy
    // application/json client (GraphQL-over-HTTP's SHOULD).
    const failures = [
      { query: '{ fleets { name ' },
      { query: '{ noSuchField }' },
      { query: 'query($id: ID!) { fleet(id: $id) { name } }', variables: { id: { not: 'an id' } } },
    ];
    for (const body of failures) {
      for (const [accept, status, type] of [
        ['application/graphql-response+json', 400, /graphql-response\+json/],
        ['application/json', 200, /^application\/json/],
      ] as const) {
        const response = await fetch(federation.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept },
          body: JSON.stringify(body),
        });
        const answer = (await response.json()) as { data?: unknown; errors?: unknown[] };
        assert.equal(response.status, status, `${accept}: ${body.query}`);
        assert.match(response.headers.get('content-type') ?? '', type);
        assert.ok(answer.errors?.length && answer.data === undefined, JSON.stringify(answer));
      }
    }
  });
});
