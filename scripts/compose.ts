/**
 * `npm run schema:compose`: composes schema/subgraphs/*.graphql into schema/supergraph.graphql
 * and writes the public API schema to schema/api-schema.graphql (schema/composition/files.ts).
 * Composition errors are printed one per error with the subgraph and file:line:column, and the
 * script exits 1 having written nothing.
 */
import { composeSchemaFiles } from '../schema/composition/files.js';

const result = await composeSchemaFiles();
const names = result.subgraphs.join(', ');
if (!result.ok) {
  console.error(`[compose] composition of ${names} failed with ${result.errors.length} error(s):`);
  for (const error of result.errors) console.error(`  - ${error}`);
  process.exit(1);
}
for (const file of result.files) {
  console.log(`[compose] ${names} -> ${file.path} (${file.written ? 'written' : 'unchanged'})`);
}
