import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  loadRouterConfig,
  loadSubgraphConfig,
  loadToolConfig,
  type Environment,
} from '../../platform/config/load.js';

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
    // The router knows no subgraph port, a subgraph no JWT, rate-limit or Redis setting, and a
    // command-line tool neither secrets nor ports.
    assert.ok(!JSON.stringify(router).includes('5103'));
    for (const key of ['jwt', 'rateLimits', 'redis', 'limits', 'responseCache'])
      assert.ok(!(key in fleet), `fleet slice has ${key}`);
    for (const key of ['jwt', 'identitySigningSecret', 'port'])
      assert.ok(!(key in tool), `tool slice has ${key}`);
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

  it('when a subgraph starts in production without the identity secret, then it refuses naming it', () => {
    assert.throws(
      () => loadSubgraphConfig('fleet', { FLEETGRAPH_ENV: 'production' }),
      /Invalid configuration: IDENTITY_SIGNING_SECRET is required in production$/,
    );
  });

  it('when production variables are set, then a multi-node cluster with NetworkTopologyStrategy is described', () => {
    const config = loadEverySlice({
      FLEETGRAPH_ENV: 'production',
      CASSANDRA_CONTACT_POINTS: '10.0.0.1:19042, 10.0.0.2,10.0.0.3:19042',
      CASSANDRA_LOCAL_DC: 'eu-west',
      CASSANDRA_REPLICATION: 'NetworkTopologyStrategy:eu-west=3,us-east=3',
      CASSANDRA_READ_CONSISTENCY: 'LOCAL_QUORUM',
      CASSANDRA_WRITE_CONSISTENCY: 'LOCAL_QUORUM',
      CASSANDRA_USERNAME: 'fleet',
      CASSANDRA_PASSWORD: 'pw',
      CASSANDRA_TLS: 'true',
      REDIS_URL: 'rediss://cache.internal:6380',
      IDENTITY_SIGNING_SECRET: 'x'.repeat(40),
      JWT_SECRET: 'y'.repeat(40),
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
    assert.equal(config.identitySigningSecret, 'x'.repeat(40));
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
      { FLEETGRAPH_ENV: 'production', JWT_SECRET: 'z'.repeat(32) },
      /IDENTITY_SIGNING_SECRET is required in production/,
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

  it('when a secret is invalid, then its value is not echoed', () => {
    assert.throws(
      () => loadEverySlice({ JWT_SECRET: 'hunter2' }),
      (error: unknown) => !(error as Error).message.includes('hunter2'),
    );
  });
});
