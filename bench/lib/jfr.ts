/**
 * Cassandra's CPU profile from Java Flight Recorder: a recording started on the running node with
 * `jcmd <pid> JFR.start settings=profile duration=<s>s filename=<file>` (nothing is restarted
 * or reconfigured; the recording ends by itself), then read with `jfr print --events
 * jdk.ExecutionSample --stack-depth 1` — JDK 17's `jfr` has no `view hot-methods`, so the top
 * frames are counted here.
 *
 * @remarks
 * An execution sample is taken every period from threads *running Java code* (a few threads per
 * period at most): self time per method is roughly samples × period, and time in native code
 * (epoll, disk, the kernel) or in the JVM itself (GC, JIT compilation) is not in it — the
 * /proc CPU figure counts everything.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
/**
 * jdk.ExecutionSample's period: `profile` settings with method-profiling=max (1 ms, a .jfc made
 * by `jfr configure`), or the `profile` settings as shipped (10 ms) if that fails.
 */
const MAX_PERIOD_MS = 1;
const PROFILE_PERIOD_MS = 10;

export interface JfrEntry {
  readonly functionName: string;
  readonly location: string;
  readonly samples: number;
  /** samples × the sampling period: an estimate of self CPU time. */
  readonly selfMs: number;
  readonly percent: number;
}

export interface JfrSummary {
  readonly totalSamples: number;
  readonly periodMs: number;
  readonly top: readonly JfrEntry[];
  /** Samples by thread pool (thread names with their numbers dropped). */
  readonly threads: readonly { readonly name: string; readonly samples: number }[];
}

/** Starts a recording of `seconds` on `pid` (a JVM this user may attach to). */
export async function startJfr(options: {
  readonly pid: number;
  readonly name: string;
  readonly seconds: number;
  readonly file: string;
}): Promise<{ readonly periodMs: number }> {
  const jfc = `${options.file}.jfc`;
  const custom = await run(
    'jfr',
    ['configure', '--input', 'profile', 'method-profiling=max', '--output', jfc],
    { timeout: 30_000 },
  ).then(
    () => true,
    () => false,
  );
  const { stdout, stderr } = await run(
    'jcmd',
    [
      String(options.pid),
      'JFR.start',
      `name=${options.name}`,
      `settings=${custom ? jfc : 'profile'}`,
      `duration=${Math.max(1, Math.round(options.seconds))}s`,
      `filename=${options.file}`,
    ],
    { timeout: 30_000 },
  );
  if (!/Started recording/.test(stdout))
    throw new Error(`jcmd JFR.start did not start a recording: ${stdout} ${stderr}`.trim());
  return { periodMs: custom ? MAX_PERIOD_MS : PROFILE_PERIOD_MS };
}

/** Stops a recording early (on Ctrl-C); best effort. */
export async function stopJfr(pid: number, name: string): Promise<void> {
  await run('jcmd', [String(pid), 'JFR.stop', `name=${name}`], { timeout: 15_000 }).catch(
    () => undefined,
  );
}

/** Waits until the JVM has written the recording (at the end of its duration). */
export async function waitForJfr(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  while (Date.now() < deadline) {
    const size = existsSync(file) ? statSync(file).size : -1;
    if (size > 0 && size === lastSize) return;
    lastSize = size;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no JFR recording at ${file} after ${timeoutMs / 1000} s`);
}

/** The top `count` methods by execution samples whose innermost frame they are. */
export async function summariseJfr(
  file: string,
  count: number,
  periodMs: number,
): Promise<JfrSummary> {
  const { stdout } = await run(
    'jfr',
    ['print', '--events', 'jdk.ExecutionSample', '--stack-depth', '1', file],
    { maxBuffer: 512 * 1024 * 1024, timeout: 120_000 },
  );
  const methods = new Map<string, number>();
  const threads = new Map<string, number>();
  let total = 0;
  let inStack = false;
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    const thread = /^sampledThread = "(.*)" \(javaThreadId/.exec(line);
    if (thread) {
      const pool = thread[1]!.replace(/[-:#]?\d+/g, '-N').replace(/(-N)+/g, '-N');
      threads.set(pool, (threads.get(pool) ?? 0) + 1);
    } else if (line === 'stackTrace = [') {
      inStack = true;
    } else if (inStack) {
      inStack = false;
      if (line === ']' || line === '...') continue;
      total++;
      // "org.apache.Foo$Bar.baz(int, Object) line: 123": counted per method, every line.
      const method = /^([^(\s]+)/.exec(line)?.[1] ?? line;
      methods.set(method, (methods.get(method) ?? 0) + 1);
    }
  }
  const top = [...methods]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([method, samples]) => {
      const dot = method.lastIndexOf('.');
      const type = dot > 0 ? method.slice(0, dot) : '';
      return {
        functionName: `${type.slice(type.lastIndexOf('.') + 1)}.${method.slice(dot + 1)}`,
        location: type || '(java)',
        samples,
        selfMs: samples * periodMs,
        percent: Math.round((samples / Math.max(1, total)) * 1000) / 10,
      };
    });
  return {
    totalSamples: total,
    periodMs,
    top,
    threads: [...threads]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, samples]) => ({ name, samples })),
  };
}
