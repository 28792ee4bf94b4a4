/** Entry point: `node --import tsx subgraphs/sessions/index.ts` (port SESSIONS_PORT, default 4002). */
import { runSubgraph } from '../kit/main.js';

// Imported once tracing has started (kit/main.ts).
runSubgraph({
  name: 'sessions',
  load: async () => (await import('./subgraph.js')).sessionsSubgraph,
});
