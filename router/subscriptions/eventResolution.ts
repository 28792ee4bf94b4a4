/**
 * Executing one event for a subscription group (groups.ts): once for every member when the
 * answer does not depend on the caller beyond organization and roles, else once per caller.
 *
 * @remarks
 * Whether it depends on the caller is learned from the execution itself: each subgraph says,
 * with its entity tags, when its answer's `@cacheControl` scope is PRIVATE (an operator's
 * session counts, a user's own sessions), and a subgraph that says nothing counts as PRIVATE
 * (RequestCacheState.callerScoped). The same contract lets the response cache share a PUBLIC
 * response among callers of one organization and roles (cache/keys.ts). So 1,000 consoles of
 * one organization watching robots cost one execution per event, not 1,000; a selection with a
 * caller-scoped field costs one per caller, and the group remembers that.
 */
import type { FleetEvent } from '../../platform/events/contract.js';
import type { RouterMetrics } from '../metrics.js';
import type { Authenticated } from '../pipeline/requestState.js';
import type { Execute } from './execute.js';
import { EVENT_ID_VARIABLE, type PreparedSubscription } from './operation.js';
import type { EventResult } from './subscriber.js';
import { EVENT_SOURCE_SUBGRAPH } from '../../platform/events/contract.js';

/** The key of an event's one result for every member of a group (not caller-scoped). */
export const SHARED = '*';

/** An event's results for a group's members (by caller, or SHARED), or 'stop'. */
export type Resolution = Map<string, EventResult | undefined> | 'stop';

/** What the resolver needs of a group. */
export interface ResolvedGroup {
  readonly prepared: PreparedSubscription;
  readonly members: Iterable<{ readonly caller: string; readonly auth: Authenticated }>;
  readonly memberCount: number;
  /** Learned from the first execution (undefined until then). */
  callerScoped: boolean | undefined;
}

export class EventResolver {
  constructor(
    private readonly deps: { readonly execute: Execute; readonly metrics: RouterMetrics },
  ) {}

  /**
   * An event's results for the group: one for every member (key {@link SHARED}) when its
   * execution is not caller-scoped, else one per caller; 'stop' when no member is left.
   */
  async resolve(group: ResolvedGroup, event: FleetEvent): Promise<Resolution> {
    const wanted = () => group.memberCount > 0;
    const byCaller = new Map<string, Authenticated>();
    for (const member of group.members)
      if (!byCaller.has(member.caller)) byCaller.set(member.caller, member.auth);
    const resolution: Map<string, EventResult | undefined> = new Map();
    let callers = [...byCaller];
    if (group.callerScoped !== true) {
      const [first] = callers;
      if (!first) return 'stop';
      const executed = await this.execution(group, first[1], event, wanted);
      if (executed === 'stop') return 'stop';
      if (!executed.callerScoped) {
        group.callerScoped = false;
        return resolution.set(SHARED, executed.item);
      }
      group.callerScoped = true;
      resolution.set(first[0], executed.item);
      callers = callers.slice(1);
    }
    const items = await Promise.all(
      callers.map(async ([caller, auth]) => {
        const executed = await this.execution(group, auth, event, wanted);
        return [caller, executed] as const;
      }),
    );
    for (const [caller, executed] of items) {
      if (executed === 'stop') return 'stop';
      resolution.set(caller, executed.item);
    }
    return resolution;
  }

  /** One member's own execution of an event (its backlog when it resumes). */
  async executeFor(
    group: ResolvedGroup,
    auth: Authenticated,
    event: FleetEvent,
    wanted: () => boolean,
  ): Promise<EventResult | undefined | 'stop'> {
    const executed = await this.execution(group, auth, event, wanted);
    return executed === 'stop' ? 'stop' : executed.item;
  }

  /**
   * One per-event execution as `auth`: the result to send (undefined when the event is not
   * visible to the caller: the query field answered null without error) and whether it is
   * caller-scoped, or 'stop' when it is no longer wanted.
   */
  private async execution(
    group: ResolvedGroup,
    auth: Authenticated,
    event: FleetEvent,
    wanted: () => boolean,
  ): Promise<{ item: EventResult | undefined; callerScoped: boolean } | 'stop'> {
    const { prepared } = group;
    this.deps.metrics.subscriptionEventExecutions.inc();
    const timer = this.deps.metrics.subscriptionEventExecutionDuration.startTimer();
    const executed = await this.deps.execute(
      auth,
      prepared.query,
      { ...prepared.variables, [EVENT_ID_VARIABLE]: event.id },
      EVENT_SOURCE_SUBGRAPH,
      wanted,
    );
    timer();
    if (executed === undefined) return 'stop';
    const { result, callerScoped } = executed;
    const data = result.data as Record<string, unknown> | null | undefined;
    if (!result.errors?.length && data?.[prepared.responseKey] == null)
      return { item: undefined, callerScoped };
    return {
      item: {
        eventId: event.id,
        entity: entityOf(event),
        result: { ...result, extensions: { ...result.extensions, eventId: event.id } },
      },
      callerScoped,
    };
  }
}

/** What coalescing collapses by: the mission of a mission event, else the robot. */
export function entityOf(event: FleetEvent): string {
  return event.missionId ? `Mission:${event.missionId}` : `Robot:${event.robotId}`;
}
