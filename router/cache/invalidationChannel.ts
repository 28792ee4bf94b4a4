/**
 * The pub/sub subscription on which every router instance hears the others' purges (published
 * by the purge script itself, so in `~seq` order: tagVersions.ts).
 *
 * @remarks
 * - One Redis: platform/redis/client.ts's `createSubscriber` (queues until connected, no
 *   command timeout, reconnects by itself).
 * - A Redis Cluster: a connection to the master of `cache:{versions}`'s slot, where the purge
 *   script runs and publishes (platform/redis/slotOwnerSubscription.ts says why: heard through
 *   another node, a purge could arrive after the write it covers was acknowledged).
 *
 * Whenever it may have missed a message — closed, reconnecting, or the node it listened on
 * gone — `onLost` is called and the subscription and state are set up again once it is usable.
 */
import { Cluster } from 'ioredis';
import { createSubscriber, type RedisClient } from '../../platform/redis/client.js';
import {
  subscribeOnSlotOwner,
  type Subscription,
  type SubscriptionHandlers,
} from '../../platform/redis/slotOwnerSubscription.js';
import { VERSIONS_KEY } from './purgeScript.js';

export type { Subscription };

export function subscribeToInvalidations(
  redis: RedisClient,
  channel: string,
  handlers: SubscriptionHandlers,
): Subscription {
  if (redis instanceof Cluster) return subscribeOnSlotOwner(redis, VERSIONS_KEY, channel, handlers);
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
  subscriber.on('ready', activate);
  return { close: () => subscriber.disconnect() };
}
