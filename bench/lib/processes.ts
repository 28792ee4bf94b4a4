/**
 * Child processes of a benchmark: each server runs as its own `node` process so that its RSS and
 * CPU time can be read from /proc per process. Everything started here is stopped by
 * {@link ProcessGroup.stopAll} — on success, on error and on SIGINT/SIGTERM — and nothing else
 * is ever signalled (only the pids this group spawned).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildForRuntime, builtEntry } from '../../scripts/build.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
/** Logs go outside the repository: they are large, and only the results are commit-able. */
export const LOG_DIR = join(tmpdir(), `fleetgraph-bench-${process.pid}`);

export interface ServiceSpec {
  /** Also the log file's name. */
  readonly name: string;
  /** Entry file relative to the repository root (a .ts source), run as built in dist/. */
  readonly entry: string;
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags placed before the entry (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /**
   * How readiness is checked: GET of a path answering 200 (our servers' /healthz), or a POST
   * of `{ __typename }` to a GraphQL path (servers without a health route).
   */
  readonly ready: { readonly get: string } | { readonly graphql: string };
}

export interface Service {
  readonly spec: ServiceSpec;
  readonly pid: number;
  readonly baseUrl: string;
  readonly logFile: string;
}

interface Running extends Service {
  readonly child: ChildProcess;
  exited: boolean;
}

/** How a stopped service ended: its own exit (code, no signal) or a signal's. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** From SIGTERM to the exit, in milliseconds. */
  readonly ms: number;
  /** True when it outlived the grace period and was sent SIGKILL. */
  readonly killed: boolean;
}

const STARTUP_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 8_000;

export class ProcessGroup {
  private readonly running: Running[] = [];

  constructor() {
    mkdirSync(LOG_DIR, { recursive: true });
  }

  /** Starts one service and resolves once it answers; rejects with the end of its log. */
  async start(spec: ServiceSpec): Promise<Service> {
    if (await portInUse(spec.port)) {
      throw new Error(
        `${spec.name}: port ${spec.port} on 127.0.0.1 is already in use; stop whatever listens there (this harness only stops processes it started)`,
      );
    }
    const logFile = join(LOG_DIR, `${spec.name}.log`);
    const fd = openSync(logFile, 'w');
    // Every target runs as built JavaScript (scripts/build.ts), ours and the baselines alike:
    // tsx's loader thread and source maps would add ~55 MB and some CPU to each process.
    buildForRuntime();
    const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), builtEntry(spec.entry)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`${spec.name}: could not be spawned`);
    const service: Running = {
      spec,
      pid: child.pid,
      baseUrl: `http://127.0.0.1:${spec.port}`,
      logFile,
      child,
      exited: false,
    };
    child.once('exit', () => {
      service.exited = true;
    });
    this.running.push(service);
    await waitUntilReady(service);
    return service;
  }

  /**
   * Stops one service: SIGTERM (graceful drain), then SIGKILL after a grace period (default
   * {@link STOP_GRACE_MS}). Resolves with how it ended; undefined if this group does not run it.
   */
  async stop(
    service: Service,
    options: { readonly graceMs?: number } = {},
  ): Promise<ExitStatus | undefined> {
    const running = this.running.find((r) => r.pid === service.pid);
    if (!running) return undefined;
    const status = await terminate(running, options.graceMs ?? STOP_GRACE_MS);
    this.running.splice(this.running.indexOf(running), 1);
    return status;
  }

  /** Stops every service still running, newest first (routers before their subgraphs). */
  async stopAll(): Promise<void> {
    const all = [...this.running].reverse();
    this.running.length = 0;
    await Promise.all(all.map((service) => terminate(service, STOP_GRACE_MS)));
  }

  /** Last resort on process exit: synchronous SIGKILL of anything left. */
  killAllNow(): void {
    for (const service of this.running) {
      if (!service.exited) service.child.kill('SIGKILL');
    }
  }
}

async function terminate(service: Running, graceMs: number): Promise<ExitStatus> {
  const { child } = service;
  if (service.exited)
    return { code: child.exitCode, signal: child.signalCode, ms: 0, killed: false };
  const started = performance.now();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let killed = false;
  const timer = setTimeout(() => {
    if (service.exited) return;
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
  return {
    code: child.exitCode,
    signal: child.signalCode,
    ms: Math.round(performance.now() - started),
    killed,
  };
}

async function waitUntilReady(service: Running): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  const { ready } = service.spec;
  while (Date.now() < deadline) {
    if (service.exited) {
      throw new Error(
        `${service.spec.name} exited during start-up; end of ${service.logFile}:\n${tail(service.logFile)}`,
      );
    }
    try {
      const response =
        'get' in ready
          ? await fetch(`${service.baseUrl}${ready.get}`, { signal: AbortSignal.timeout(1000) })
          : await fetch(`${service.baseUrl}${ready.graphql}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{"query":"{ __typename }"}',
              signal: AbortSignal.timeout(1000),
            });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(
    `${service.spec.name} did not become ready within ${STARTUP_TIMEOUT_MS / 1000}s; end of ${service.logFile}:\n${tail(service.logFile)}`,
  );
}

/** The last lines of a log file (for error messages). */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** True when something already accepts connections on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs a one-off command (migrations, seed) to completion with its output prefixed on ours;
 * rejects on a non-zero exit. Registered with the group so SIGINT also stops it.
 */
export function runToCompletion(
  label: string,
  entry: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, entry), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    activeCommands.add(child);
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        // The scripts prefix their own lines ("[seed] …"); others get the label.
        if (line.trim()) console.log(line.startsWith(`[${label}]`) ? line : `[${label}] ${line}`);
      }
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.once('exit', (code, signal) => {
      activeCommands.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`${label} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

const activeCommands = new Set<ChildProcess>();

/** Stops one-off commands still running (for SIGINT during the seed). */
export function killActiveCommands(): void {
  for (const child of activeCommands) child.kill('SIGTERM');
}
