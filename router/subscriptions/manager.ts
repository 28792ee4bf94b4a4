/**
 * The router's subscriptions: who may subscribe to what, and how each event reaches each
 * subscriber (docs/subscriptions.md). The transports (sse.ts, ws.ts) authenticate the caller
 * as the GraphQL path does and hand the request here.
 *
 * 1. **Subscribe**: rate limit (one request), the limits per caller and per process, trusted
 *    documents, the document vetted and rewritten into its per-event query (operation.ts), then
 *    authorized by running, with the caller's identity, the query a client would run to read
 *    the fleet (`fleet(id:)`) or robot (`robot(id:) { fleet { id } }`): null → NOT_FOUND, an
 *    error → that error. The robot's fleet names the stream to read.
 * 2. **Group**: subscribers with the same per-event query and variables and the same
 *    organization and roles (cache/keys.ts `scopeKey`, PUBLIC) share one group, which joins the
 *    fleet's stream (streamHub.ts) and executes each event ONCE for all of them, or once per
 *    caller when the answer proved caller-scoped (eventResolution.ts), through Apollo Server and
 *    the gateway like any query (same plugins, limits, error
 *    masking), never the response cache, and reading the fleet subgraph's entities fresh rather
 *    than from the entity cache (`freshReadsFrom`: the event's write may not be purged yet).
 *    Up to 32 events of a group are executed at once; results are delivered in stream order.
 * 3. **Deliver**: each result is queued for each member (subscriber.ts); a member whose queue
 *    is full is ended with SLOW_CONSUMER, the others are not affected. SSE connections are
 *    written by sseDelivery.ts (one serialisation per event, one write per flush).
 * 4. **Resume**: a subscriber with a resume point (`after`, or SSE's Last-Event-ID) first gets
 *    the retained events after it (XRANGE, executed for it alone), then the group's live ones,
 *    without gap or repeat (both are ordered by id, and each member keeps its position); a
 *    resume point older than the retained window ends it with EVENTS_EXPIRED.
 * 5. **Revocation**: every SUBSCRIPTION_REAUTH_SECONDS each distinct credential is checked again
 *    (auth/authenticate.ts `check`); refused → its streams end with UNAUTHENTICATED.
 * 6. **Shutdown**: `close()` ends every stream with SERVER_RESTARTING (the transports also close
 *    WebSockets with 1012) before the HTTP server drains.
 *
 * @remarks
 * Why a group may be as wide as an organization and roles: the subgraphs report with each answer
 * whether it is PRIVATE (`@cacheControl(scope: PRIVATE)`, e.g. a user's sessions), and a PRIVATE
 * answer, a silent subgraph or a PRIVATE entity-cache hit makes the group execute per caller
 * from then on (eventResolution.ts); docs/subscriptions.md, "Per-event execution".
 */
import type { ApolloServer } from '@apollo/server';
import { GraphQLError, type GraphQLSchema, type ValidationRule } from 'graphql';
import { ErrorCode } from '../../platform/contract/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { ExecutionLimit } from '../executionLimit.js';
import type { RouterContext } from '../graphql/context.js';
import type { OperationLimits } from '../graphql/apolloServer.js';
import type { RouterMetrics } from '../metrics.js';
import type { Authenticated } from '../pipeline/requestState.js';
import type { RateLimiter } from '../rateLimit.js';
import type { TrustedDocuments } from '../trustedDocuments.js';
import { eventExecutor, type Execute } from './execute.js';
import { authorize, substituteTrustedDocument } from './authorize.js';
import { EventGroups } from './groups.js';
import { prepareSubscription, type SubscriptionRequest } from './operation.js';
import type { StreamHub } from './streamHub.js';
import { Subscriber, type EndReason } from './subscriber.js';

export interface SubscriptionSettings {
  readonly maxPerIdentity: number;
  readonly maxPerProcess: number;
  readonly bufferEvents: number;
  readonly keepAliveMs: number;
  /** SSE: how long a subscriber's events may wait to be written together (sseDelivery.ts). */
  readonly flushMs: number;
  readonly reauthMs: number;
}

export type Transport = 'sse' | 'ws';

/** An authenticated caller's subscription request, as a transport received it. */
export interface IncomingSubscription {
  readonly auth: Authenticated;
  /** The credential headers, kept to check them again (revocation). */
  readonly credentials: Readonly<Record<string, string>>;
  readonly clientAddress: string;
  readonly request: SubscriptionRequest;
  /** SSE's Last-Event-ID: the resume point, over the `after` argument. */
  readonly lastEventId?: string | undefined;
  readonly transport: Transport;
  /** The request was already counted by the rate limiter (an HTTP request, sse.ts). */
  readonly rateCounted: boolean;
}

interface Credential {
  readonly headers: Readonly<Record<string, string>>;
  readonly clientAddress: string;
  readonly subscribers: Set<Subscriber>;
}

export class Subscriptions {
  private readonly groups: EventGroups;
  private readonly execute: Execute;
  private readonly perIdentity = new Map<string, number>();
  private readonly credentials = new Map<string, Credential>();
  private readonly all = new Set<Subscriber>();
  private readonly reauth: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly deps: {
      readonly apollo: ApolloServer<RouterContext>;
      readonly schema: () => GraphQLSchema | undefined;
      readonly hub: StreamHub;
      readonly authenticator: Authenticator;
      readonly rateLimiter: RateLimiter;
      readonly executionLimit: ExecutionLimit;
      readonly trustedDocuments: TrustedDocuments;
      readonly metrics: RouterMetrics;
      readonly logger: Logger;
      readonly limits: OperationLimits;
      readonly rules: readonly ValidationRule[];
      readonly settings: SubscriptionSettings;
    },
  ) {
    this.execute = eventExecutor(deps);
    this.groups = new EventGroups({
      hub: deps.hub,
      execute: this.execute,
      bufferEvents: deps.settings.bufferEvents,
      metrics: deps.metrics,
      logger: deps.logger,
      end: (subscriber, reason) => this.end(subscriber, reason),
    });
    this.reauth = setInterval(() => void this.recheckCredentials(), deps.settings.reauthMs);
    this.reauth.unref();
  }

  get settings(): SubscriptionSettings {
    return this.deps.settings;
  }

  /** Open subscriptions (all transports). */
  get size(): number {
    return this.all.size;
  }

  /**
   * Subscribes; resolves the subscriber's stream of results, or the errors that refused it
   * (formatted as in a response: message and `extensions.code`).
   */
  async subscribe(incoming: IncomingSubscription): Promise<Subscriber | GraphQLError[]> {
    const { auth, transport } = incoming;
    const { settings, metrics } = this.deps;
    if (this.closing)
      return [refusal('The router is restarting; reconnect', ErrorCode.SERVER_RESTARTING)];
    const rate = incoming.rateCounted
      ? { allowed: true as const }
      : this.deps.rateLimiter.check(auth.rateSubject, auth.rateClass);
    if (!rate.allowed) {
      metrics.rateLimited.inc({ class: auth.rateClass });
      return [
        refusal(
          `Rate limit of ${rate.limit} requests per minute exceeded; retry after ${rate.retryAfterSeconds}s`,
          ErrorCode.RATE_LIMITED,
        ),
      ];
    }
    const request = substituteTrustedDocument(incoming, this.deps.trustedDocuments);
    if (!request)
      return [
        refusal(
          'This API key may only send registered operations (trusted documents); this operation is not registered',
          ErrorCode.OPERATION_NOT_TRUSTED,
        ),
      ];
    const schema = this.deps.schema();
    if (!schema) return [refusal('The schema is not loaded yet; retry', 'SERVICE_OVERLOADED')];
    const prepared = prepareSubscription(request, {
      schema,
      rules: this.deps.rules,
      maxTokens: this.deps.limits.maxTokens,
      maxCost: this.deps.limits.maxCost,
    });
    if (Array.isArray(prepared)) return prepared;
    const after = incoming.lastEventId ?? prepared.after;

    // Counted before the awaits below, so concurrent subscribes cannot overshoot.
    const overLimit = this.overLimit(auth.rateSubject);
    if (overLimit) return [overLimit];
    const subscriber = new Subscriber(
      {
        bufferEvents: settings.bufferEvents,
        coalesce: prepared.coalesce,
        onDelivered: () => metrics.subscriptionEventsDelivered.inc(),
      },
      after ?? '0-0',
    );
    this.track(subscriber, incoming, transport);

    const fleetId = await authorize(this.execute, auth, prepared).catch(
      (error: unknown) => [internal(error, this.deps.logger)] as GraphQLError[],
    );
    if (Array.isArray(fleetId)) {
      subscriber.end();
      return fleetId;
    }
    if (subscriber.closed) return subscriber;
    try {
      await this.groups.join(subscriber, fleetId, prepared, auth, after);
    } catch (error) {
      subscriber.end();
      this.deps.logger.warn({ err: error }, 'subscription could not join its event stream');
      return [
        refusal(
          'Events are unavailable right now (Redis); retry shortly',
          ErrorCode.SERVICE_OVERLOADED,
        ),
      ];
    }
    return subscriber;
  }

  /** The refusal of one more subscription for this caller, if it is over a limit. */
  private overLimit(who: string): GraphQLError | undefined {
    const { settings } = this.deps;
    if ((this.perIdentity.get(who) ?? 0) >= settings.maxPerIdentity)
      return refusal(
        `At most ${settings.maxPerIdentity} subscriptions may be open per caller (SUBSCRIPTIONS_MAX_PER_IDENTITY); end one first`,
        ErrorCode.TOO_MANY_SUBSCRIPTIONS,
      );
    if (this.all.size >= settings.maxPerProcess)
      return refusal(
        'This router serves its maximum of subscriptions (SUBSCRIPTIONS_MAX_PER_PROCESS); retry, another instance may take it',
        ErrorCode.TOO_MANY_SUBSCRIPTIONS,
      );
    return undefined;
  }

  /** Ends every subscription with SERVER_RESTARTING and stops reading events. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.reauth);
    for (const subscriber of [...this.all])
      this.end(subscriber, {
        message: 'The router is restarting; reconnect with your last event id',
        code: ErrorCode.SERVER_RESTARTING,
      });
    await this.deps.hub.close();
  }

  /** Ends one subscriber with a reason (counted by code). */
  end(subscriber: Subscriber, reason: EndReason): void {
    if (subscriber.closed) return;
    this.deps.metrics.subscriptionsEnded.inc({ code: reason.code });
    subscriber.end(reason);
  }

  private track(subscriber: Subscriber, incoming: IncomingSubscription, transport: Transport) {
    const { metrics } = this.deps;
    const who = incoming.auth.rateSubject;
    this.perIdentity.set(who, (this.perIdentity.get(who) ?? 0) + 1);
    this.all.add(subscriber);
    metrics.subscriptionsActive.inc({ transport });
    const credentialKey = JSON.stringify(incoming.credentials);
    let credential = this.credentials.get(credentialKey);
    if (!credential) {
      credential = {
        headers: incoming.credentials,
        clientAddress: incoming.clientAddress,
        subscribers: new Set(),
      };
      this.credentials.set(credentialKey, credential);
    }
    const held = credential;
    held.subscribers.add(subscriber);
    subscriber.onClose(() => {
      const left = (this.perIdentity.get(who) ?? 1) - 1;
      if (left > 0) this.perIdentity.set(who, left);
      else this.perIdentity.delete(who);
      this.all.delete(subscriber);
      metrics.subscriptionsActive.dec({ transport });
      held.subscribers.delete(subscriber);
      if (held.subscribers.size === 0) this.credentials.delete(credentialKey);
    });
  }

  /** Checks every credential in use again; ends the streams of those now refused. */
  private async recheckCredentials(): Promise<void> {
    for (const credential of [...this.credentials.values()]) {
      const headers = credential.headers;
      const auth = await this.deps.authenticator
        .check({ get: (name) => headers[name] }, credential.clientAddress)
        .catch(() => undefined);
      // Our own failure (a check that could not be made) is not a revocation.
      if (!auth || auth.ok || auth.retryable) continue;
      for (const subscriber of [...credential.subscribers])
        this.end(subscriber, { message: auth.message, code: ErrorCode.UNAUTHENTICATED });
    }
  }
}

function refusal(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

function internal(error: unknown, logger: Logger): GraphQLError {
  logger.error({ err: error }, 'subscription could not be authorized');
  return refusal('Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
}
