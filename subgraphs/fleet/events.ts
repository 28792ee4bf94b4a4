/**
 * fleet subgraph: its change events — the Redis connection they go through, the publisher the
 * mutations hand them to after their writes, and the readers of the event fields (query and
 * subscription). Opened once per server (subgraph.ts `open`), shared by every request.
 *
 * @remarks
 * The connection is the project's fail-fast client (platform/redis/client.ts): a command fails
 * after REDIS_COMMAND_TIMEOUT_MS and nothing is queued while Redis is away, so a mutation waits
 * for its event at most that long (publisher.ts keeps what Redis did not take).
 */
import { GraphQLError } from 'graphql';
import type { SubgraphConfig } from '../../platform/config/load.js';
import { ErrorCode } from '../../platform/contract/errors.js';
import {
  deliversEvent,
  type FleetEvent,
  type SubscriptionField,
} from '../../platform/events/contract.js';
import {
  EventPublisher,
  type NewFleetEvent,
  type PublishOutcome,
} from '../../platform/events/publisher.js';
import { FleetStreamFollower, newestEventId, readEvent } from '../../platform/events/stream.js';
import { createRedis, createSubscriber, type RedisClient } from '../../platform/redis/client.js';
import { StartupError } from '../../platform/startup.js';
import type { BaseContext, ResourceDeps, SubgraphResources } from '../kit/server.js';

/** How long an event read waits for a slow Redis, in attempts of REDIS_COMMAND_TIMEOUT_MS. */
const EVENT_READ_BUDGET_MS = 2000;
const EVENT_READ_RETRY_MS = 20;

/** How long a stopping server lets queued events reach Redis before it drops them. */
const CLOSE_GRACE_MS = 2000;

export class FleetEvents {
  constructor(
    private readonly redis: RedisClient,
    private readonly publisher: EventPublisher,
  ) {}

  /** After an acknowledged write: appends the event (never throws; see publisher.ts). */
  publish(event: Omit<NewFleetEvent, 'at'>): Promise<PublishOutcome> {
    return this.publisher.publish({ ...event, at: new Date().toISOString() } as NewFleetEvent);
  }

  /**
   * One retained event of the fleet's stream (undefined: unknown or expired).
   *
   * Unlike a cache read, the stream is where an event exists at all, so a slow Redis is waited
   * for: each attempt fails after REDIS_COMMAND_TIMEOUT_MS, and attempts go on for up to
   * {@link EVENT_READ_BUDGET_MS}. Then the field fails with SERVICE_OVERLOADED (the subscriber
   * gets that event as an error and the stream goes on), never INTERNAL_SERVER_ERROR. Seen in
   * the fan-out benchmark: one event of 1,000 lost to a 100 ms timeout on a saturated machine.
   */
  async read(fleetId: string, eventId: string): Promise<FleetEvent | undefined> {
    const deadline = Date.now() + EVENT_READ_BUDGET_MS;
    for (;;) {
      try {
        return await readEvent(this.redis, fleetId, eventId);
      } catch (error) {
        if (Date.now() >= deadline)
          throw new GraphQLError(
            `The event ${eventId} could not be read from Redis within ${EVENT_READ_BUDGET_MS} ms; resume with your last event id`,
            { extensions: { code: ErrorCode.SERVICE_OVERLOADED }, originalError: error as Error },
          );
        await new Promise((resolve) => setTimeout(resolve, EVENT_READ_RETRY_MS));
      }
    }
  }

  /**
   * The events `field` delivers for `scopeId` (its fleet or robot), after `after` — or, without
   * it, after the stream's newest event now, so nothing appended from this call on is missed.
   */
  async follow(
    field: SubscriptionField,
    fleetId: string,
    scopeId: string,
    after: string | null,
  ): Promise<FleetStreamFollower> {
    const from = after ?? (await newestEventId(this.redis, fleetId));
    // XREAD BLOCK holds a connection: each follower has its own, without the command timeout
    // and queueing while Redis reconnects (createSubscriber's settings).
    return new FleetStreamFollower({
      connection: createSubscriber(this.redis),
      fleetId,
      after: from,
      filter: (event) => deliversEvent(field, scopeId, event),
    });
  }

  /** Events waiting for Redis (tests and shutdown). */
  flushed(): Promise<void> {
    return this.publisher.flushed();
  }

  get outboxSize(): number {
    return this.publisher.outboxSize;
  }
}

/** The fleet subgraph's `open`: its Redis connection and event publisher. */
export async function openFleetEvents(deps: ResourceDeps): Promise<SubgraphResources> {
  const settings = redisSettingsOf(deps.config);
  const redis = createRedis({ redis: settings });
  // Errors surface where commands fail (the publisher logs and queues); without a listener
  // ioredis would print every reconnection failure.
  redis.on('error', () => undefined);
  const { eventsPublished, eventsRetried, eventsDropped } = deps.metrics;
  const publisher = new EventPublisher({
    redis,
    logger: deps.logger.child({ component: 'fleet-events' }),
    waitMs: settings.commandTimeoutMs,
    metrics: {
      published: (kind) => eventsPublished.inc({ kind }),
      retried: (kind) => eventsRetried.inc({ kind }),
      dropped: (kind) => eventsDropped.inc({ kind }),
    },
  });
  return {
    value: new FleetEvents(redis, publisher),
    async close() {
      await publisher.close(CLOSE_GRACE_MS);
      redis.disconnect();
    },
  };
}

function redisSettingsOf(config: SubgraphConfig) {
  if (!config.redis)
    throw new StartupError(`${config.name} subgraph: no Redis settings (the fleet slice has them)`);
  return config.redis;
}

/** The request's events, from what `open` gave the server. */
export function fleetEventsOf(base: BaseContext): FleetEvents {
  if (base.resources instanceof FleetEvents) return base.resources;
  throw new StartupError(
    'fleet subgraph: a context without its event streams (build the server with createSubgraphServer, which calls fleetSubgraph.open)',
  );
}
