/** Entry point: `node --import tsx subgraphs/fleet/index.ts` (port FLEET_PORT, default 4003). */
import { runSubgraph } from '../kit/main.js';
import { fleetSubgraph } from './subgraph.js';

runSubgraph(fleetSubgraph);
