/**
 * The pub/sub connection on which every router instance hears the others' purges (published
 * by the purge script itself, so in `~seq` order: tagVersions.ts).
 *
 * @remarks
 * The connection is platform/redis/client.ts's `createSubscriber` (queues until connected, no
 * command timeout). Whenever it may have missed a message — closed, reconnecting, or on a
 * Redis Cluster the node it listened through gone — `onLost` is called and the subscription
 * and state are set up again once it is usable.
 */
import { createSubscriber, type RedisClient } from '../../platform/redis/client.js';

export interface ChannelHandlers {
  /** A purge message, as published. */
  readonly onMessage: (message: string) => void;
  /** The connection dropped: messages may be missed from now on. */
  readonly onLost: () => void;
  /** (Re)subscribed: read the current state; a rejection makes it try again shortly. */
  readonly onSubscribed: () => Promise<void>;
}

export function subscribeToInvalidations(
  redis: RedisClient,
  channel: string,
  handlers: ChannelHandlers,
): RedisClient {
  const subscriber = createSubscriber(redis);
  subscriber.on('message', (_channel: string, message: string) => handlers.onMessage(message));
  const activate = () => {
    if (subscriber.status !== 'ready') return;
    subscriber
      .subscribe(channel)
      .then(handlers.onSubscribed)
      .catch(() => setTimeout(activate, 200).unref());
  };
  const lost = () => {
    handlers.onLost();
    // Once usable again ('ready' also calls it): subscribe and read the state afresh.
    setTimeout(activate, 200).unref();
  };
  subscriber.on('close', lost);
  subscriber.on('reconnecting', lost);
  // A Cluster moves its subscription to another node by itself when one fails, without a
  // 'close' of its own: messages published meanwhile may be lost.
  subscriber.on('-node', lost);
  subscriber.on('node error', lost);
  subscriber.on('ready', activate);
  return subscriber;
}
