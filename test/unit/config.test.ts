import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ConfigError,
  loadRouterConfig,
  loadSubgraphConfig,
  loadToolConfig,
  type Environment,
} from '../../platform/config/load.js';
import { DEVELOPMENT_SECRETS, PUBLISHED_SECRETS } from '../../platform/config/secrets.js';

const random = () => randomBytes(32).toString('base64url');
/** What production requires of the router's JWT settings and secrets (values of this run). */
const PRODUCTION = {
  FLEETGRAPH_ENV: 'production',
  JWT_JWKS_URL: 'https://id.example/.well-known/jwks.json',
  JWT_ISSUER: 'https://id.example/',
  JWT_AUDIENCE: 'fleetgraph',
  IDENTITY_SIGNING_SECRET: random(),
  CURSOR_SIGNING_SECRET: random(),
  OPERATOR_TOKEN: random(),
};

/** Loads every slice from one environment: a bad variable must fail whichever reads it. */
function loadEverySlice(env: Environment) {
  return {
    ...loadToolConfig(env),
    ...loadSubgraphConfig('users', env),
    ...loadRouterConfig(env),
  };
}

describe('configuration', () => {
  it('when nothing is set, then it yields the single-node development defaults', () => {
    const config = loadEverySlice({});
    assert.deepEqual(config.cassandra.contactPoints, ['127.0.0.1:9042']);
    assert.equal(config.cassandra.port, 9042);
    assert.equal(config.cassandra.localDataCenter, 'datacenter1');
    assert.deepEqual(config.cassandra.replication, {
      class: 'SimpleStrategy',
      replication_factor: '1',
    });
    assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
  });

  it('when a slice is loaded, then it is deeply frozen', () => {
    const config = loadRouterConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.cassandra.contactPoints));
    assert.ok(Object.isFrozen(config.limits));
    assert.ok(Object.isFrozen(config.jwt));
  });

  it('when each process loads its slice, then it sees only its own settings', () => {
    const env = { USERS_PORT: '5101', FLEET_PORT: '5103', ROUTER_PORT: '5100' };
    const router = loadRouterConfig(env);
    const fleet = loadSubgraphConfig('fleet', env);
    const tool = loadToolConfig(env);
    assert.equal(router.port, 5100);
    assert.equal(fleet.port, 5103);
    assert.equal(fleet.name, 'fleet');
    assert.equal(loadSubgraphConfig('users', env).port, 5101);
    assert.equal(loadSubgraphConfig('sessions', env).port, 4002);
    // The router knows no subgraph port, a subgraph no JWT or rate-limit setting (and only the
    // fleet subgraph, for its change events, a Redis one), and a command-line tool neither
    // secrets nor ports.
    assert.ok(!JSON.stringify(router).includes('5103'));
    for (const key of ['jwt', 'rateLimits', 'limits', 'responseCache'])
      assert.ok(!(key in fleet), `fleet slice has ${key}`);
    assert.equal(fleet.redis?.url, 'redis://127.0.0.1:6379');
    for (const name of ['users', 'sessions'] as const)
      assert.ok(!('redis' in loadSubgraphConfig(name, env)), `${name} slice has redis`);
    for (const key of ['jwt', 'identitySigningSecret', 'cursorSigningSecret', 'port'])
      assert.ok(!(key in tool), `tool slice has ${key}`);
    assert.ok(!('cursorSigningSecret' in router), 'the router never sees the cursor secret');
  });

  it('when nothing is set outside production, then each purpose has its own development secret', () => {
    const router = loadRouterConfig({});
    const fleet = loadSubgraphConfig('fleet', {});
    const secrets = [
      router.jwt.mode === 'hs256' && router.jwt.secret,
      router.identitySigningSecret,
      fleet.cursorSigningSecret,
      router.ops.operatorToken,
    ];
    assert.deepEqual(secrets, Object.values(DEVELOPMENT_SECRETS));
    assert.equal(new Set(secrets).size, 4);
    assert.equal(fleet.identitySigningSecret, router.identitySigningSecret);
  });

  it('when JWT_JWKS_URL is set, then JWTs are verified by JWKS; otherwise by the shared secret', () => {
    const jwks = loadRouterConfig({ JWT_JWKS_URL: 'https://id.example/jwks', JWT_ISSUER: 'i' });
    assert.deepEqual(
      { ...jwks.jwt },
      { mode: 'jwks', url: 'https://id.example/jwks', issuer: 'i', clockToleranceSeconds: 30 },
    );
    const hs256 = loadRouterConfig({ JWT_SECRET: 's'.repeat(32) });
    assert.equal(hs256.jwt.mode, 'hs256');
    assert.equal(hs256.jwt.mode === 'hs256' && hs256.jwt.secret, 's'.repeat(32));
  });

  it('when RESPONSE_CACHE is false, then the cache settings are the disabled mode alone', () => {
    assert.deepEqual(
      { ...loadRouterConfig({ RESPONSE_CACHE: 'false' }).responseCache },
      {
        enabled: false,
      },
    );
    assert.deepEqual(
      { ...loadRouterConfig({ RESPONSE_CACHE_MIN_USES: '3' }).responseCache },
      { enabled: true, minUses: 3 },
    );
  });

  it('when a subgraph starts in production without its secrets, then it refuses naming them', () => {
    assert.throws(
      () => loadSubgraphConfig('fleet', { FLEETGRAPH_ENV: 'production' }),
      /Invalid configuration: IDENTITY_SIGNING_SECRET is required in production; CURSOR_SIGNING_SECRET is required in production$/,
    );
  });

  it('when production variables are set, then a multi-node cluster with NetworkTopologyStrategy is described', () => {
    const config = loadEverySlice({
      ...PRODUCTION,
      CASSANDRA_CONTACT_POINTS: '10.0.0.1:19042, 10.0.0.2,10.0.0.3:19042',
      CASSANDRA_LOCAL_DC: 'eu-west',
      CASSANDRA_REPLICATION: 'NetworkTopologyStrategy:eu-west=3,us-east=3',
      CASSANDRA_READ_CONSISTENCY: 'LOCAL_QUORUM',
      CASSANDRA_WRITE_CONSISTENCY: 'LOCAL_QUORUM',
      CASSANDRA_USERNAME: 'fleet',
      CASSANDRA_PASSWORD: 'pw',
      CASSANDRA_TLS: 'true',
      REDIS_URL: 'rediss://cache.internal:6380',
    });
    assert.deepEqual(config.cassandra.contactPoints, [
      '10.0.0.1:19042',
      '10.0.0.2',
      '10.0.0.3:19042',
    ]);
    assert.equal(config.cassandra.port, 19042);
    assert.deepEqual(config.cassandra.replication, {
      class: 'NetworkTopologyStrategy',
      'eu-west': '3',
      'us-east': '3',
    });
    assert.equal(config.cassandra.writeConsistency, 'LOCAL_QUORUM');
    assert.deepEqual(config.cassandra.credentials, { username: 'fleet', password: 'pw' });
    assert.deepEqual(config.cassandra.tls, {});
    assert.equal(config.identitySigningSecret, PRODUCTION.IDENTITY_SIGNING_SECRET);
    assert.equal(config.cursorSigningSecret, PRODUCTION.CURSOR_SIGNING_SECRET);
    assert.equal(config.jwt.mode, 'jwks');
  });

  const badInputs: [string, Record<string, string>, RegExp][] = [
    [
      'an invalid port',
      { USERS_PORT: '70000' },
      /^Invalid configuration: USERS_PORT must be between 1 and 65535 \(got "70000"\)$/,
    ],
    ['a non-numeric port', { ROUTER_PORT: 'http' }, /ROUTER_PORT must be a port number/],
    [
      'a missing secret in production',
      { ...PRODUCTION, IDENTITY_SIGNING_SECRET: '' },
      /IDENTITY_SIGNING_SECRET is required in production/,
    ],
    [
      'a published development secret in production',
      { ...PRODUCTION, CURSOR_SIGNING_SECRET: DEVELOPMENT_SECRETS.CURSOR_SIGNING_SECRET },
      /CURSOR_SIGNING_SECRET is a published development value/,
    ],
    [
      'a placeholder secret in production',
      { ...PRODUCTION, IDENTITY_SIGNING_SECRET: 'x'.repeat(40) },
      /IDENTITY_SIGNING_SECRET looks like a placeholder/,
    ],
    [
      'one secret for identities and cursors',
      { ...PRODUCTION, CURSOR_SIGNING_SECRET: PRODUCTION.IDENTITY_SIGNING_SECRET },
      /CURSOR_SIGNING_SECRET must differ from IDENTITY_SIGNING_SECRET/,
    ],
    [
      'JWT_SECRET in production',
      { ...PRODUCTION, JWT_SECRET: random() },
      /JWT_SECRET must not be set in production: HS256 tokens are for development/,
    ],
    [
      'no JWKS in production',
      { ...PRODUCTION, JWT_JWKS_URL: '' },
      /JWT_JWKS_URL is required in production/,
    ],
    [
      'a plain-http JWKS on another host in production',
      { ...PRODUCTION, JWT_JWKS_URL: 'http://id.example/jwks.json' },
      /JWT_JWKS_URL must be https in production/,
    ],
    [
      'no issuer or audience in production',
      { ...PRODUCTION, JWT_ISSUER: '', JWT_AUDIENCE: '' },
      /JWT_ISSUER is required in production; JWT_AUDIENCE is required in production/,
    ],
    [
      'a short secret',
      { IDENTITY_SIGNING_SECRET: 'short' },
      /IDENTITY_SIGNING_SECRET must be at least 32 characters/,
    ],
    [
      'an unknown consistency',
      { CASSANDRA_READ_CONSISTENCY: 'MOST' },
      /CASSANDRA_READ_CONSISTENCY/,
    ],
    [
      'a malformed replication',
      { CASSANDRA_REPLICATION: 'NetworkTopologyStrategy:dc1' },
      /CASSANDRA_REPLICATION must be SimpleStrategy/,
    ],
    [
      'contact points on different ports',
      { CASSANDRA_CONTACT_POINTS: '10.0.0.1:9042,10.0.0.2:9142' },
      /CASSANDRA_CONTACT_POINTS must use one port for every node \(got 9042, 9142\)/,
    ],
    ['a non-redis URL', { REDIS_URL: 'http://x' }, /REDIS_URL must start with redis:\/\//],
    [
      'the executors compared in production',
      { ...PRODUCTION, QUERY_PLAN_EXECUTOR: 'compare' },
      /QUERY_PLAN_EXECUTOR compare is for tests/,
    ],
    ['an unknown executor', { QUERY_PLAN_EXECUTOR: 'fast' }, /QUERY_PLAN_EXECUTOR/],
    [
      'a username without password',
      { CASSANDRA_USERNAME: 'u' },
      /CASSANDRA_USERNAME and CASSANDRA_PASSWORD must be set together/,
    ],
  ];
  for (const [what, env, expected] of badInputs) {
    it(`when given ${what}, then it throws one line naming the variable`, () => {
      assert.throws(
        () => loadEverySlice(env),
        (error: unknown) =>
          error instanceof ConfigError &&
          expected.test(error.message) &&
          !error.message.includes('\n'),
      );
    });
  }

  it('when the docs, docker-compose.yml or an .env example show a secret, then production refuses it', () => {
    const files = [
      'README.md',
      'bench/README.md',
      'docker-compose.yml',
      ...readdirSync('docs').map((name) => `docs/${name}`),
      ...readdirSync('.').filter((name) => name.startsWith('.env')),
    ].filter((file) => /\.(md|ya?ml)$|^\.env/.test(file));
    // `JWT_SECRET=value`, `IDENTITY_SIGNING_SECRET: "value"`, not `${VAR:-}` substitutions.
    const example = /\b[A-Z_]*(?:SECRET|TOKEN)\b\s*[=:]\s*['"]?([^\s'"$`|]{8,})/g;
    const shown = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(example)].map((m) => [file, m[1]!] as const),
    );
    for (const [file, value] of shown)
      assert.ok(
        PUBLISHED_SECRETS.includes(value),
        `${file} shows a secret missing from secrets.ts`,
      );
    for (const value of PUBLISHED_SECRETS)
      assert.throws(
        () => loadSubgraphConfig('fleet', { ...PRODUCTION, CURSOR_SIGNING_SECRET: value }),
        /CURSOR_SIGNING_SECRET is a published development value/,
      );
  });

  it('when a secret is invalid, then its value is not echoed', () => {
    assert.throws(
      () => loadEverySlice({ JWT_SECRET: 'hunter2' }),
      (error: unknown) => !(error as Error).message.includes('hunter2'),
    );
    const shared = random();
    for (const env of [
      { ...PRODUCTION, JWT_SECRET: shared, IDENTITY_SIGNING_SECRET: shared },
      { ...PRODUCTION, IDENTITY_SIGNING_SECRET: DEVELOPMENT_SECRETS.IDENTITY_SIGNING_SECRET },
    ])
      assert.throws(
        () => loadEverySlice(env),
        (error: unknown) =>
          error instanceof ConfigError &&
          !error.message.includes(shared) &&
          !error.message.includes(DEVELOPMENT_SECRETS.IDENTITY_SIGNING_SECRET),
      );
  });
});
