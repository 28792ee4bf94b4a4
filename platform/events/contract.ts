/**
 * The fleet's change events: what the write path (fleet subgraph) appends to Redis Streams and
 * what the router's subscriptions read. This file is the contract between the two; the
 * publisher is platform/events/publisher.ts, the router's reader router/subscriptions/.
 *
 * @remarks
 * - **One stream per fleet**, `events:{fleet:<fleetId>}` (plus the process's key prefix). Every
 *   subscription is scoped to one fleet or one robot, and a robot's events are in its fleet's
 *   stream, so a subscriber reads exactly one stream. The hash tag keeps a stream in one slot of
 *   a Redis Cluster.
 * - **Ids are Redis stream ids** (`<ms>-<seq>`), ordered within a fleet: a client resumes with
 *   the last id it received (SSE `Last-Event-ID`, or the `after` argument) and gets every event
 *   after it that is still retained.
 * - **Retention**: {@link EVENT_RETENTION_MS} by time (XADD … MINID ~), capped at
 *   {@link EVENT_RETENTION_MAX_LENGTH} entries per fleet. A client that resumes from an id older
 *   than the window is told so (it must refetch), never silently given a gap.
 * - An event carries ids and the kind of change only, never field values: the router resolves
 *   what each subscriber selected through the query planner with that subscriber's identity,
 *   so authorization and tenant isolation are those of a query.
 */

/** What changed. */
export type FleetEventKind =
  | 'ROBOT_REGISTERED'
  | 'ROBOT_STATUS_CHANGED'
  | 'TELEMETRY_REPORTED'
  | 'MISSION_ASSIGNED'
  | 'MISSION_COMPLETED';

/** One change, as stored in the fleet's stream (every field a string: stream entries are flat). */
export interface FleetEvent {
  /** The stream id; absent before it is appended. */
  readonly id: string;
  readonly kind: FleetEventKind;
  readonly organizationId: string;
  readonly fleetId: string;
  readonly robotId: string;
  /** MISSION_* events: the mission. */
  readonly missionId?: string;
  /** TELEMETRY_REPORTED: the newest sample time recorded (ISO 8601). */
  readonly sampleTime?: string;
  /** TELEMETRY_REPORTED: the oldest sample time recorded (ISO 8601); with sampleTime, the range. */
  readonly sampleFrom?: string;
  /** How many samples were recorded (TELEMETRY_REPORTED). */
  readonly sampleCount?: number;
  /** When the write was acknowledged by Cassandra (ISO 8601). */
  readonly at: string;
}

/** How long events stay readable for a client that resumes: 10 minutes. */
export const EVENT_RETENTION_MS = 10 * 60 * 1000;

/**
 * The subgraph whose writes emit the events (its publisher, platform/events/publisher.ts): an
 * event may be executed before the router that made its write has purged that write from its
 * caches, so a subscription reads this subgraph's entities fresh (router/subscriptions/), while
 * the other subgraphs' entities, which the event's write did not change, may come from the
 * entity cache, kept fresh by their own writes' purges as for any query.
 */
export const EVENT_SOURCE_SUBGRAPH = 'fleet';

/** At most this many entries per fleet stream, whatever their age. */
export const EVENT_RETENTION_MAX_LENGTH = 100_000;

/** The stream of one fleet (without the Redis key prefix, which ioredis adds). */
export function fleetStreamKey(fleetId: string): string {
  return `events:{fleet:${fleetId}}`;
}

/** A Redis stream id, as clients send it back. */
export const STREAM_ID = /^\d{1,16}-\d{1,10}$/;

/** Flattens an event into stream entry fields (XADD key * f1 v1 f2 v2 …). */
export function toStreamFields(event: Omit<FleetEvent, 'id'>): string[] {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(event)) {
    if (value !== undefined && name !== 'id') fields.push(name, String(value));
  }
  return fields;
}

/** Reads a stream entry back; undefined when it is not a fleet event. */
export function fromStreamEntry(id: string, fields: readonly string[]): FleetEvent | undefined {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  const { kind, organizationId, fleetId, robotId, at } = record;
  if (!kind || !organizationId || !fleetId || !robotId || !at) return undefined;
  return {
    id,
    kind: kind as FleetEventKind,
    organizationId,
    fleetId,
    robotId,
    at,
    ...(record['missionId'] ? { missionId: record['missionId'] } : {}),
    ...(record['sampleTime'] ? { sampleTime: record['sampleTime'] } : {}),
    ...(record['sampleFrom'] ? { sampleFrom: record['sampleFrom'] } : {}),
    ...(record['sampleCount'] ? { sampleCount: Number(record['sampleCount']) } : {}),
  };
}

/** Every kind, in the order of the GraphQL enum FleetEventKind (schema/subgraphs/fleet.graphql). */
export const FLEET_EVENT_KINDS: readonly FleetEventKind[] = [
  'ROBOT_REGISTERED',
  'ROBOT_STATUS_CHANGED',
  'TELEMETRY_REPORTED',
  'MISSION_ASSIGNED',
  'MISSION_COMPLETED',
];

/**
 * The subscription fields of the fleet subgraph (Subscription in schema/subgraphs/fleet.graphql)
 * and how each is served: which stream entries it delivers, and the query field that resolves
 * one delivered event.
 *
 * @remarks
 * The router executes a subscription per event as a query: `robotChanged(fleetId: $f)` becomes
 * `robotEvent(fleetId: $f, eventId: <the event's id>)` with the same alias and selection
 * ({@link EVENT_ID_ARGUMENT} added), planned and authorized like any query. `scope` says how a
 * subscriber's stream is found: `fleet` — the argument is the fleet's id; `robot` — the argument
 * is a robot's id, whose fleet the router looks up (`query { robot(id:) { fleet { id } } }`).
 * The fleet subgraph's own `subscribe` resolvers filter with {@link deliversEvent} too, so both
 * deliver the same events.
 */
export const SUBSCRIPTIONS = {
  robotChanged: {
    queryField: 'robotEvent',
    scope: 'fleet',
    argument: 'fleetId',
    kinds: FLEET_EVENT_KINDS,
  },
  missionChanged: {
    queryField: 'missionEvent',
    scope: 'robot',
    argument: 'robotId',
    kinds: ['MISSION_ASSIGNED', 'MISSION_COMPLETED'],
  },
  telemetryReported: {
    queryField: 'telemetryEvent',
    scope: 'robot',
    argument: 'robotId',
    kinds: ['TELEMETRY_REPORTED'],
  },
} as const satisfies Record<
  string,
  {
    queryField: string;
    scope: 'fleet' | 'robot';
    argument: string;
    kinds: readonly FleetEventKind[];
  }
>;
export type SubscriptionField = keyof typeof SUBSCRIPTIONS;

/** Subscription field → the query field that resolves one of its events. */
export const SUBSCRIPTION_QUERY_FIELDS = Object.fromEntries(
  Object.entries(SUBSCRIPTIONS).map(([field, { queryField }]) => [field, queryField]),
) as { readonly [F in SubscriptionField]: (typeof SUBSCRIPTIONS)[F]['queryField'] };

/** The argument the router adds to the query field: the id of the event to resolve. */
export const EVENT_ID_ARGUMENT = 'eventId';

/**
 * Whether a subscription delivers an event of its stream: the kind is one it delivers and, for a
 * robot-scoped subscription, the event is the robot's (`scopeId`: the subscription's argument).
 */
export function deliversEvent(
  field: SubscriptionField,
  scopeId: string,
  event: FleetEvent,
): boolean {
  const subscription = SUBSCRIPTIONS[field];
  if (!(subscription.kinds as readonly FleetEventKind[]).includes(event.kind)) return false;
  const id = scopeId.toLowerCase();
  return subscription.scope === 'fleet' ? event.fleetId === id : event.robotId === id;
}
