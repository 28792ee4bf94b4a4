/**
 * `npm run schema:compose`: composes schema/subgraphs/*.graphql into schema/supergraph.graphql.
 * Prints composition errors with subgraph and location and exits 1; writes nothing then.
 * Writing is skipped when the file is already byte-identical (so mtime-based reloads stay quiet).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  composeSupergraph,
  readSubgraphSources,
  SUPERGRAPH_FILE,
} from '../schema/composition/compose.js';

const sources = readSubgraphSources();
const outcome = composeSupergraph(sources);
if (!outcome.ok) {
  console.error(`[compose] composition of ${sources.map((s) => s.name).join(', ')} failed:`);
  for (const error of outcome.errors) console.error(`  - ${error}`);
  process.exit(1);
}
const target = fileURLToPath(SUPERGRAPH_FILE);
const unchanged = existsSync(target) && readFileSync(target, 'utf8') === outcome.supergraphSdl;
if (!unchanged) writeFileSync(target, outcome.supergraphSdl);
console.log(
  `[compose] ${sources.map((s) => s.name).join(', ')} -> schema/supergraph.graphql (${unchanged ? 'unchanged' : 'written'})`,
);
