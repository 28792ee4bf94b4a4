/**
 * graphql-http's server audit (the GraphQL-over-HTTP specification's MUSTs and SHOULDs) against
 * the router, as a developer's client meets it: no failure and no warning.
 *
 * @remarks
 * The audit's requests carry the header Apollo Server's CSRF prevention asks of a GET
 * (`apollo-require-preflight`): without it a GET is refused by design (docs/security.md 6e),
 * which is not a conformance question. Nothing else is added to them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditServer } from 'graphql-http';
import { startFederation, type Federation } from '../support/federation.js';

describe('GraphQL-over-HTTP conformance (graphql-http audit)', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ RATE_LIMITS: 'anonymous=1000000' });
  });
  after(async () => {
    await federation.close();
  });

  it('when the audit runs against the router, then every audit is ok: no failure and no warning', async () => {
    const withPreflight = (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set('apollo-require-preflight', 'true');
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url: federation.url, fetchFn: withPreflight });
    const notOk = results
      .filter((result) => result.status !== 'ok')
      .map((result) => `${result.status}: ${result.name}`);
    assert.ok(results.length > 50, `only ${results.length} audits ran`);
    assert.deepEqual(notOk, []);
  });
});
