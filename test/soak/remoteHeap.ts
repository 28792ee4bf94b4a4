/**
 * A full garbage collection in another node process, and its heap size after it, through the
 * process's inspector (started with `--inspect=127.0.0.1:<port>`; Chrome DevTools protocol
 * over a WebSocket: HeapProfiler.collectGarbage, then Runtime.getHeapUsage).
 *
 * @remarks
 * Why: a process's RSS follows when V8 chooses to collect — the router's old generation grows
 * by tens of MB between major collections that return them — so over a few minutes an RSS
 * slope mostly says where in that cycle the run started and ended. The heap right after a full
 * collection is what the process actually retains, which is what a leak grows.
 * Loopback only; the session must be closed before the process is asked to exit, or node waits
 * for the debugger to disconnect.
 */
import { WebSocket } from 'undici';

export class RemoteHeap {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (result: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
    socket.addEventListener('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('inspector closed'));
      this.pending.clear();
    });
  }

  /** Connects to the inspector on 127.0.0.1:port (bounded: 10 s). */
  static async connect(port: number): Promise<RemoteHeap> {
    const targets = (await (
      await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(10_000) })
    ).json()) as { webSocketDebuggerUrl: string }[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${port}`);
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector on ${port}: timeout`)), 10_000);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector on ${port}: connection failed`));
      });
    });
    return new RemoteHeap(socket);
  }

  /** Collects garbage (a full GC) and returns the heap's used size after it, in bytes. */
  async usedAfterGc(): Promise<number> {
    await this.call('HeapProfiler.collectGarbage');
    const usage = (await this.call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize;
  }

  close(): void {
    this.socket.close();
  }

  private call(method: string, timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify({ id, method }));
    });
  }
}
