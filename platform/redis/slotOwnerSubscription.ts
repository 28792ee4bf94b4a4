/**
 * On a Redis Cluster, a pub/sub subscription held on the master that serves one key's slot.
 *
 * @remarks
 * Why not ioredis's own Cluster subscriber: it listens through a random node, and a PUBLISH
 * reaches the other nodes' subscribers over the cluster bus, after the publisher already has
 * its reply. The response cache's purge script publishes on the master of `cache:{versions}`,
 * and a router must hear a purge before the writer acknowledges the write (docs/caching.md, "Why
 * it is never stale"): on that master the message is written to the subscriber's socket in the
 * same event-loop turn as the script's reply. Through another node it arrived late in 13 of 60
 * write-then-read rounds (test/e2e/cache-freshness.test.ts under `npm run test:redis-cluster`).
 *
 * Sharded pub/sub (SSUBSCRIBE, Redis 7) would give the same placement, but ioredis's sharded
 * subscribers reconnect and resubscribe silently, and a gap must be reported (`onLost`) so the
 * caller can drop what it may have missed. So this is one plain connection, not retried: when it
 * ends, or the slot's master changes (a failover, a resharding: the Cluster's `refresh`), the
 * caller hears `onLost`, and a new connection is opened to the slot's master of the moment.
 */
import { Redis, type Cluster } from 'ioredis';
import { keySlot } from './client.js';

export interface SubscriptionHandlers {
  /** A message, as published. */
  readonly onMessage: (message: string) => void;
  /** The subscription may have missed messages from now on. */
  readonly onLost: () => void;
  /** (Re)subscribed; a rejection closes the connection and it is tried again. */
  readonly onSubscribed: () => Promise<void>;
}

export interface Subscription {
  close(): void;
}

const RETRY_MS = 200;

export function subscribeOnSlotOwner(
  cluster: Cluster,
  key: string,
  channel: string,
  handlers: SubscriptionHandlers,
): Subscription {
  const slot = keySlot((cluster.options.keyPrefix ?? '') + key);
  const ownerNow = () => (cluster.status === 'ready' ? cluster.slots[slot]?.[0] : undefined);
  let connection: Redis | undefined;
  let owner: string | undefined;
  let closed = false;

  const openLater = () => {
    if (!closed) setTimeout(open, RETRY_MS).unref();
  };
  function open(): void {
    if (closed) return;
    owner = ownerNow();
    if (!owner) return openLater();
    const split = owner.lastIndexOf(':');
    const opened = new Redis({
      ...cluster.options.redisOptions,
      host: owner.slice(0, split),
      port: Number(owner.slice(split + 1)),
      keyPrefix: undefined,
      commandTimeout: undefined,
      enableOfflineQueue: true,
      lazyConnect: false,
      // Not retried in place: the slot may have moved; `end` opens a connection to its owner.
      retryStrategy: () => null,
    });
    connection = opened;
    opened.on('error', () => undefined);
    opened.on('message', (_channel: string, message: string) => handlers.onMessage(message));
    opened.once('ready', () => {
      opened
        .subscribe(channel)
        .then(handlers.onSubscribed)
        .catch(() => opened.disconnect());
    });
    opened.once('end', () => {
      if (connection !== opened) return;
      connection = undefined;
      handlers.onLost();
      openLater();
    });
  }

  // The slot's master changed while the connection stayed up: its messages now go elsewhere.
  const onRefresh = () => {
    const now = ownerNow();
    if (connection && now && now !== owner) connection.disconnect();
  };
  cluster.on('refresh', onRefresh);
  open();
  return {
    close() {
      closed = true;
      cluster.off('refresh', onRefresh);
      const last = connection;
      connection = undefined;
      last?.disconnect();
    },
  };
}
