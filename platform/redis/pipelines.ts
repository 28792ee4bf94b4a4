/**
 * One command per item, sent as one pipeline per Redis node, the nodes at once: a Cluster
 * refuses a pipeline whose keys live on different nodes (client.ts, {@link pipelineGroupOf}),
 * and one pipeline per node keeps a batch of commands to one round trip however many there are.
 */
import { pipelineGroupOf, type RedisClient } from './client.js';

type Pipeline = ReturnType<RedisClient['pipeline']>;
type Reply = [Error | null, unknown];

/** Throws the first failed command's error unless `onReply` handles replies itself. */
export async function inPipelinesPerNode<T extends { readonly key: string }>(
  redis: RedisClient,
  items: readonly T[],
  command: (pipeline: Pipeline, item: T) => unknown,
  onReply: (item: T, reply: Reply) => void = (_item, [error]) => {
    if (error) throw error;
  },
): Promise<void> {
  const groupOf = pipelineGroupOf(redis);
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groupOf(item.key);
    const list = groups.get(group);
    if (list) list.push(item);
    else groups.set(group, [item]);
  }
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const pipeline = redis.pipeline();
      for (const item of group) command(pipeline, item);
      const replies = await pipeline.exec();
      if (!replies) throw new Error('Redis pipeline was not executed');
      group.forEach((item, i) => onReply(item, replies[i] as Reply));
    }),
  );
}
