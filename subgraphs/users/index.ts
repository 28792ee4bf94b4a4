/** Entry point: `node --import tsx subgraphs/users/index.ts` (port USERS_PORT, default 4001). */
import { runSubgraph } from '../kit/main.js';

// Imported once tracing has started (kit/main.ts).
runSubgraph({ name: 'users', load: async () => (await import('./subgraph.js')).usersSubgraph });
