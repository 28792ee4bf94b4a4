/**
 * What one GraphQL execution carries through Apollo Server and the gateway down to each
 * subgraph fetch (subgraphClient.ts), and what the fetches leave behind for the response
 * cache (pipeline/cacheSettle.ts).
 */
import type { Identity } from '../../platform/contract/identity.js';

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
}

export interface RequestCacheState {
  /** Entity tags the subgraph fetches read / wrote (subgraphs/kit/cassandra/entityTags.ts). */
  readonly reads: Set<string>;
  readonly writes: Set<string>;
  policy?: { maxAge: number; scope: 'PUBLIC' | 'PRIVATE' } | null;
  operation?: 'query' | 'mutation' | 'subscription';
  hadErrors?: boolean;
}

/** A subgraph's answer to one fetch, before parsing. */
export interface SubgraphReply {
  readonly text: string;
  readonly cacheControl: string | undefined;
}
