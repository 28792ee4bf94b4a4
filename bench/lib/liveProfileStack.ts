/**
 * The processes bench/profileLive.ts profiles: our router (response cache on) and the three
 * subgraphs, on ports of their own (5040-5043), each `node --cpu-prof` into a scratch folder,
 * with the benchmark's production environment (bench/lib/stack.ts); and, after they have
 * exited, each one's profile summarised over the load window.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { selfTimeTop } from './cpuprofile.js';
import { REPO_ROOT, type ProcessGroup, type Service } from './processes.js';
import type { ProcessProfile } from './profileLiveReport.js';
import { routerSpec, subgraphSpecs, subgraphUrls } from './stack.js';

export const PROFILE_LIVE_PORTS = {
  router: 5040,
  subgraphs: { users: 5041, sessions: 5042, fleet: 5043 },
} as const;

export interface ProfiledService {
  /** router, users, sessions, fleet. */
  readonly name: string;
  readonly service: Service;
  readonly scratchDir: string;
}

const cpuProf = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];

/** Starts the subgraphs, then the router; each writes its profile to `<outDir>/.<name>/`. */
export async function startProfiledStack(
  group: ProcessGroup,
  keyspace: string,
  outDir: string,
): Promise<ProfiledService[]> {
  const scratch = (name: string) => {
    const dir = join(outDir, `.${name}-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const subgraphs = await Promise.all(
    subgraphSpecs(keyspace, PROFILE_LIVE_PORTS.subgraphs, 'batched').map(async (spec) => {
      const scratchDir = scratch(spec.name);
      const service = await group.start({
        ...spec,
        name: `profile-live-${spec.name}`,
        nodeArgs: [...(spec.nodeArgs ?? []), ...cpuProf(scratchDir)],
      });
      return { name: spec.name, service, scratchDir };
    }),
  );
  const routerDir = scratch('router');
  const router = await group.start(
    routerSpec({
      name: 'profile-live-router',
      keyspace,
      port: PROFILE_LIVE_PORTS.router,
      subgraphUrls: subgraphUrls(PROFILE_LIVE_PORTS.subgraphs),
      // BENCH_PROFILE_RESPONSE_CACHE=false: the data path alone (issue 17's "cache off" run,
      // with ENTITY_CACHE=false too; the environment reaches the router).
      responseCache: process.env.BENCH_PROFILE_RESPONSE_CACHE !== 'false',
      nodeArgs: cpuProf(routerDir),
    }),
  );
  return [{ name: 'router', service: router, scratchDir: routerDir }, ...subgraphs];
}

/**
 * After the processes have exited: the main thread's profile of each (the largest file of its
 * scratch folder) moved to `<outDir>/<name>.cpuprofile` and summarised over the window.
 */
export function collectProfiles(
  services: readonly ProfiledService[],
  outDir: string,
  count: number,
  window: { readonly startUs: number; readonly endUs: number },
): Map<string, Omit<ProcessProfile, 'cpuSeconds' | 'cpuMsPerRead' | 'peakRssMb' | 'name'>> {
  const out = new Map<
    string,
    Omit<ProcessProfile, 'cpuSeconds' | 'cpuMsPerRead' | 'peakRssMb' | 'name'>
  >();
  for (const { name, scratchDir } of services) {
    const written = readdirSync(scratchDir).map((file) => join(scratchDir, file));
    const busiest = written.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (!busiest) {
      console.warn(`[profile-live] ${name} wrote no profile (killed before it could?)`);
      continue;
    }
    const file = join(outDir, `${name}.cpuprofile`);
    renameSync(busiest, file);
    rmSync(scratchDir, { recursive: true, force: true });
    const summary = selfTimeTop(file, REPO_ROOT, count, window, 'samples');
    out.set(name, {
      profile: relative(REPO_ROOT, file),
      profiler: 'v8 --cpu-prof',
      samples: summary.totalSamples,
      idleSamples: summary.idleSamples,
      windowed: summary.windowed,
      top: summary.top,
    });
  }
  return out;
}
