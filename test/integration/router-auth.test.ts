import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ApiKeyStore } from '../../router/auth/apiKeys.js';
import { JwtVerifier } from '../../router/auth/jwt.js';
import { seedIds } from '../../scripts/seed-ids.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { loadRouterConfig } from '../../platform/config/load.js';
import { cassandraForTest } from '../support/stack.js';

/** The router's JWT settings for these variables. */
const jwtOf = (env: Record<string, string>) => loadRouterConfig(env).jwt;

describe('production JWTs from a JWKS endpoint', () => {
  let jwks: Server;
  let url: string;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  before(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

  const sign = (claims: { iss?: string; aud?: string; exp?: number }) =>
    new SignJWT({ org: seedIds.organization(0), roles: ['viewer'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setSubject(seedIds.user(0, 2))
      .setIssuer(claims.iss ?? 'https://auth.example.com/')
      .setAudience(claims.aud ?? 'fleetgraph')
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '5m')
      .sign(privateKey);

  it('when a token is signed by a JWKS key with the right issuer and audience, then it verifies', async () => {
    const verifier = new JwtVerifier(
      jwtOf({
        JWT_JWKS_URL: url,
        JWT_ISSUER: 'https://auth.example.com/',
        JWT_AUDIENCE: 'fleetgraph',
      }),
    );
    const identity = await verifier.verify(await sign({}));
    assert.equal(identity.userId, seedIds.user(0, 2));
    assert.deepEqual(identity.roles, ['viewer']);
  });

  it('when the audience or issuer is wrong, or it expired beyond the clock skew, then it is refused', async () => {
    const verifier = new JwtVerifier(
      jwtOf({
        JWT_JWKS_URL: url,
        JWT_ISSUER: 'https://auth.example.com/',
        JWT_AUDIENCE: 'fleetgraph',
        JWT_CLOCK_TOLERANCE_SECONDS: '30',
      }),
    );
    await assert.rejects(
      verifier.verify(await sign({ aud: 'someone-else' })),
      /The token is invalid/,
    );
    await assert.rejects(
      verifier.verify(await sign({ iss: 'https://evil.example.com/' })),
      /The token is invalid/,
    );
    await assert.rejects(
      verifier.verify(await sign({ exp: Math.floor(Date.now() / 1000) - 120 })),
      /The token has expired/,
    );
    // Within the tolerated skew an expired token still passes.
    const justExpired = await sign({ exp: Math.floor(Date.now() / 1000) - 10 });
    assert.equal((await verifier.verify(justExpired)).userId, seedIds.user(0, 2));
  });

  it('when an HS256 development token is presented to a JWKS-configured router, then it is refused', async () => {
    const verifier = new JwtVerifier(jwtOf({ JWT_JWKS_URL: url }));
    const hs256 = await new SignJWT({ org: seedIds.organization(0) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(seedIds.user(0, 0))
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(40)));
    await assert.rejects(verifier.verify(hs256), /The token is invalid/);
  });
});

describe('HS256 JWTs signed with JWT_SECRET', () => {
  const secret = 'a-test-secret-of-at-least-32-characters!';
  const config = (extra: Record<string, string> = {}) =>
    jwtOf({ JWT_SECRET: secret, JWT_CLOCK_TOLERANCE_SECONDS: '30', ...extra });
  const sign = (
    claims: { iss?: string; aud?: string; exp?: number; nbf?: number; alg?: string } = {},
    key = secret,
  ) => {
    const jwt = new SignJWT({ org: seedIds.organization(0), roles: ['operator'] })
      .setProtectedHeader({ alg: claims.alg ?? 'HS256' })
      .setSubject(seedIds.user(0, 3))
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '5m');
    if (claims.iss) jwt.setIssuer(claims.iss);
    if (claims.aud) jwt.setAudience(claims.aud);
    if (claims.nbf) jwt.setNotBefore(claims.nbf);
    return jwt.sign(new TextEncoder().encode(key));
  };
  const now = () => Math.floor(Date.now() / 1000);

  it('when a token is signed with the secret, then it verifies to its identity', async () => {
    const identity = await new JwtVerifier(config()).verify(await sign());
    assert.equal(identity.userId, seedIds.user(0, 3));
    assert.equal(identity.organizationId, seedIds.organization(0));
    assert.deepEqual(identity.roles, ['operator']);
  });

  it('when the signature, algorithm or claims are wrong, then it is refused with the reason', async () => {
    const verifier = new JwtVerifier(config());
    const good = await sign();
    await assert.rejects(
      verifier.verify(await sign({}, 'another-secret-of-32-characters-or-more')),
      /The token is invalid/,
    );
    // A flipped byte in the signature.
    const tampered = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
    await assert.rejects(verifier.verify(tampered), /The token is invalid/);
    await assert.rejects(verifier.verify(await sign({ alg: 'HS512' })), /The token is invalid/);
    const [, payload] = good.split('.');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    await assert.rejects(verifier.verify(unsigned), /The token is invalid/);
    await assert.rejects(verifier.verify('not.a.jwt'), /The token is invalid/);
    await assert.rejects(
      verifier.verify(await sign({ exp: now() - 120 })),
      /The token has expired/,
    );
    await assert.rejects(verifier.verify(await sign({ nbf: now() + 120 })), /The token is invalid/);
    // Within the tolerated skew, both still pass.
    assert.ok(await verifier.verify(await sign({ exp: now() - 10 })));
    assert.ok(await verifier.verify(await sign({ nbf: now() + 10 })));
  });

  it('when an issuer and audience are configured, then tokens without them are refused', async () => {
    const verifier = new JwtVerifier(
      config({ JWT_ISSUER: 'https://auth.example.com/', JWT_AUDIENCE: 'fleetgraph' }),
    );
    assert.ok(
      await verifier.verify(await sign({ iss: 'https://auth.example.com/', aud: 'fleetgraph' })),
    );
    await assert.rejects(
      verifier.verify(await sign({ aud: 'fleetgraph' })),
      /The token is invalid/,
    );
    await assert.rejects(
      verifier.verify(await sign({ iss: 'https://auth.example.com/', aud: 'other' })),
      /The token is invalid/,
    );
  });
});

describe('partner API keys in Cassandra', () => {
  let cassandra: CassandraClient;
  let store: ApiKeyStore;
  before(async () => {
    cassandra = await cassandraForTest();
    store = new ApiKeyStore(cassandra);
  });
  after(() => cassandra.shutdown());

  it('when a key is rotated, then the new key works, the old one is revoked, and only a hash is stored', async () => {
    const old = await store.create({
      organizationId: seedIds.organization(2),
      name: 'rotate me',
      scopes: ['fleet:read'],
      rateClass: 'partner-standard',
      expiresAt: null,
    });
    const rotated = await store.rotate(old.keyId);
    assert.ok(rotated);
    const fresh = new ApiKeyStore(cassandra); // no in-process cache
    const accepted = await fresh.authenticate(rotated.token);
    assert.ok(!(accepted instanceof Error));
    assert.equal(accepted.identity.organizationId, seedIds.organization(2));
    assert.deepEqual(accepted.identity.scopes, ['fleet:read']);
    const refused = await fresh.authenticate(old.token);
    assert.ok(refused instanceof Error && refused.message === 'The API key has been revoked');
    const row = await cassandra.execute(
      'SELECT secret_sha256, replaced_by FROM api_keys_by_id WHERE key_id = ?',
      [old.keyId],
      { prepare: true },
    );
    assert.equal(row.first()['replaced_by'], rotated.keyId);
    assert.ok(
      !old.token.includes(row.first()['secret_sha256'] as string),
      'the secret itself is not stored',
    );
  });

  it('when a key has expired, is malformed or has a wrong secret, then it is refused', async () => {
    const expired = await store.create({
      organizationId: seedIds.organization(2),
      name: 'expired',
      scopes: [],
      rateClass: 'partner-standard',
      expiresAt: new Date(Date.now() - 1000),
    });
    assert.equal(
      ((await store.authenticate(expired.token)) as Error).message,
      'The API key has expired',
    );
    assert.equal(
      ((await store.authenticate('fgk_nope')) as Error).message,
      'The API key is malformed',
    );
    const wrong = `${expired.token.slice(0, -4)}AAAA`;
    assert.equal(((await store.authenticate(wrong)) as Error).message, 'The API key is invalid');
  });
});
