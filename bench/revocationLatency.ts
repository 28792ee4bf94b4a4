/**
 * `node --import tsx bench/revocationLatency.ts`: what the router's revocation check adds to a
 * read (docs/caching.md, "Under a live fleet", session 30). Against the router `npm run dev:up`
 * started (BENCH_ROUTER_URL, default http://127.0.0.1:4000/graphql; development tokens, so not a
 * production router), BENCH_READS (200) sequential reads of one robot (a cached answer after
 * the first), in turn by: a new caller each time (a token without a session for a user the
 * router has not seen: its "signed out everywhere" mark is asked of the sessions subgraph), one
 * caller checked already (its answer cached), and one seeded session (its state cached). Prints
 * the p50 and p90 of each in ms. Read-only; each new caller is a random user id, so no rate limit
 * is shared between them.
 */
import { randomUUID } from 'node:crypto';
import { loadRouterConfig } from '../platform/config/load.js';
import { mintDevelopmentToken } from '../router/auth/jwt.js';
import { seedIds } from '../scripts/seed-ids.js';

const url = process.env.BENCH_ROUTER_URL ?? 'http://127.0.0.1:4000/graphql';
const reads = Number(process.env.BENCH_READS ?? 200);
if (!(reads >= 10 && reads <= 1000))
  throw new Error(`BENCH_READS must be in [10, 1000] (got ${reads})`);

const config = loadRouterConfig();
if (config.jwt.mode !== 'hs256') throw new Error('needs the development JWT key (JWT_SECRET)');
const secret = config.jwt.secret;
const organizationId = seedIds.organization(0);
const body = JSON.stringify({
  query: 'query Robot($id: ID!) { robot(id: $id) { id batteryPercent } }',
  variables: { id: seedIds.robot(0, 1, 7) },
});
const mint = (userId: string, sessionId?: string) =>
  mintDevelopmentToken(secret, {
    userId,
    organizationId,
    roles: ['viewer'],
    ...(sessionId ? { sessionId } : {}),
  });

async function readMs(token: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const text = await response.text();
  if (response.status !== 200 || text.includes('"errors"'))
    throw new Error(`${response.status} ${text.slice(0, 300)}`);
  return performance.now() - started;
}

const newCallers = await Promise.all(Array.from({ length: reads }, () => mint(randomUUID())));
const checked = await mint(randomUUID());
const session = await mint(seedIds.user(0, 3), seedIds.session(0, 3, 0));
for (let i = 0; i < 10; i++) await Promise.all([readMs(checked), readMs(session)]);

const times = { 'new caller': [] as number[], 'caller checked already': [] as number[] };
const sessionTimes: number[] = [];
for (let i = 0; i < reads; i++) {
  times['new caller'].push(await readMs(newCallers[i]!));
  times['caller checked already'].push(await readMs(checked));
  sessionTimes.push(await readMs(session));
}
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!.toFixed(2);
for (const [name, values] of [...Object.entries(times), ['seeded session', sessionTimes]] as const)
  console.log(
    `${name}: p50 ${quantile(values, 0.5)} ms, p90 ${quantile(values, 0.9)} ms (${reads} reads)`,
  );
