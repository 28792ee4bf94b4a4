/**
 * The router's Prometheus metrics (prom-client), on its own Registry; served on /metrics of the
 * operations listener only (http/opsServer.ts), never on the public port.
 *
 * @remarks
 * Every label set is bounded, and none is chosen by a caller: `operation` is a registered
 * operation's name or `unregistered` (TrustedDocuments.operationLabel) — a label per name sent
 * would be a new series per name, unbounded memory, and would show other clients' operation
 * names; `code` comes from the error-code registry, `subgraph` from the supergraph, `class`
 * and `purpose` from this code.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createRouterMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Registered in this order, which is the order of /metrics.
  return {
    registry,
    ...requestMetrics(registers),
    ...subgraphMetrics(registers),
    ...admissionMetrics(registers),
    ...cacheMetrics(registers),
    ...subscriptionMetrics(registers),
  };
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;

type Registers = Registry[];

function requestMetrics(registers: Registers) {
  return {
    requests: new Counter({
      name: 'fleetgraph_router_requests_total',
      help: 'GraphQL requests by registered operation name (else "unregistered") and outcome',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'fleetgraph_router_request_duration_seconds',
      help: 'GraphQL request latency by registered operation name (else "unregistered")',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    errors: new Counter({
      name: 'fleetgraph_router_errors_total',
      help: 'GraphQL errors returned, by code',
      labelNames: ['code'],
      registers,
    }),
  };
}

function subgraphMetrics(registers: Registers) {
  return {
    subgraphFetches: new Counter({
      name: 'fleetgraph_router_subgraph_fetches_total',
      help: 'Subgraph fetches by subgraph and outcome',
      labelNames: ['subgraph', 'outcome'],
      registers,
    }),
    planExecutions: new Counter({
      name: 'fleetgraph_router_plan_executions_total',
      help: 'Query plans run, by executor (lean, or stock for what the lean one does not run)',
      labelNames: ['executor'],
      registers,
    }),
    subgraphFetchDuration: new Histogram({
      name: 'fleetgraph_router_subgraph_fetch_duration_seconds',
      help: 'Subgraph fetch latency',
      labelNames: ['subgraph'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    breakerState: new Gauge({
      name: 'fleetgraph_router_circuit_open',
      help: '1 while the subgraph circuit breaker is open',
      labelNames: ['subgraph'],
      registers,
    }),
  };
}

function admissionMetrics(registers: Registers) {
  return {
    executionsShed: new Counter({
      name: 'fleetgraph_router_executions_shed_total',
      help: 'Requests answered 503 SERVICE_OVERLOADED: the execution queue was full',
      registers,
    }),
    executionQueueSeconds: new Histogram({
      name: 'fleetgraph_router_execution_queue_seconds',
      help: 'Time a request waited for an execution slot (ROUTER_MAX_CONCURRENT_EXECUTIONS)',
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    executionsQueued: new Gauge({
      name: 'fleetgraph_router_executions_queued',
      help: 'Requests waiting for an execution slot',
      registers,
    }),
    rateLimited: new Counter({
      name: 'fleetgraph_router_rate_limited_total',
      help: 'Requests refused by the rate limiter, by class',
      labelNames: ['class'],
      registers,
    }),
  };
}

function cacheMetrics(registers: Registers) {
  return {
    cacheHits: new Counter({
      name: 'fleetgraph_router_cache_hits_total',
      help: 'Responses served from the response cache',
      registers,
    }),
    cacheMisses: new Counter({
      name: 'fleetgraph_router_cache_misses_total',
      help: 'Cacheable lookups that found nothing',
      registers,
    }),
    cacheStores: new Counter({
      name: 'fleetgraph_router_cache_stores_total',
      help: 'Responses stored in the response cache',
      registers,
    }),
    cacheAdmissionsDeferred: new Counter({
      name: 'fleetgraph_router_cache_admissions_deferred_total',
      help: 'Cacheable responses not stored yet: executed fewer than RESPONSE_CACHE_MIN_USES times',
      registers,
    }),
    cacheInvalidations: new Counter({
      name: 'fleetgraph_router_cache_invalidations_total',
      help: 'Tags whose version a purge bumped (each write purges the entities it wrote)',
      registers,
    }),
    cachePurgesUnconfirmed: new Counter({
      name: 'fleetgraph_router_cache_purges_unconfirmed_total',
      help: 'Purges Redis did not confirm in time: their tags are kept out of the cache here and retried',
      registers,
    }),
    cacheStoresRefused: new Counter({
      name: 'fleetgraph_router_cache_stores_refused_total',
      help: 'Responses not stored because something they read was purged while they executed',
      registers,
    }),
    cacheFollowers: new Counter({
      name: 'fleetgraph_router_cache_followers_total',
      help: "Requests that found their key's execution already running, by outcome: took_answer (the leader's, or that of an execution started after they came), led_afresh (woke to an answer a write had outdated and led that execution for the others), stored (then found in the cache), ran (executed alone), started_current (the running one was already outdated: led a new one)",
      labelNames: ['outcome'],
      registers,
    }),
    cacheOutdated: new Counter({
      name: 'fleetgraph_router_cache_outdated_total',
      help: 'Entries found in Redis whose recorded tag versions had moved (not served)',
      registers,
    }),
    cacheEntries: new Gauge({
      name: 'fleetgraph_router_cache_local_entries',
      help: 'Responses held in the in-process cache layer',
      registers,
    }),
    entityCacheHits: new Counter({
      name: 'fleetgraph_router_entity_cache_hits_total',
      help: 'Entities of _entities fetches served from the entity cache, by subgraph',
      labelNames: ['subgraph'],
      registers,
    }),
    entityCacheMisses: new Counter({
      name: 'fleetgraph_router_entity_cache_misses_total',
      help: 'Entities of cacheable _entities fetches sent to the subgraph, by subgraph',
      labelNames: ['subgraph'],
      registers,
    }),
    entityCacheLocalEntries: new Gauge({
      name: 'fleetgraph_router_entity_cache_local_entries',
      help: "Entities held in the entity cache's in-process layer",
      registers,
    }),
    redisBypasses: new Counter({
      name: 'fleetgraph_router_redis_bypass_total',
      help: 'Times Redis was unavailable and the router went on without it',
      labelNames: ['purpose'],
      registers,
    }),
  };
}

function subscriptionMetrics(registers: Registers) {
  return {
    subscriptionsActive: new Gauge({
      name: 'fleetgraph_router_subscriptions_active',
      help: 'Subscriptions open on this process, by transport (sse, ws)',
      labelNames: ['transport'],
      registers,
    }),
    subscriptionGroups: new Gauge({
      name: 'fleetgraph_router_subscription_groups',
      help: 'Groups of subscribers sharing one execution per event (same operation, variables and caller scope)',
      registers,
    }),
    subscriptionEventsDelivered: new Counter({
      name: 'fleetgraph_router_subscription_events_delivered_total',
      help: 'Event results handed to subscribers (one per subscriber and event)',
      registers,
    }),
    subscriptionEventExecutions: new Counter({
      name: 'fleetgraph_router_subscription_event_executions_total',
      help: 'Per-event executions through the query planner (one per group and event)',
      registers,
    }),
    subscriptionEventExecutionDuration: new Histogram({
      name: 'fleetgraph_router_subscription_event_execution_seconds',
      help: 'One per-event execution through the query planner, admission included: how long an event waits to be resolved before it is written to its subscribers',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    subscriptionsEnded: new Counter({
      name: 'fleetgraph_router_subscriptions_ended_total',
      help: 'Subscriptions the router ended, by error code (SLOW_CONSUMER, UNAUTHENTICATED, EVENTS_EXPIRED, SERVER_RESTARTING, …)',
      labelNames: ['code'],
      registers,
    }),
    subscriptionStreamReads: new Counter({
      name: 'fleetgraph_router_subscription_stream_reads_total',
      help: "Reads of the fleets' event streams by outcome (events, empty, error)",
      labelNames: ['outcome'],
      registers,
    }),
  };
}
