/** Entry point: `node --import tsx subgraphs/fleet/index.ts` (port FLEET_PORT, default 4003). */
import { runSubgraph } from '../kit/main.js';

// Imported once tracing has started (kit/main.ts).
runSubgraph({ name: 'fleet', load: async () => (await import('./subgraph.js')).fleetSubgraph });
