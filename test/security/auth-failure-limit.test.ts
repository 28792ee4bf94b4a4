/**
 * Failed authentication is limited per client address, and a malformed API key costs no
 * Cassandra read (security issue 16). The limit is 5 failures a minute here (RATE_LIMITS
 * `auth-failure=5`); each case comes from its own loopback address (127.0.0.x), so the cases
 * do not share a count.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { request } from 'node:http';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startSession } from '../support/sessions.js';
import { seedIds } from '../../scripts/seed-ids.js';

const LIMIT = 5;

describe('failed authentication is limited per address', () => {
  let federation: Federation;
  let keyReads = 0;

  before(async () => {
    federation = await startFederation({
      RATE_LIMITS: `user=100000,anonymous=100000,auth-failure=${LIMIT}`,
      RESPONSE_CACHE: 'false',
    });
    // Counts the router's API key lookups (the subgraphs never read api_keys_by_id).
    const client = federation.cassandra as unknown as {
      execute: (query: string, ...rest: unknown[]) => Promise<unknown>;
    };
    const execute = client.execute.bind(client);
    client.execute = (query, ...rest) => {
      if (query.includes('api_keys_by_id')) keyReads += 1;
      return execute(query, ...rest);
    };
  });
  after(async () => {
    await federation.close();
  });

  /** Sends `{ __typename }` from `address` with `headers`; status, Retry-After and code. */
  function from(address: string, headers: Record<string, string>) {
    return new Promise<{ status: number; retryAfter: string | undefined; code?: string }>(
      (resolve, reject) => {
        const sent = request(
          federation.url,
          {
            method: 'POST',
            localAddress: address,
            headers: { 'content-type': 'application/json', ...headers },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                errors?: { extensions?: { code?: string } }[];
              };
              const retryAfter = response.headers['retry-after'];
              resolve({
                status: response.statusCode ?? 0,
                retryAfter,
                ...(body.errors?.[0]?.extensions?.code
                  ? { code: body.errors[0].extensions.code }
                  : {}),
              });
            });
          },
        );
        sent.on('error', reject);
        sent.end(JSON.stringify({ query: '{ __typename }' }));
      },
    );
  }

  const secret = () => randomBytes(32).toString('base64url');

  it('when an API key is malformed (not hex id, impossible last character, wrong prefix), then it is refused without a Cassandra read', async () => {
    const before = keyReads;
    const malformed = [
      `fgk_zzzzzzzzzzzzzzzz_${secret()}`,
      `fgk_${randomBytes(8).toString('hex')}_${secret().slice(0, 42)}B`,
      `fgx_${randomBytes(8).toString('hex')}_${secret()}`,
    ];
    for (const key of malformed) {
      const answer = await from('127.0.0.2', { 'x-api-key': key });
      assert.equal(answer.status, 401, key);
    }
    assert.equal(keyReads, before, 'no api_keys_by_id read for a malformed key');
  });

  it('when one address presents random API keys past the limit, then it gets 429 RATE_LIMITED with Retry-After, before any Cassandra read', async () => {
    const address = '127.0.0.3';
    for (let i = 0; i < LIMIT; i++) {
      const key = `fgk_${randomBytes(8).toString('hex')}_${secret()}`;
      assert.equal((await from(address, { 'x-api-key': key })).status, 401);
    }
    const before = keyReads;
    const limited = await from(address, {
      'x-api-key': `fgk_${randomBytes(8).toString('hex')}_${secret()}`,
    });
    assert.equal(limited.status, 429);
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.ok(Number(limited.retryAfter) >= 1 && Number(limited.retryAfter) <= 60);
    assert.equal(keyReads, before, 'a limited request reads nothing');
    // Another address is not held back by this one's failures.
    const other = await from('127.0.0.4', {
      'x-api-key': `fgk_${randomBytes(8).toString('hex')}_${secret()}`,
    });
    assert.equal(other.status, 401);
  });

  it('when one address presents bad JWTs past the limit, then it gets 429, while a valid token from elsewhere works', async () => {
    const address = '127.0.0.5';
    const valid = await tokenFor(federation.config, 0, 0);
    const forged = `${valid.slice(0, -4)}AAAA`;
    for (let i = 0; i < LIMIT; i++)
      assert.equal((await from(address, { authorization: `Bearer ${forged}` })).status, 401);
    const limited = await from(address, { authorization: `Bearer ${forged}` });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.retryAfter) >= 1);
    assert.equal((await from('127.0.0.6', { authorization: `Bearer ${valid}` })).status, 200);
  });

  it('when one address presents a revoked session past the limit, then it gets 429: a refusal by the revocation check, which runs behind the request, counts like any other', async () => {
    const user = { userId: seedIds.user(0, 1), organizationId: seedIds.organization(0) };
    const sessionId = await startSession(federation, user, { revoked: true });
    const token = await tokenFor(federation.config, 0, 1, ['viewer'], { sessionId });
    const address = '127.0.0.7';
    for (let i = 0; i < LIMIT; i++) {
      const refused = await from(address, { authorization: `Bearer ${token}` });
      assert.deepEqual([refused.status, refused.code], [401, 'UNAUTHENTICATED']);
    }
    assert.equal((await from(address, { authorization: `Bearer ${token}` })).status, 429);
  });
});
