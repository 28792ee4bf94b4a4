/**
 * Single connection mode's stream tokens (sse.ts): who reserved each, the connection its stream
 * is open on, and how many each caller holds unopened.
 *
 * @remarks
 * A token is bound to the caller that reserved it (its rate subject: a user, an API key, an
 * anonymous address): another caller can neither open its stream nor add operations to it. A
 * reservation stays in memory until its stream is opened and ends (graphql-sse keeps one too),
 * so a caller may hold at most SUBSCRIPTIONS_MAX_PER_IDENTITY unopened ones: without a bound, one
 * authenticated client repeating `PUT` would grow the router's memory without end.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

interface StreamToken {
  readonly owner: string;
  res: ServerResponse | undefined;
}

export class SseStreams {
  private readonly tokens = new Map<string, StreamToken>();
  private readonly unopened = new Map<string, number>();

  constructor(private readonly maxUnopenedPerCaller: number) {}

  /** A new token for `owner`, or undefined when it already holds the most unopened ones. */
  reserve(owner: string): string | undefined {
    const held = this.unopened.get(owner) ?? 0;
    if (held >= this.maxUnopenedPerCaller) return undefined;
    const token = randomUUID();
    this.tokens.set(token, { owner, res: undefined });
    this.unopened.set(owner, held + 1);
    return token;
  }

  /** Whether `caller` may use `token` (it reserved it, or nobody did: graphql-sse answers 404). */
  mayUse(token: string, caller: string): boolean {
    const reserved = this.tokens.get(token);
    return !reserved || reserved.owner === caller;
  }

  /** The token's stream is open on `res`. */
  opened(token: string, res: ServerResponse): void {
    const reserved = this.tokens.get(token);
    if (!reserved || reserved.res) return;
    reserved.res = res;
    this.release(reserved.owner);
  }

  /** The connection the token's stream is open on, if it is. */
  connectionOf(token: string): ServerResponse | undefined {
    return this.tokens.get(token)?.res;
  }

  /** The token's stream ended: the token is gone. */
  ended(token: string): void {
    const reserved = this.tokens.get(token);
    if (!reserved) return;
    this.tokens.delete(token);
    if (!reserved.res) this.release(reserved.owner);
  }

  private release(owner: string): void {
    const held = (this.unopened.get(owner) ?? 1) - 1;
    if (held > 0) this.unopened.set(owner, held);
    else this.unopened.delete(owner);
  }
}
