/**
 * What one GraphQL execution carries through Apollo Server and the gateway down to each
 * subgraph fetch (subgraphClient.ts), and what the fetches leave behind for the response
 * cache (pipeline/cacheSettle.ts).
 */
import type { Identity } from '../../platform/contract/identity.js';
import type { Authenticated } from '../pipeline/requestState.js';

export interface RouterContext {
  readonly identity: Identity;
  readonly requestId: string;
  /** A partner key limited to trusted documents: part of who may share cached data (keys.ts). */
  readonly restricted?: boolean;
  /** What the response cache needs to know about this request, filled during execution. */
  readonly cache: RequestCacheState;
  /** Per-request memo of the encoded identity and of in-flight identical fetches. */
  readonly fetchState?: {
    encodedIdentity?: string;
    fetches: Map<string, Promise<SubgraphReply>>;
  };
  /**
   * Read this subgraph's entities from the subgraph, not the entity cache: a subscription's
   * per-event execution (router/subscriptions/) may run before the router that made the event's
   * write has purged it, and the write was this subgraph's (platform/events/contract.ts
   * `EVENT_SOURCE_SUBGRAPH`). Other subgraphs' entities are cached as for any query.
   */
  readonly freshReadsFrom?: string;
}

/**
 * The one place a RouterContext is made from an authenticated caller: a query's or mutation's
 * execution (pipeline/execute.ts) and a subscription's per-event executions
 * (subscriptions/), so both send subgraphs the same signed identity.
 */
export function routerContextOf(
  auth: Pick<Authenticated, 'identity' | 'requireTrustedDocuments'>,
  requestId: string,
  cache: RequestCacheState = { reads: new Set(), writes: new Set() },
  options: { freshReadsFrom?: string } = {},
): RouterContext {
  return {
    identity: auth.identity,
    requestId,
    restricted: auth.requireTrustedDocuments,
    cache,
    fetchState: { fetches: new Map() },
    ...(options.freshReadsFrom ? { freshReadsFrom: options.freshReadsFrom } : {}),
  };
}

export interface RequestCacheState {
  /** Entity tags the subgraph fetches read / wrote (subgraphs/kit/cassandra/entityTags.ts). */
  readonly reads: Set<string>;
  readonly writes: Set<string>;
  policy?: { maxAge: number; scope: 'PUBLIC' | 'PRIVATE' } | null;
  operation?: 'query' | 'mutation' | 'subscription';
  hadErrors?: boolean;
  /**
   * Whether the answer may depend on who asked beyond organization and roles: a fetch's
   * subgraph reported PRIVATE scope, or reported no tags at all (not known: assumed so). Read
   * by subscriptions to decide who may share an event's execution (subscriptions/groups.ts).
   */
  callerScoped?: boolean;
}

/** A subgraph's answer to one fetch, before parsing. */
export interface SubgraphReply {
  readonly text: string;
  readonly cacheControl: string | undefined;
}
