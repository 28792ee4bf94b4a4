/**
 * CSRF prevention holds on the cache's hit path too: a request Apollo Server refuses as a
 * potential cross-site request forgery (a "simple" POST, a GET without a preflight header) is
 * not answered from the cache, even when the same query is cached (router/http/csrf.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HeaderMap } from '@apollo/server';
import { passesCsrfPrevention } from '../../router/http/csrf.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { startPrivateRedis, type PrivateRedis } from '../support/privateRedis.js';

/** Apollo Server's own rule, from its internals (not exported): the reference the router's copy must match. */
const { preventCsrf } = (await import(
  new URL('../../node_modules/@apollo/server/dist/esm/preventCsrf.js', import.meta.url).href
)) as { preventCsrf: (headers: HeaderMap, requestHeaders: string[]) => void };

const QUERY = `{ robot(id: "${seedIds.robot(0, 1, 11)}") { id status } }`;

describe('CSRF prevention before the response cache', () => {
  let redis: PrivateRedis;
  let federation: Federation;
  let token: string;
  before(async () => {
    redis = await startPrivateRedis();
    federation = await startFederation({ REDIS_URL: redis.url });
    token = await tokenFor(federation.config, 0, 0);
  });
  after(async () => {
    await federation.close();
    await redis.stop();
  });

  const post = (contentType: string) =>
    fetch(federation.url, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY }),
    });
  const get = (preflight: boolean) =>
    fetch(`${federation.url}?query=${encodeURIComponent(QUERY)}`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(preflight ? { 'apollo-require-preflight': 'true' } : {}),
      },
    });

  it('when a cached query is sent again as a text/plain POST, then it is refused as CSRF, not served', async () => {
    for (let i = 0; i < 3; i++) await post('application/json');
    const cached = await post('application/json');
    assert.equal(cached.headers.get('x-cache'), 'HIT');
    const forged = await post('text/plain');
    assert.equal(forged.status, 400, await forged.clone().text());
    assert.notEqual(forged.headers.get('x-cache'), 'HIT');
    assert.match(await forged.text(), /Cross-Site Request Forgery/);
  });

  it('when a cached GET is sent without a preflight header, then it is refused as CSRF, not served', async () => {
    for (let i = 0; i < 3; i++) await get(true);
    assert.equal((await get(true)).headers.get('x-cache'), 'HIT');
    const forged = await get(false);
    assert.equal(forged.status, 400);
    assert.notEqual(forged.headers.get('x-cache'), 'HIT');
  });

  it("when headers vary, then the router's rule agrees with Apollo Server's", () => {
    const cases: Record<string, string>[] = [
      {},
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json; charset=utf-8' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'TEXT/PLAIN; charset=utf-8' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'text/plain', 'x-apollo-operation-name': 'Q' },
      { 'content-type': 'text/plain', 'apollo-require-preflight': '' },
      { 'apollo-require-preflight': 'yes' },
      { 'content-type': 'not a mime type' },
      { 'content-type': 'application/graphql-response+json' },
    ];
    for (const headers of cases) {
      const map = new HeaderMap(Object.entries(headers));
      let apollo = true;
      try {
        preventCsrf(map, ['x-apollo-operation-name', 'apollo-require-preflight']);
      } catch {
        apollo = false;
      }
      assert.equal(passesCsrfPrevention(map), apollo, JSON.stringify(headers));
    }
  });
});
