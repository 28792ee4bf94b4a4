/**
 * Production starts only with secrets of its own, one per purpose, and trusts only JWTs its
 * identity provider signed (issue 16, item 4; platform/config/secrets.ts and slices.ts).
 *
 * The attack: start with FLEETGRAPH_ENV=production and the development secret printed in the
 * source for JWT_SECRET and IDENTITY_SIGNING_SECRET, then sign in with a token from
 * `npm run token:mint` — or take the key of one purpose (cursors, handed to every client's
 * pages) to forge another (identities). The entry points are started as real processes with
 * the environment an operator would give them: a refused configuration must stop the process
 * (exit 1, one line naming the variable, never its value) before it listens.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { loadRouterConfig, loadSubgraphConfig } from '../../platform/config/load.js';
import { createLogger } from '../../platform/logger.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import { createSubgraphServer, type SubgraphServer } from '../../subgraphs/kit/server.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';
import { startJwksIssuer, type JwksIssuer } from '../support/jwksIssuer.js';
import { cassandraForTest, testEnv } from '../support/stack.js';

/** The one development secret the source published before it was split (issue 16). */
const PUBLISHED = 'fleetgraph-development-secret-do-not-use-in-production';
/** The development identity secret the configuration falls back to (published: in the source). */
const DEVELOPMENT_IDENTITY = loadRouterConfig({
  FLEETGRAPH_ENV: 'development',
}).identitySigningSecret;
const random = () => randomBytes(32).toString('base64url');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Run {
  /** The exit code; null when it was still running after the wait (it started). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs an entry point as `node --import tsx <entry>` with `env` over the test environment.
 * A process still running after `waitMs` accepted its configuration: it is killed (only this
 * child, by its handle) and reported with status null.
 */
function run(entry: string, env: Record<string, string>, waitMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...entry.split(' ')], {
      env: { ...testEnv, QUERY_PLAN_EXECUTOR: 'lean', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, waitMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: timedOut ? null : code, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** Asserts the process refused to start: exit 1, one line, naming what, echoing no secret. */
function assertRefused(result: Run, expected: RegExp[], secrets: string[]): void {
  assert.equal(result.status, 1, `it should not start; stderr: ${result.stderr || '(none)'}`);
  assert.equal(result.stderr.split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /^fleetgraph: Invalid configuration: /);
  for (const pattern of expected) assert.match(result.stderr, pattern);
  for (const secret of secrets) assert.ok(!result.stderr.includes(secret), 'a secret was printed');
}

describe('production start-up refuses published, shared and symmetric secrets (real processes)', () => {
  let issuer: JwksIssuer;
  before(async () => {
    issuer = await startJwksIssuer();
  });
  after(() => issuer?.close());

  /** What production requires of the router, correctly set; each test breaks one rule. */
  const routerEnv = async (): Promise<Record<string, string>> => ({
    FLEETGRAPH_ENV: 'production',
    ROUTER_PORT: String(await freePort()),
    ROUTER_OPS_PORT: String(await freePort()),
    OPERATOR_TOKEN: random(),
    IDENTITY_SIGNING_SECRET: random(),
    JWT_SECRET: '',
    ...issuer.env,
  });
  const fleetEnv = async (): Promise<Record<string, string>> => ({
    FLEETGRAPH_ENV: 'production',
    FLEET_PORT: String(await freePort()),
    IDENTITY_SIGNING_SECRET: random(),
    CURSOR_SIGNING_SECRET: random(),
  });

  it('when the router starts in production with the secret published in the source for JWT_SECRET and IDENTITY_SIGNING_SECRET, then it exits 1 naming them', async () => {
    const result = await run('router/index.ts', {
      FLEETGRAPH_ENV: 'production',
      ROUTER_PORT: String(await freePort()),
      ROUTER_OPS_PORT: String(await freePort()),
      OPERATOR_TOKEN: random(),
      JWT_SECRET: PUBLISHED,
      IDENTITY_SIGNING_SECRET: PUBLISHED,
    });
    assertRefused(
      result,
      [/IDENTITY_SIGNING_SECRET is a published development value/, /JWT_SECRET must not be set/],
      [PUBLISHED],
    );
  });

  it('when a subgraph starts in production with the development identity secret, then it exits 1 naming it', async () => {
    const env = { ...(await fleetEnv()), IDENTITY_SIGNING_SECRET: DEVELOPMENT_IDENTITY };
    assertRefused(
      await run('subgraphs/fleet/index.ts', env),
      [/IDENTITY_SIGNING_SECRET is a published development value/],
      [DEVELOPMENT_IDENTITY],
    );
  });

  it('when JWT_SECRET and IDENTITY_SIGNING_SECRET (or a subgraph identity and cursor secret) are one value, then the process exits 1', async () => {
    const shared = random();
    const router = { ...(await routerEnv()), JWT_SECRET: shared, IDENTITY_SIGNING_SECRET: shared };
    assertRefused(
      await run('router/index.ts', router),
      [/JWT_SECRET must differ from IDENTITY_SIGNING_SECRET/],
      [shared],
    );
    const fleet = {
      ...(await fleetEnv()),
      IDENTITY_SIGNING_SECRET: shared,
      CURSOR_SIGNING_SECRET: shared,
    };
    assertRefused(
      await run('subgraphs/fleet/index.ts', fleet),
      [/CURSOR_SIGNING_SECRET must differ from IDENTITY_SIGNING_SECRET/],
      [shared],
    );
  });

  it('when the router is configured for HS256 in production (JWT_SECRET, no JWT_JWKS_URL), then it exits 1 saying why', async () => {
    const secret = random();
    const env = { ...(await routerEnv()), JWT_JWKS_URL: '', JWT_SECRET: secret };
    assertRefused(
      await run('router/index.ts', env),
      [
        /JWT_SECRET must not be set in production: HS256 tokens are for development/,
        /JWT_JWKS_URL is required in production/,
      ],
      [secret],
    );
  });

  it('when JWT_ISSUER and JWT_AUDIENCE are missing in production, then the router exits 1 naming both', async () => {
    const env = { ...(await routerEnv()), JWT_ISSUER: '', JWT_AUDIENCE: '' };
    assertRefused(
      await run('router/index.ts', env),
      [/JWT_ISSUER is required in production/, /JWT_AUDIENCE is required in production/],
      [],
    );
  });
});

const ROBOTS = `query Robots($id: ID!, $after: String) {
  fleet(id: $id) { robots(first: 2, after: $after) { pageInfo { endCursor } nodes { id } } }
}`;

describe('a router and subgraphs started properly in production', () => {
  const secrets = { IDENTITY_SIGNING_SECRET: random(), CURSOR_SIGNING_SECRET: random() };
  let issuer: JwksIssuer;
  let cassandra: CassandraClient;
  const subgraphs: SubgraphServer[] = [];
  let routerUrl = '';
  let stopRouter = () => undefined as unknown;

  before(async () => {
    issuer = await startJwksIssuer();
    cassandra = await cassandraForTest();
    const urls: string[] = [];
    for (const definition of [usersSubgraph, sessionsSubgraph, fleetSubgraph]) {
      const config = loadSubgraphConfig(definition.name as 'users', {
        ...testEnv,
        FLEETGRAPH_ENV: 'production',
        ...secrets,
      });
      const server = await createSubgraphServer(definition as never, {
        config,
        cassandra,
        logger: createLogger(config, `test-${definition.name}`),
      });
      subgraphs.push(server);
      urls.push(`${definition.name}=${await server.listen(0, '127.0.0.1')}`);
    }
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'router/index.ts'], {
      env: {
        ...testEnv,
        FLEETGRAPH_ENV: 'production',
        QUERY_PLAN_EXECUTOR: 'lean', // testEnv's compare mode is refused in production
        LOG_LEVEL: 'warn',
        ROUTER_PORT: String(port),
        ROUTER_OPS_PORT: String(await freePort()),
        OPERATOR_TOKEN: random(),
        IDENTITY_SIGNING_SECRET: secrets.IDENTITY_SIGNING_SECRET,
        JWT_SECRET: '',
        ...issuer.env,
        SUBGRAPH_URLS: urls.join(','),
        REDIS_KEY_PREFIX: `fgtest-secrets-${process.pid}:`,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    stopRouter = () => child.exitCode === null && child.kill('SIGKILL');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(child.exitCode, null, `the production router did not start: ${stderr}`);
    routerUrl = `http://127.0.0.1:${port}/graphql`;
  });

  after(async () => {
    stopRouter();
    for (const server of subgraphs) await server.close().catch(() => undefined);
    await cassandra?.shutdown();
    await issuer?.close();
  });

  const query = async (token: string, variables: Record<string, unknown>) => {
    const response = await fetch(routerUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: ROBOTS, variables }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: {
          fleet: { robots: { pageInfo: { endCursor: string }; nodes: { id: string }[] } };
        };
        errors?: { message: string; extensions?: { code?: string } }[];
      },
    };
  };
  const admin = () =>
    issuer.mint({
      userId: seedIds.user(0, 0),
      organizationId: seedIds.organization(0),
      roles: ['admin', 'operator', 'viewer'],
      sessionId: seedIds.session(0, 0, 0),
    });
  const fleetId = seedIds.fleet(0, 0);

  it('when a token from npm run token:mint (HS256, the development secret) is presented, then it is refused with 401 UNAUTHENTICATED, while its JWKS-signed twin is served', async () => {
    const minted = await run('scripts/mint-token.ts admin', {
      FLEETGRAPH_ENV: 'development',
      JWT_SECRET: '',
      JWT_JWKS_URL: '',
    });
    assert.equal(minted.status, 0, minted.stderr);
    const developmentToken = minted.stdout;
    assert.match(developmentToken, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const refused = await query(developmentToken, { id: fleetId });
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.equal(refused.body.data, undefined);

    const served = await query(await admin(), { id: fleetId });
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.equal(served.body.errors, undefined, JSON.stringify(served.body.errors));
    assert.equal(served.body.data?.fleet.robots.nodes.length, 2);
  });

  it('when a cursor is re-signed with the identity secret (or the development cursor secret), then the subgraph refuses it; re-signed with the cursor secret it is accepted', async () => {
    const token = await admin();
    const first = await query(token, { id: fleetId });
    const cursor = first.body.data?.fleet.robots.pageInfo.endCursor;
    assert.ok(cursor, JSON.stringify(first.body));
    // The codec's signature (subgraphs/kit/cassandra/pagination.ts: pageAcrossBuckets'
    // fingerprint, robotPages.ts' robotsOfFleet: one partition, the fleet's) over the same body,
    // with another key.
    const [body] = cursor.split('.') as [string];
    const fingerprint = `fleet-robot-page:${fleetId}|${fleetId}`;
    const resign = (key: string) =>
      `${body}.${createHmac('sha256', key)
        .update(`${fingerprint}|${body}`)
        .digest('base64url')
        .slice(0, 32)}`;
    // The forging is exact: with the cursor key it reproduces the subgraph's own cursor.
    assert.equal(resign(secrets.CURSOR_SIGNING_SECRET), cursor, 'the cursor format changed');
    const genuine = await query(token, {
      id: fleetId,
      after: resign(secrets.CURSOR_SIGNING_SECRET),
    });
    assert.equal(genuine.body.errors, undefined, JSON.stringify(genuine.body.errors));
    assert.equal(genuine.body.data?.fleet.robots.nodes.length, 2);

    const developmentCursorKey = loadSubgraphConfig('fleet', {}) as {
      cursorSigningSecret?: string;
    };
    for (const key of [
      secrets.IDENTITY_SIGNING_SECRET,
      developmentCursorKey.cursorSigningSecret ?? DEVELOPMENT_IDENTITY,
    ]) {
      const forged = await query(token, { id: fleetId, after: resign(key) });
      assert.equal(forged.body.data?.fleet ?? null, null, JSON.stringify(forged.body));
      assert.equal(forged.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(forged.body.errors?.[0]?.message ?? '', /not a valid cursor/);
    }
  });
});
