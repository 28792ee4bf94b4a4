/**
 * router/patches/@apollo+gateway+*.patch rewrites the gateway's flattenResultsAtPath (how it
 * gathers the entities under a plan node's path, e.g. `robots.@.operator`) without the
 * per-value allocations. It must return exactly what the stock function returns. The function
 * is module-private, so both versions are taken from their files — the patched install in
 * node_modules/@apollo/gateway and the stock copy installed as apollo-gateway-stock — and run
 * on generated results and paths, with their two collaborators (assert, getOwn) supplied.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { flattenAt } from '../../router/execution/mergedData.js';

type Flatten = (value: unknown, path: readonly (string | number)[]) => unknown;

const require = createRequire(import.meta.url);

function flattenFrom(packageName: string): Flatten {
  const file = join(
    dirname(require.resolve(`${packageName}/package.json`)),
    'dist/executeQueryPlan.js',
  );
  const source = readFileSync(file, 'utf8');
  // From the function to the next top-level function the patch does not touch.
  const start = source.indexOf('function flattenResultsAtPath(');
  const end = source.indexOf('function downstreamServiceError(');
  assert.ok(start > 0 && end > start, `flattenResultsAtPath not found in ${file}`);
  const federationInternals = {
    assert(condition: unknown, message: string | (() => string)) {
      if (!condition) throw new Error(typeof message === 'function' ? message() : message);
    },
  };
  const own = {
    getOwn: (obj: object, prop: string) =>
      Object.prototype.hasOwnProperty.call(obj, prop)
        ? (obj as Record<string, unknown>)[prop]
        : undefined,
  };
  return new Function(
    'federation_internals_1',
    'own_1',
    `${source.slice(start, end)}\nreturn flattenResultsAtPath;`,
  )(federationInternals, own) as Flatten;
}

/** Outcome of a call: its value, or the message it threw (both versions must agree on both). */
function outcome(flatten: Flatten, value: unknown, path: readonly (string | number)[]) {
  try {
    return { value: flatten(value, path) };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

const key = fc.constantFrom('a', 'b', 'c');
// Results as subgraphs return them: objects keyed a/b/c, lists (with holes), nulls.
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, undefined, 1, 'x'),
    fc.dictionary(key, tie('tree'), { maxKeys: 3 }),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.sparseArray(tie('tree'), { maxLength: 4 }),
  ),
}));
const path = fc.array(fc.oneof(key, fc.constant('@'), fc.constant(0)), { maxLength: 5 });

const patched = flattenFrom('@apollo/gateway');
const stock = flattenFrom('apollo-gateway-stock');

describe('the @apollo/gateway patch (flattenResultsAtPath)', () => {
  it('when the installed gateway is read, then it carries the patch and the stock copy does not', () => {
    const read = (name: string) =>
      readFileSync(
        join(dirname(require.resolve(`${name}/package.json`)), 'dist/executeQueryPlan.js'),
        'utf8',
      );
    assert.match(read('@apollo/gateway'), /function flattenResultsFrom\(/);
    assert.doesNotMatch(read('apollo-gateway-stock'), /function flattenResultsFrom\(/);
  });

  it('when both versions flatten generated results along generated paths, then they agree', () => {
    fc.assert(
      fc.property(tree, path, (value, steps) => {
        assert.deepEqual(outcome(patched, value, steps), outcome(stock, value, steps));
      }),
      { numRuns: 3000 },
    );
  });

  it('when the lean executor flattens generated results along generated paths, then it agrees with the stock function', () => {
    const lean: Flatten = (value, steps) => flattenAt(value, steps, 0);
    fc.assert(
      fc.property(tree, path, (value, steps) => {
        assert.deepEqual(outcome(lean, value, steps), outcome(stock, value, steps));
      }),
      { numRuns: 5000 },
    );
  });

  it('when a dashboard-shaped result is flattened at robots.@.operator, then the operators come back in order', () => {
    const result = {
      robots: [{ operator: { id: 'u1' } }, { operator: null }, { operator: { id: 'u2' } }],
    };
    const path = ['robots', '@', 'operator'];
    assert.deepEqual(patched(result, path), [{ id: 'u1' }, null, { id: 'u2' }]);
    assert.deepEqual(patched(result, path), stock(result, path));
  });
});
