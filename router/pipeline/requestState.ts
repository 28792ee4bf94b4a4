/**
 * The one per-request object of the GraphQL pipeline (handleGraphQL.ts): created once per
 * request, handed from stage to stage, each stage filling in what the later ones need.
 *
 * @remarks
 * A class so that every request's state has the same shape from the start (all fields are
 * assigned in the constructor or declared here), and so that `clientGone` is a prototype
 * getter rather than a closure per request. It is the only allocation the pipeline adds to
 * the cache-hit path.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER } from '../../platform/contract/identity.js';
import { headerReaderOf } from '../../platform/http.js';
import type { Authentication } from '../auth/authenticate.js';
import type { Flight } from '../cache/flights.js';
import type { VersionSnapshot } from '../cache/tagVersions.js';
import type { RequestCacheState } from '../graphql/context.js';

export type Authenticated = Extract<Authentication, { ok: true }>;

/** What a stage did: answered the request (the pipeline stops), or passed it on. */
export type StageOutcome = 'answered' | 'next';
export const ANSWERED: StageOutcome = 'answered';
export const NEXT: StageOutcome = 'next';

export class RequestState {
  /** The caller's x-request-id, or a new one; echoed on the response and sent to subgraphs. */
  readonly id: string;
  /** Only read in place; copied into a HeaderMap once the request is executed. */
  readonly headers: { get(name: string): string | undefined };
  readonly method: string;
  /** Set by authenticate, which every other stage follows. */
  auth!: Authenticated;
  /** The POST body as sent (readBody); undefined for other methods. */
  raw: string | undefined = undefined;
  /** The parsed body (vetOperation), with a trusted document's text filled in. */
  body: unknown = undefined;
  /** Identifies the request's bytes (cacheLookup); undefined when the cache is off. */
  requestHash: string | undefined = undefined;
  /** The cache entry's key (cacheLookup); undefined while the request's policy is unknown. */
  cacheKey: string | undefined = undefined;
  /** Whose concurrent misses compute once (cacheLookup, singleFlight). */
  flightKey: string | undefined = undefined;
  /** The flight this request leads, if it does (singleFlight → execute, cacheSettle). */
  flight: Flight | undefined = undefined;
  /** What the execution's subgraph fetches read and wrote (execute → cacheSettle). */
  cache!: RequestCacheState;
  /** The tag versions as known before the execution's fetches (execute → cacheSettle). */
  snapshot: VersionSnapshot | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The request target's query string ('' or '?…'). */
    readonly search: string,
  ) {
    this.id = String(req.headers[REQUEST_ID_HEADER] ?? randomUUID());
    this.headers = headerReaderOf(req);
    this.method = req.method ?? 'GET';
  }

  /** The client has hung up: there is no one left to answer. */
  get clientGone(): boolean {
    return this.res.destroyed || this.req.socket.destroyed;
  }
}
