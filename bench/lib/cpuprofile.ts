/**
 * Reading a V8 .cpuprofile (what `node --cpu-prof` writes): self time per function.
 *
 * @remarks
 * The profile is a call tree (`nodes`, each with a `callFrame` and a `hitCount`) plus the
 * sampled node of every tick (`samples`) and the time since the previous tick (`timeDeltas`,
 * µs). Self time of a function = the ticks whose sampled (innermost) frame is that function,
 * aggregated over every tree node with the same name and location. When a window is given, only
 * ticks inside it count — `--cpu-prof` records the whole process, start-up and module loading
 * included, and the load run is what we want; V8's tick timestamps and the harness's
 * `process.hrtime` read the same monotonic clock.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTimeEntry {
  readonly functionName: string;
  /** Repository-relative path (or the URL for node internals) and 1-based line. */
  readonly location: string;
  readonly samples: number;
  readonly selfMs: number;
  /** Share of the non-idle time in the window (of the samples, for profiles without times). */
  readonly percent: number;
}

export interface SelfTimeSummary {
  readonly totalSamples: number;
  readonly idleSamples: number;
  /** Whether the window was applied (false: no tick fell inside it, so all ticks were used). */
  readonly windowed: boolean;
  readonly top: readonly SelfTimeEntry[];
}

/**
 * tsx compiles our TypeScript with whitespace minified (a module is one line), so a frame of
 * router/*.ts reads `file.ts:1:<column>`. tsx keeps each compiled module with its source map in
 * its cache directory (JSON `{ code, map }`); the newest entry per source file is the one just
 * run (best effort: an older compilation of identical text may be picked, with the same lines).
 */
function tsxSourceMaps(): Map<string, SourceMap> {
  const maps = new Map<string, { map: SourceMap; mtime: number }>();
  const directory = join(tmpdir(), `tsx-${userInfo().uid}`);
  let entries: string[] = [];
  try {
    entries = readdirSync(directory);
  } catch {
    return new Map();
  }
  for (const entry of entries) {
    try {
      const file = join(directory, entry);
      const mtime = statSync(file).mtimeMs;
      const cached = JSON.parse(readFileSync(file, 'utf8')) as {
        map?: { sources?: string[] };
      };
      const source = cached.map?.sources?.[0];
      if (!source || (maps.get(source)?.mtime ?? -1) > mtime) continue;
      maps.set(source, { map: new SourceMap(cached.map as never), mtime });
    } catch {
      // not a cache entry we understand
    }
  }
  return new Map([...maps].map(([source, { map }]) => [source, map]));
}

/**
 * The harness runs our code as built by scripts/build.ts (dist/, esbuild, `sourcemap: linked`):
 * a frame of dist/router/x.js maps back to router/x.ts through dist/router/x.js.map.
 */
const builtMaps = new Map<string, SourceMap | null>();
function builtLocation(
  path: string,
  line: number,
  column: number,
): { path: string; line: number } | undefined {
  if (!path.endsWith('.js') || !path.includes('/dist/') || path.includes('/node_modules/'))
    return undefined;
  if (!builtMaps.has(path)) {
    try {
      builtMaps.set(path, new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as never));
    } catch {
      builtMaps.set(path, null);
    }
  }
  const entry = builtMaps.get(path)?.findEntry(line, column) as
    { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource || entry.originalLine === undefined) return undefined;
  const source = entry.originalSource.startsWith('file://')
    ? fileURLToPath(entry.originalSource)
    : resolve(dirname(path), entry.originalSource);
  return { path: source, line: entry.originalLine };
}

/** Relative to the repository; node_modules from there on (a worktree may link another's). */
function repoPath(root: string, path: string): string {
  const rel = relative(root, path);
  const modules = rel.indexOf('node_modules/');
  return rel.startsWith('..') && modules >= 0 ? rel.slice(modules) : rel;
}

function locator(root: string): (url: string, line: number, column: number) => string {
  let maps: Map<string, SourceMap> | undefined;
  return (url, line, column) => {
    if (!url) return '(native)';
    if (!url.startsWith('file://')) return `${url}:${line + 1}`;
    const path = fileURLToPath(url);
    const built = builtLocation(path, line, column);
    if (built) return `${repoPath(root, built.path)}:${built.line + 1}`;
    let originalLine = line;
    if (path.endsWith('.ts') && !path.includes('/node_modules/')) {
      maps ??= tsxSourceMaps();
      const entry = maps.get(path)?.findEntry(line, column) as
        { originalLine?: number } | undefined;
      if (entry?.originalLine !== undefined) originalLine = entry.originalLine;
    }
    return `${repoPath(root, path)}:${originalLine + 1}`;
  };
}

/** Top `count` functions by self time; `window` in µs on the monotonic clock (hrtime). */
export function selfTimeTop(
  profileFile: string,
  root: string,
  count: number,
  window?: { readonly startUs: number; readonly endUs: number },
  /**
   * `samples` ranks by tick count instead: on an oversubscribed machine a tick after the process
   * was descheduled carries the whole gap, and a function sampled once can rank high by time.
   */
  rank: 'time' | 'samples' = 'time',
): SelfTimeSummary {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const ticks = new Map<number, { samples: number; us: number }>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const collect = (useWindow: boolean) => {
    ticks.clear();
    let at = profile.startTime;
    let counted = 0;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (useWindow && window && (at < window.startUs || at > window.endUs)) continue;
      // A tick stands for the time until the next one.
      const duration = deltas[i + 1] ?? 0;
      const entry = ticks.get(samples[i]!) ?? { samples: 0, us: 0 };
      entry.samples++;
      entry.us += duration;
      ticks.set(samples[i]!, entry);
      counted++;
    }
    return counted;
  };
  let windowed = Boolean(window);
  if (collect(windowed) === 0 && windowed) {
    windowed = false;
    collect(false);
  }
  if (ticks.size === 0) {
    // Profiles without a samples array: fall back to hitCount (no durations).
    for (const node of profile.nodes)
      if (node.hitCount) ticks.set(node.id, { samples: node.hitCount, us: 0 });
  }

  const aggregated = new Map<
    string,
    { functionName: string; location: string; samples: number; us: number }
  >();
  const locate = locator(root);
  let total = 0;
  let idle = 0;
  let busyUs = 0;
  for (const [id, tick] of ticks) {
    const node = byId.get(id);
    if (!node) continue;
    total += tick.samples;
    const functionName = node.callFrame.functionName || '(anonymous)';
    if (functionName === '(idle)') {
      idle += tick.samples;
      continue;
    }
    busyUs += tick.us;
    const location = locate(
      node.callFrame.url,
      node.callFrame.lineNumber,
      node.callFrame.columnNumber,
    );
    const key = `${functionName}|${location}`;
    const entry = aggregated.get(key) ?? { functionName, location, samples: 0, us: 0 };
    entry.samples += tick.samples;
    entry.us += tick.us;
    aggregated.set(key, entry);
  }
  // Ticks are not evenly spaced (a garbage collection delays the next one), so time, not the
  // tick count, ranks functions — unless the profile has no durations (hitCount only).
  const timed = busyUs > 0 && rank === 'time';
  const busySamples = Math.max(1, total - idle);
  const weight = (entry: { samples: number; us: number }) => (timed ? entry.us : entry.samples);
  const busy = timed ? busyUs : busySamples;
  const top = [...aggregated.values()]
    .sort((a, b) => weight(b) - weight(a))
    .slice(0, count)
    .map((entry) => ({
      functionName: entry.functionName,
      location: entry.location,
      samples: entry.samples,
      selfMs: Math.round(entry.us / 100) / 10,
      percent: Math.round((weight(entry) / busy) * 1000) / 10,
    }));
  return { totalSamples: total, idleSamples: idle, windowed, top };
}
