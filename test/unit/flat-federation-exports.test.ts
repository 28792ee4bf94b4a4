/**
 * router/flatFederationExports.ts swaps @apollo/federation-internals' getter-based index for a
 * plain copy in the CommonJS module cache. What must hold for the gateway: it gets the copy,
 * the copy has only data properties, and it holds every export of the package's own index
 * with the same value (compared against a fresh evaluation of that index).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../router/flatFederationExports.js';

const require = createRequire(import.meta.url);
const indexPath = require.resolve('@apollo/federation-internals');

describe('flat @apollo/federation-internals exports', () => {
  it('when the router has loaded, then require() returns a copy made of data properties', () => {
    const exported = require('@apollo/federation-internals') as Record<string, unknown>;
    assert.equal(require.cache[indexPath]?.exports, exported);
    const descriptors = Object.entries(Object.getOwnPropertyDescriptors(exported));
    assert.ok(descriptors.length > 300, `only ${descriptors.length} exports`);
    const getters = descriptors.filter(([, descriptor]) => descriptor.get).map(([key]) => key);
    assert.deepEqual(getters, []);
    assert.equal(exported['__esModule'], true);
  });

  it('when compared with the package index evaluated afresh, then every export and value is the same', () => {
    const flat = require('@apollo/federation-internals') as Record<string, unknown>;
    const cached = require.cache[indexPath]!;
    // Re-evaluate only the index (its submodules stay cached), then put the copy back.
    delete require.cache[indexPath];
    let original: Record<string, unknown>;
    try {
      original = require(indexPath) as Record<string, unknown>;
    } finally {
      require.cache[indexPath] = cached;
    }
    assert.ok(Object.getOwnPropertyDescriptor(original, 'isNonNullType')?.get, 'index has getters');
    assert.deepEqual(Object.keys(flat).sort(), Object.keys(original).sort());
    const differing = Object.keys(original).filter((key) => flat[key] !== original[key]);
    assert.deepEqual(differing, []);
  });

  it('when @apollo/gateway is loaded after it, then it loads on top of the copy', async () => {
    const { ApolloGateway } = (await import('@apollo/gateway')) as typeof import('@apollo/gateway');
    assert.equal(typeof ApolloGateway, 'function');
    const definitions = require('@apollo/federation-internals/dist/definitions') as {
      isNonNullType: unknown;
    };
    assert.equal(
      (require('@apollo/federation-internals') as Record<string, unknown>)['isNonNullType'],
      definitions.isNonNullType,
    );
  });
});
