/**
 * `npm run bench:profile -- --label before|after|<name>`: a CPU profile of our router under the
 * router-bound scenario (bench/routerbound: in-memory subgraphs, 16 fetches per operation), at 16
 * connections (BENCH_PROFILE_CONNECTIONS) for 10 s (BENCH_PROFILE_SECONDS), every request from a distinct caller.
 *
 * The router runs as `node --cpu-prof --cpu-prof-dir=bench/results/profiles` (response cache
 * off; authentication, rate limits, operation limits and metrics on) and writes
 * bench/results/profiles/router-<label>.cpuprofile when it exits (open it in Chrome DevTools or
 * speedscope). The top 15 functions by self time during the load window are printed and kept,
 * per label, in bench/results/profile-top.md (and .json), so profiles taken before and after an
 * optimisation sit side by side.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { seedIds } from '../scripts/seed-ids.js';
import { selfTimeTop, type SelfTimeSummary } from './lib/cpuprofile.js';
import { writeFormatted, writePlain } from './lib/files.js';
import { mintTokenPool } from './lib/identities.js';
import { runLoad, type RequestSource } from './lib/load.js';
import { killActiveCommands, ProcessGroup, REPO_ROOT, runToCompletion } from './lib/processes.js';
import {
  benchIssuer,
  PORTS,
  ROUTER_BOUND_LIMITS,
  routerBoundSubgraphsSpec,
  routerSpec,
  subgraphSpecs,
} from './lib/stack.js';
import {
  ROUTER_BOUND_PORTS,
  routerBoundUrls,
  writeRouterBoundSupergraph,
} from './routerbound/compose.js';

const labelIndex = process.argv.indexOf('--label');
const label = labelIndex >= 0 ? (process.argv[labelIndex + 1] ?? '') : 'current';
if (!/^[\w.-]{1,40}$/.test(label)) {
  console.error(`--label must be a short name such as before or after (got "${label}")`);
  process.exit(2);
}
const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 10);
const profileCacheHits = process.env.BENCH_PROFILE_CACHE === 'true';
/** BENCH_PROFILE_CONNECTIONS (default 16); 1 shows the per-request latency path of hits. */
const connections = Number(process.env.BENCH_PROFILE_CONNECTIONS ?? 16);
if (!Number.isInteger(connections) || connections < 1 || connections > 256)
  throw new Error(`BENCH_PROFILE_CONNECTIONS must be an integer in [1, 256] (got ${connections})`);
const keyspace = process.env.BENCH_KEYSPACE ?? 'fleetgraph_bench';
const PROFILE_DIR = join(REPO_ROOT, 'bench/results/profiles');
const TOP_JSON = join(REPO_ROOT, 'bench/results/profile-top.json');
const TOP_MD = join(REPO_ROOT, 'bench/results/profile-top.md');
const TOP_COUNT = 15;

interface ProfileRecord {
  readonly label: string;
  readonly date: string;
  readonly node: string;
  readonly profile: string;
  readonly seconds: number;
  readonly connections: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly summary: SelfTimeSummary;
}

const group = new ProcessGroup();
let stopping: Promise<void> | undefined;
const cleanup = () => {
  stopping ??= (async () => {
    killActiveCommands();
    await group.stopAll();
  })();
  return stopping;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}
process.once('exit', () => group.killAllNow());

function renderMarkdown(records: readonly ProfileRecord[]): string {
  const out = [
    '# Router CPU profiles (router-bound scenario)',
    '',
    'Written by `npm run bench:profile -- --label <label>` (bench/profile.ts): our router under the router-bound operation (16 subgraph fetches, in-memory subgraphs), 16 connections unless the section says otherwise, every request from a distinct caller. Self time per function during the load window only (start-up excluded); `(idle)` excluded from the percentages, which are shares of busy time. Profiles: `bench/results/profiles/router-<label>.cpuprofile` (not committed).',
    '',
  ];
  for (const record of records) {
    const { summary } = record;
    out.push(
      `## ${record.label}`,
      '',
      `${record.date}, Node ${record.node}, ${record.connections} connection${record.connections === 1 ? '' : 's'}: ${record.requestsPerSecond} req/s, p50 ${record.p50Ms} ms, p99 ${record.p99Ms} ms, ${record.errors} errors over ${record.seconds} s; ${summary.totalSamples} samples (${summary.idleSamples} idle)${summary.windowed ? '' : ', whole process (the load window matched no samples)'}.`,
      '',
      '| # | self % | self ms | function | location |',
      '| ---: | ---: | ---: | --- | --- |',
      ...summary.top.map(
        (entry, i) =>
          `| ${i + 1} | ${entry.percent.toFixed(1)} | ${entry.selfMs.toFixed(1)} | \`${entry.functionName}\` | \`${entry.location}\` |`,
      ),
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  await runToCompletion('migrate', 'scripts/migrate.ts', [], {
    CASSANDRA_KEYSPACE: keyspace,
    LOG_LEVEL: 'warn',
  });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const profileName = `router-${label}.cpuprofile`;
  // One profile per thread (tsx's module loader runs in a worker thread): written with the
  // default per-thread names into a scratch folder, and the main thread's — the busiest —
  // kept. A fixed --cpu-prof-name let the loader thread's profile overwrite the main one's.
  const scratchDir = join(PROFILE_DIR, `.${label}-${process.pid}`);
  rmSync(scratchDir, { recursive: true, force: true });
  mkdirSync(scratchDir, { recursive: true });
  const supergraphPath = await writeRouterBoundSupergraph(ROUTER_BOUND_PORTS);
  const tokens = await mintTokenPool((await benchIssuer()).mint, seedIds.organization(0), 20_000);
  // Our router checks token revocation with the sessions subgraph (not in the supergraph), as
  // in bench/run.ts' router-bound scenario; without it every request failed.
  const [sessionsSpec] = subgraphSpecs(
    keyspace,
    { ...PORTS.subgraphs, sessions: PORTS.routerBound.sessions },
    'batched',
  ).filter((spec) => spec.name === 'sessions');
  await group.start(sessionsSpec!);
  await group.start(routerBoundSubgraphsSpec(ROUTER_BOUND_PORTS));
  const router = await group.start(
    routerSpec({
      name: `profile-router-${label}`,
      keyspace,
      port: PORTS.routerBound.router,
      subgraphUrls: [
        ...Object.entries(routerBoundUrls(ROUTER_BOUND_PORTS)).map(
          ([name, url]) => `${name}=${url}`,
        ),
        `sessions=http://127.0.0.1:${PORTS.routerBound.sessions}/graphql`,
      ].join(','),
      // BENCH_PROFILE_CACHE=true profiles the response cache's hit path instead (after the
      // first request every one is a hit: PUBLIC data, one organization and role set).
      responseCache: profileCacheHits,
      supergraphPath,
      extraEnv: ROUTER_BOUND_LIMITS,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${scratchDir}`],
    }),
  );
  const body = JSON.stringify({
    query: readFileSync(join(REPO_ROOT, 'bench/routerbound/operation.graphql'), 'utf8'),
    operationName: 'RouterBound',
  });
  const sources: RequestSource[] = [
    {
      responseKey: 'router-bound',
      next: () => ({ headers: { authorization: `Bearer ${tokens.next()}` }, body }),
    },
  ];
  const url = `${router.baseUrl}/graphql`;
  console.log(`[profile] warming up, then ${seconds} s at ${connections} connections`);
  await runLoad({ url, connections, seconds: 2, sources });
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const load = await runLoad({ url, connections, seconds, sources });
  const endUs = Number(process.hrtime.bigint() / 1000n);
  // A profile of failing requests profiles the failure path (it once did, unnoticed, while the
  // sessions subgraph was missing): refuse to record it.
  if (load.errors.total > 0)
    throw new Error(`${load.errors.total} requests failed: ${JSON.stringify(load.errors)}`);
  // The profile is written as the router exits (SIGTERM → graceful shutdown → exit).
  await group.stop(router);
  const profileFile = join(PROFILE_DIR, profileName);
  const written = readdirSync(scratchDir).map((name) => join(scratchDir, name));
  const busiest = written.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (busiest) renameSync(busiest, profileFile);
  rmSync(scratchDir, { recursive: true, force: true });
  if (!existsSync(profileFile)) throw new Error(`no profile was written at ${profileFile}`);
  const summary = selfTimeTop(profileFile, REPO_ROOT, TOP_COUNT, { startUs, endUs });
  const record: ProfileRecord = {
    label,
    date: new Date().toISOString(),
    node: process.version,
    profile: `bench/results/profiles/${profileName}`,
    seconds,
    connections,
    requestsPerSecond: load.requestsPerSecond,
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    errors: load.errors.total,
    summary,
  };
  const previous = existsSync(TOP_JSON)
    ? (JSON.parse(readFileSync(TOP_JSON, 'utf8')) as ProfileRecord[])
    : [];
  const records = [...previous.filter((r) => r.label !== label), record];
  await writeFormatted(TOP_JSON, JSON.stringify(records));
  writePlain(TOP_MD, renderMarkdown(records));
  console.log(
    `[profile] ${label}: ${load.requestsPerSecond} req/s, p99 ${load.latencyMs.p99} ms, errors ${load.errors.total}; top ${TOP_COUNT} by self time (${summary.windowed ? 'load window' : 'whole process'}):`,
  );
  for (const [i, entry] of summary.top.entries()) {
    console.log(
      `  ${String(i + 1).padStart(2)}. ${entry.percent.toFixed(1).padStart(5)}%  ${entry.selfMs.toFixed(0).padStart(6)} ms  ${entry.functionName}  ${entry.location}`,
    );
  }
  console.log(`[profile] wrote ${profileFile}, bench/results/profile-top.md and .json`);
}

try {
  await main();
} catch (error) {
  // After Ctrl-C the stopped servers make whatever was waiting on them fail: not news.
  if (!stopping) console.error(`[profile] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
