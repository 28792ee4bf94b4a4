/** Entry point: `node --import tsx subgraphs/sessions/index.ts` (port SESSIONS_PORT, default 4002). */
import { runSubgraph } from '../kit/main.js';
import { sessionsSubgraph } from './subgraph.js';

runSubgraph(sessionsSubgraph);
