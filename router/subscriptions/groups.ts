/**
 * Subscription groups (manager.ts step 2–4): subscribers with the same per-event query,
 * variables and caller scope share one group, which joins its fleet's stream (streamHub.ts)
 * and executes each event once for all of its members, in stream order; a resuming member first
 * gets its backlog, executed for it alone, then the group's live results.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import { deliversEvent, type FleetEvent } from '../../platform/events/contract.js';
import type { Logger } from '../../platform/logger.js';
import { scopeKey } from '../cache/keys.js';
import type { RouterMetrics } from '../metrics.js';
import type { Authenticated } from '../pipeline/requestState.js';
import type { Execute } from './execute.js';
import {
  entityOf,
  EventResolver,
  SHARED,
  type Resolution,
  type ResolvedGroup,
} from './eventResolution.js';
import type { PreparedSubscription } from './operation.js';
import type { StreamHub } from './streamHub.js';
import { compareIds } from './streamIds.js';
import type { EndReason, EventResult, Subscriber } from './subscriber.js';

interface Member {
  readonly subscriber: Subscriber;
  /** Its caller (identity, key): who may share an execution whose answer is caller-scoped. */
  readonly caller: string;
  readonly auth: Authenticated;
  /** Set while a resuming member reads its backlog: the group's live results wait here. */
  pendingLive: EventResult[] | undefined;
}

/**
 * Per-event executions one group runs at once. Results are still delivered in stream order; the
 * router's execution limit (executionLimit.ts) bounds the process as a whole. A group keeps up
 * while an execution takes less than this many gaps between events: 32 at 50 events/s is 640 ms.
 * With 8 (160 ms), a fan-out run on a saturated 2-core machine fell 100 events behind and ended
 * all 1,000 members (bench/results/runs/fanout-1000-subscribers-50eps-flush.md).
 */
const EXECUTIONS_IN_FLIGHT = 32;

class Group implements ResolvedGroup {
  readonly members = new Set<Member>();
  get memberCount(): number {
    return this.members.size;
  }
  /** Events received from the stream, not yet executed (in order). */
  readonly work: FleetEvent[] = [];
  /** The id of the last stream entry the group received: new members start after it. */
  received = '0-0';
  running = false;
  /** Executions started and not yet delivered, in stream order (at most EXECUTIONS_IN_FLIGHT). */
  readonly inFlight: { readonly event: FleetEvent; readonly result: Promise<Resolution> }[] = [];
  /**
   * Whether its event executions depend on the caller beyond organization and roles, learned
   * from the first one (a PRIVATE or silent subgraph answer): then each caller of the group gets
   * its own execution per event; otherwise one serves them all.
   */
  callerScoped: boolean | undefined;
  /** Settles once the group has joined its stream (and knows its position). */
  ready: Promise<void> = Promise.resolve();
  readonly listener = (events: readonly FleetEvent[]) => this.groups.receive(this, events);

  constructor(
    readonly key: string,
    readonly fleetId: string,
    readonly prepared: PreparedSubscription,
    private readonly groups: EventGroups,
  ) {}
}

export class EventGroups {
  private readonly groups = new Map<string, Group>();
  private readonly resolver: EventResolver;

  constructor(
    private readonly deps: {
      readonly hub: StreamHub;
      readonly execute: Execute;
      readonly bufferEvents: number;
      readonly metrics: RouterMetrics;
      readonly logger: Logger;
      /** Ends a subscriber with a reason (counted by the manager). */
      readonly end: (subscriber: Subscriber, reason: EndReason) => void;
    },
  ) {
    this.resolver = new EventResolver({ execute: deps.execute, metrics: deps.metrics });
  }

  /** Adds the subscriber to its group (created and joined to the stream if new), then resumes. */
  async join(
    subscriber: Subscriber,
    fleetId: string,
    prepared: PreparedSubscription,
    auth: Authenticated,
    after: string | undefined,
  ): Promise<void> {
    // Callers who may share a cached response (organization and roles, keys.ts) share a group;
    // whether they may share each event's execution is learned from it (Group.callerScoped).
    const key = `${prepared.operationKey}|${scopeKey(auth.identity, 'PUBLIC', auth.requireTrustedDocuments)}`;
    const caller = scopeKey(auth.identity, 'PRIVATE', auth.requireTrustedDocuments);
    let group = this.groups.get(key);
    if (!group) {
      const created = new Group(key, fleetId, prepared, this);
      this.groups.set(key, created);
      this.deps.metrics.subscriptionGroups.set(this.groups.size);
      created.ready = this.deps.hub.join(fleetId, created.listener).then(
        (position) => {
          created.received = position;
        },
        (error: unknown) => {
          if (this.groups.get(key) === created) this.groups.delete(key);
          this.deps.metrics.subscriptionGroups.set(this.groups.size);
          throw error;
        },
      );
      group = created;
    }
    // A group just created waits for its stream's position; its joiners with it.
    await group.ready;
    const member: Member = {
      subscriber,
      caller,
      auth,
      pendingLive: after === undefined ? undefined : [],
    };
    if (after === undefined) subscriber.position = group.received;
    group.members.add(member);
    const joined = group;
    subscriber.onClose(() => this.leave(joined, member));
    // In the background: the backlog waits for the transport to read, which it does once
    // subscribe() has returned the subscriber.
    if (after !== undefined) void this.resume(joined, member, after, joined.received);
  }

  private leave(group: Group, member: Member): void {
    group.members.delete(member);
    if (group.members.size > 0 || this.groups.get(group.key) !== group) return;
    this.groups.delete(group.key);
    this.deps.metrics.subscriptionGroups.set(this.groups.size);
    this.deps.hub.leave(group.fleetId, group.listener);
    group.work.length = 0;
  }

  /** A resuming member: the retained events after `after` up to `until`, then the live ones. */
  private async resume(group: Group, member: Member, after: string, until: string) {
    const { subscriber } = member;
    const { field, scopeId } = group.prepared;
    try {
      for await (const page of this.deps.hub.backlog(group.fleetId, after, until)) {
        if (page === 'expired') {
          this.deps.end(subscriber, {
            message: `Events after ${after} are no longer retained; refetch the current state, then subscribe without a resume point`,
            code: ErrorCode.EVENTS_EXPIRED,
          });
          return;
        }
        for (const event of page) {
          if (subscriber.closed) return;
          if (!deliversEvent(field, scopeId, event)) continue;
          await subscriber.room();
          const item = await this.resolver.executeFor(
            group,
            member.auth,
            event,
            () => !subscriber.closed,
          );
          if (item === 'stop' || subscriber.closed) return;
          if (item) this.offer(subscriber, item);
          else subscriber.position = event.id;
        }
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'subscription backlog could not be read');
      this.deps.end(subscriber, {
        message: 'Events are unavailable right now (Redis); resume with your last event id',
        code: ErrorCode.SERVICE_OVERLOADED,
      });
      return;
    }
    const live = member.pendingLive ?? [];
    member.pendingLive = undefined;
    for (const item of live)
      if (compareIds(item.eventId, subscriber.position) > 0) this.offer(subscriber, item);
  }

  /** Told by the stream hub: the fleet's new events, in order. */
  receive(group: Group, events: readonly FleetEvent[]): void {
    const { field, scopeId, coalesce } = group.prepared;
    for (const event of events) {
      if (!deliversEvent(field, scopeId, event)) continue;
      if (coalesce) {
        const older = group.work.findIndex((queued) => entityOf(queued) === entityOf(event));
        if (older >= 0) group.work.splice(older, 1);
      }
      group.work.push(event);
    }
    const last = events[events.length - 1];
    if (last) group.received = last.id;
    if (group.work.length > this.deps.bufferEvents) {
      for (const member of [...group.members])
        this.deps.end(member.subscriber, {
          message:
            'The router fell behind the events of this subscription; resume with your last event id',
          code: ErrorCode.SERVICE_OVERLOADED,
        });
      return;
    }
    if (group.running) this.fill(group);
    else void this.drain(group);
  }

  /**
   * Starts executions of the group's queued events while fewer than
   * {@link EXECUTIONS_IN_FLIGHT} run; their results are delivered in stream order by
   * {@link drain}. One at a time, a group kept up only while each execution took less than the
   * gap between events (20 ms at 50 events/s): the fan-out benchmark's groups fell 100 events
   * behind in 2 s and every member was ended.
   */
  private fill(group: Group): void {
    while (group.inFlight.length < EXECUTIONS_IN_FLIGHT && group.work.length > 0) {
      const event = group.work.shift()!;
      const result = this.resolver.resolve(group, event);
      // Settled in order by drain(); a rejection must not go unhandled meanwhile.
      result.catch(() => undefined);
      group.inFlight.push({ event, result });
    }
  }

  /** Hands the results of the group's executions to its members, in stream order. */
  private async drain(group: Group): Promise<void> {
    group.running = true;
    try {
      this.fill(group);
      while (group.inFlight.length > 0 && group.members.size > 0) {
        const { event, result } = group.inFlight[0]!;
        const resolution = await result;
        group.inFlight.shift();
        if (resolution === 'stop') return;
        this.deliver(group, event, resolution);
        this.fill(group);
      }
    } finally {
      group.running = false;
    }
  }

  /** One event's result to every member, unless it already has it (or is reading a backlog). */
  private deliver(group: Group, event: FleetEvent, resolution: Resolution): void {
    if (resolution === 'stop') return;
    for (const member of [...group.members]) {
      const { subscriber } = member;
      // A member who joined after the execution started is past this event (its position).
      if (!resolution.has(SHARED) && !resolution.has(member.caller)) continue;
      const item = resolution.get(SHARED) ?? resolution.get(member.caller);
      if (member.pendingLive) {
        if (item) member.pendingLive.push(item);
        continue;
      }
      if (compareIds(event.id, subscriber.position) <= 0) continue;
      if (item) this.offer(subscriber, item);
      else subscriber.position = event.id;
    }
  }

  private offer(subscriber: Subscriber, item: EventResult): void {
    if (subscriber.push(item)) return;
    this.deps.end(subscriber, {
      message: `More than ${this.deps.bufferEvents} events were waiting to be sent to this subscriber (SUBSCRIPTION_BUFFER_EVENTS); read faster, then resume with your last event id`,
      code: ErrorCode.SLOW_CONSUMER,
    });
  }
}
