/**
 * `npm run build`: the services as plain JavaScript in `dist/` (same paths, `.ts` → `.js`),
 * for running without tsx — infra/services.sh (the stack `npm run dev:up` brings up) and the
 * benchmark and fault harnesses start the router and subgraphs from here.
 *
 * @remarks
 * Why: under `node --import tsx` every process also runs tsx's module-loader thread and keeps
 * the transformed sources and their source maps; measured here, the idle router's RSS was
 * 204 MB under tsx and 149 MB from JavaScript, and that difference held under load. The
 * router's memory target (bench/README.md) is met only without it.
 *
 * esbuild transpiles file by file (no bundling, no type checking — `npm run check:types` does
 * that), so a build takes well under a second and runs at every start. The subgraph SDL files
 * are copied beside the built subgraphs, which load `../../schema/subgraphs/<name>.graphql`
 * relative to themselves, and the CQL migrations beside the built scripts, which read
 * `../schema/cql/` (`dist/scripts/migrate.js`: the container image's migration job, Dockerfile).
 * Tests run the TypeScript sources directly, in process.
 */
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
export const DIST = join(ROOT, 'dist');
/** What the started processes import: the platform layer, services, harness baselines. */
const SOURCE_DIRS = ['platform', 'router', 'subgraphs', 'scripts', 'bench'];

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'results' ? [] : sourcesUnder(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

let built = false;

/** Builds dist/ (once per process). Returns the built path of a `.ts` entry. */
export function buildForRuntime(): void {
  if (built) return;
  buildSync({
    entryPoints: SOURCE_DIRS.flatMap((dir) => sourcesUnder(join(ROOT, dir))),
    outdir: DIST,
    outbase: ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const dir of ['schema/subgraphs', 'schema/cql'])
    cpSync(join(ROOT, dir), join(DIST, dir), { recursive: true });
  built = true;
}

/** `router/index.ts` → absolute path of `dist/router/index.js`. */
export function builtEntry(entry: string): string {
  return join(DIST, entry.replace(/\.ts$/, '.js'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  buildForRuntime();
  console.log(`[build] ${relative(ROOT, DIST)}/ in ${Math.round(performance.now() - started)} ms`);
}
