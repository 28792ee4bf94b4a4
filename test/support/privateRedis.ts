/**
 * A Redis server of the test's own (Debian's `redis-server`), on 127.0.0.1 and a random free
 * port, with its own directory under os.tmpdir() and no persistence, so a test can kill it and
 * bring it back without touching the shared development Redis on :6379 that other tests use.
 *
 * @remarks
 * `kill()` sends SIGKILL (the crash case: no goodbye on the sockets beyond the kernel's RST/FIN)
 * and `restart()` starts a fresh, empty server on the same port, as a crashed Redis without
 * persistence comes back. The server is also killed if the test process exits without `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

export interface PrivateRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for REDIS_URL. */
  readonly url: string;
  /** SIGKILLs the server and resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts a new (empty) server on the same port and resolves once it answers PING. */
  restart(): Promise<void>;
  /**
   * A slow Redis: the server is stopped (SIGSTOP) for `ms` and then continued; commands sent
   * meanwhile wait, as behind a stalled Redis, and are answered once it continues.
   */
  stall(ms: number): Promise<void>;
  /** Kills the server (if running) and removes its directory. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/**
 * `persistent`: an append-only file fsynced on every write, kept across `kill()`/`restart()`,
 * so a restarted server comes back with its data (as a production Redis with AOF does).
 */
export async function startPrivateRedis(
  options: { persistent?: boolean } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fleetgraph-redis-'));
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const start = async () => {
    let output = '';
    const started = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        options.persistent ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk).slice(-2000)));
    started.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk).slice(-2000)));
    child = started;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answersPing(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not start: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    async stall(ms) {
      if (!child) throw new Error('the private Redis is not running');
      const stalled = child;
      stalled.kill('SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, ms));
      stalled.kill('SIGCONT');
    },
    async stop() {
      await kill();
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when something on the port answers a RESP PING with +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
