/**
 * router/pipeline/cacheLookup.ts isMutationBody: which bodies skip the response cache's policy
 * lookup. A wrong answer costs only the cache (see there); these pin what it recognises.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMutationBody } from '../../router/pipeline/cacheLookup.js';

const body = (value: Record<string, unknown>) => JSON.stringify(value);

describe('isMutationBody', () => {
  it('recognises a mutation document, whatever the key order and leading whitespace', () => {
    assert.equal(isMutationBody(body({ query: 'mutation M($a: ID!) { x(a: $a) }' })), true);
    assert.equal(isMutationBody(body({ variables: { a: 1 }, query: '\n  mutation { x }' })), true);
    assert.equal(isMutationBody(body({ query: 'mutation{x}', operationName: null })), true);
  });

  it('leaves queries, shorthand documents, persisted hashes and comments to the lookup', () => {
    assert.equal(isMutationBody(body({ query: 'query Q { mutation }' })), false);
    assert.equal(isMutationBody(body({ query: '{ robot(id: "mutation") { id } }' })), false);
    assert.equal(isMutationBody(body({ query: '# a comment\nmutation { x }' })), false);
    assert.equal(
      isMutationBody(body({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } })),
      false,
    );
    assert.equal(isMutationBody(undefined), false);
  });
});
