/**
 * Imported by server.ts before @apollo/gateway, for one reason: speed.
 *
 * @apollo/federation-internals is compiled by TypeScript to CommonJS, and its index re-exports
 * every submodule through `__exportStar`, which defines each of its ~300 exports as a getter
 * (`get: function () { return m[k]; }`). The gateway calls those exports in its innermost loops
 * (`federation_internals_1.isNonNullType(type)` in result shaping, `assert` per value, …), so
 * every call first runs a getter, and since all the getters are closures of one function, the
 * `m[k]` inside them is a megamorphic keyed load. In the router-bound CPU profile that getter
 * (`get`, federation-internals/dist/index.js:6) was 6 % of the router's busy time.
 *
 * Fix without patching node_modules: load the index once, copy its exports into a plain object
 * (the spread evaluates each getter once) and put that object in its place in the CommonJS
 * module cache, so the gateway and the query planner, which `require` it afterwards, read data
 * properties. Safe because the exports are final once the package has loaded: no submodule
 * reassigns an export after its own top level has run (checked for 2.14.x: no `exports.x =`
 * inside a function). If a future version did, the copy would keep the first value; the
 * router-bound benchmark and the e2e suite run over this path.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const indexPath = require.resolve('@apollo/federation-internals');
const loaded = require(indexPath) as Record<string, unknown>;
const cached = require.cache[indexPath];
if (cached && Object.getOwnPropertyDescriptor(loaded, 'isNonNullType')?.get) {
  const flat: Record<string, unknown> = { ...loaded };
  Object.defineProperty(flat, '__esModule', { value: true });
  cached.exports = flat;
}
