/**
 * Baseline: one of our subgraphs as a resolver without DataLoader would serve it — every load
 * its own Cassandra read, no batching and no per-request cache. The same server, schema,
 * resolvers and authorization as the subgraph's own entry file; only the DataLoader options
 * differ, so the difference bench/run.ts measures is the DataLoader's alone.
 *
 * Environment: BENCH_SUBGRAPH (users, sessions or fleet), plus the subgraph's own settings
 * (its <NAME>_PORT, Cassandra, secrets) as for subgraphs/<name>/index.ts.
 */
import { fleetSubgraph } from '../../subgraphs/fleet/subgraph.js';
import type { LoaderOptions } from '../../subgraphs/kit/loaders.js';
import { runSubgraph } from '../../subgraphs/kit/main.js';
import { sessionsSubgraph } from '../../subgraphs/sessions/subgraph.js';
import { usersSubgraph } from '../../subgraphs/users/subgraph.js';

const WITHOUT_DATALOADER: LoaderOptions = { batch: false, cache: false };
const options = { loaderOptions: WITHOUT_DATALOADER };

const subgraph = process.env.BENCH_SUBGRAPH;
switch (subgraph) {
  case 'users':
    runSubgraph(usersSubgraph, options);
    break;
  case 'sessions':
    runSubgraph(sessionsSubgraph, options);
    break;
  case 'fleet':
    runSubgraph(fleetSubgraph, options);
    break;
  default:
    console.error(`BENCH_SUBGRAPH must be users, sessions or fleet (got ${String(subgraph)})`);
    process.exit(2);
}
