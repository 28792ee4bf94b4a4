/**
 * The commands a Redis runs, from its MONITOR feed: for tests that count what the router sends
 * to a Redis of their own (test/support/privateRedis.ts). MONITOR reports commands in the order
 * Redis ran them, so once a command sent afterwards shows up ({@link RedisCommandFeed.caughtUp}),
 * every command before it has too.
 */
import { Redis } from 'ioredis';

export interface RedisCommandFeed {
  /** Each command run since the feed opened: its name and arguments as MONITOR reports them. */
  readonly commands: string[][];
  /** Resolves once the feed holds every command Redis ran before this call (or after 5 s). */
  caughtUp(): Promise<void>;
  close(): void;
}

export async function watchRedisCommands(url: string): Promise<RedisCommandFeed> {
  const client = new Redis(url);
  const monitor = await client.monitor();
  const commands: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => commands.push(args));
  return {
    commands,
    async caughtUp() {
      const marker = `marker:${process.pid}:${Date.now()}:${Math.random()}`;
      await client.get(marker);
      const deadline = Date.now() + 5_000;
      while (!commands.some(([, key]) => key === marker) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
    },
    close() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}
