/** Entry point: `node --import tsx subgraphs/users/index.ts` (port USERS_PORT, default 4001). */
import { runSubgraph } from '../kit/main.js';
import { usersSubgraph } from './subgraph.js';

runSubgraph(usersSubgraph);
