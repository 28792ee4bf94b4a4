/**
 * The router's subscription limits (router/subscriptions/, docs/subscriptions.md), part of
 * routerVariables (variables.ts); apart only to keep that file readable.
 */
import { z } from 'zod';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const subscriptionVariables = {
  /**
   * Subscriptions (router/subscriptions/, docs/subscriptions.md): open at once per caller (a
   * user, an API key, an anonymous address) and per router process; past either, a new one is
   * refused with TOO_MANY_SUBSCRIPTIONS.
   */
  SUBSCRIPTIONS_MAX_PER_IDENTITY: int(1, 10_000, 20),
  SUBSCRIPTIONS_MAX_PER_PROCESS: int(1, 1_000_000, 10_000),
  /**
   * Events resolved for a subscriber but not yet written to its connection; one more ends that
   * subscriber with SLOW_CONSUMER (it resumes from its last event id), never anyone else.
   */
  SUBSCRIPTION_BUFFER_EVENTS: int(1, 100_000, 100),
  /**
   * SSE delivery (router/subscriptions/sseDelivery.ts): subscribers' connections are written to
   * at most this often (milliseconds), every event waiting since the last write in one write; an
   * event after a quiet spell is written at once. 0: every event at the end of the loop's turn.
   * Why: under a burst, one write per subscriber per event is what limits a router with many
   * subscribers (a system call and a client wake-up each); an event waits at most this long.
   */
  SUBSCRIPTION_FLUSH_MS: int(0, 1000, 50),
  /** Keep-alive: a WebSocket ping / an SSE comment line this often (seconds). */
  SUBSCRIPTION_KEEPALIVE_SECONDS: int(1, 300, 12),
  /**
   * How often each subscriber's credentials are checked again (seconds): a revoked session or
   * key, or an expired token, ends its streams with UNAUTHENTICATED within this plus the
   * revocation check's own cache (SESSION_CHECK_CACHE_SECONDS).
   */
  SUBSCRIPTION_REAUTH_SECONDS: int(1, 3600, 5),
};
