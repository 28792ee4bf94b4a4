/**
 * How the router calls a subgraph: a lean GraphQLDataSource written for this router.
 *
 * @remarks
 * Why not RemoteGraphQLDataSource: profiling the bare gateway showed its subgraph HTTP stack
 * (make-fetch-happen, minipass-fetch, node-fetch Request/Headers objects per fetch) among the
 * top costs. This client sends each fetch with undici's `request` over one keep-alive pool and
 * does only what the router needs:
 * - a per-fetch deadline (SUBGRAPH_TIMEOUT_MS) on the whole answer, headers and body (see
 *   `send`),
 * - retries with exponential backoff for queries only — a mutation is never sent twice,
 * - a circuit breaker per subgraph (opossum): after repeated failures the subgraph is not
 *   called for a few seconds; its fields fail fast and the rest of the response still comes
 *   back (the gateway turns a failed fetch into partial data plus errors),
 * - the caller's identity, encoded once per request and signed per fetch for this subgraph and
 *   this body (identity.ts: a captured header set is good for nothing else), and the request id,
 * - identical fetches within one request (same subgraph, same body) sent once,
 * - the subgraph's Cache-Control folded into the request's cache policy, and its entity tags
 *   (subgraphs/kit/cassandra/entityTags.ts) collected for the response cache,
 * - a query's `_entities` fetches through the entity cache (entityFetch.ts): only the
 *   entities it does not hold are asked for.
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type {
  GatewayGraphQLRequest,
  GatewayGraphQLResponse,
} from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import CircuitBreaker from 'opossum';
import type { Agent } from 'undici';
import {
  policyTag,
  TAGS_EXTENSION,
  TAGS_REQUEST_HEADER,
  type ReportedTags,
} from '../platform/contract/entityTags.js';
import { ErrorCode } from '../platform/contract/errors.js';
import {
  encodeIdentity,
  REQUEST_ID_HEADER,
  signEncodedIdentity,
} from '../platform/contract/identity.js';
import type { EntityCache } from './cache/entityCache.js';
import {
  fetchEntities,
  isEntitiesFetch,
  restrictCachePolicy,
  type Fetched,
} from './entityFetch.js';
import type { RouterContext, SubgraphReply } from './graphql/context.js';
import type { Logger } from '../platform/logger.js';
import type { RouterMetrics } from './metrics.js';
import { failureOf, mayHaveExecuted, SubgraphHttpError } from './subgraphFailures.js';
import { postToSubgraph, subgraphTarget, type SubgraphTarget } from './subgraphHttp.js';

export { createSubgraphAgent } from './subgraphHttp.js';

export interface SubgraphClientOptions {
  readonly name: string;
  readonly url: string;
  readonly signingSecret: string;
  readonly timeoutMs: number;
  /**
   * The deadline of a mutation's fetch (SUBGRAPH_MUTATION_TIMEOUT_MS): longer, because a
   * mutation is sent once, and one given up on may still commit — its deadline must outlast the
   * subgraph's own write path (a logged batch waits out a dead Cassandra node's conviction,
   * ~20-30 s: platform/cassandra/client.ts, docs/cassandra-cluster.md).
   */
  readonly mutationTimeoutMs: number;
  readonly retries: number;
  readonly metrics: RouterMetrics;
  readonly agent: Agent;
  /**
   * Which entity tags to ask the subgraph for: 'all' with the response cache on; 'writes'
   * without it (purges only) — the read tags of a 100-robot dashboard are ~11 KB of JSON per
   * fetch that nobody would read.
   */
  readonly tags: 'all' | 'writes';
  /** Where a failed fetch's detail is logged (never sent to the client). */
  readonly logger?: Pick<Logger, 'warn'>;
  /** The entity cache (ENTITY_CACHE): `_entities` fetches of queries go through it. */
  readonly entityCache?: EntityCache;
  /** Told the policy fingerprint of every answer (TagVersions.policySeen). */
  readonly onPolicy?: (subgraph: string, fingerprint: string) => void;
}

export class SubgraphClient implements GraphQLDataSource<RouterContext> {
  private readonly breaker: CircuitBreaker<[() => Promise<SubgraphReply>], SubgraphReply>;
  /** The URL's query string, which the subgraph sees and the signature covers. */
  private readonly search: string;
  private readonly target: SubgraphTarget;

  constructor(private readonly options: SubgraphClientOptions) {
    const at = options.url.indexOf('?');
    this.search = at < 0 ? '' : options.url.slice(at).replace(/#.*$/, '');
    this.target = subgraphTarget(options.url);
    this.breaker = new CircuitBreaker((call: () => Promise<SubgraphReply>) => call(), {
      timeout: false, // each attempt has its own timeout
      errorThresholdPercentage: 50,
      volumeThreshold: 4,
      rollingCountTimeout: 10_000,
      resetTimeout: 3000,
    });
    const gauge = options.metrics.breakerState;
    this.breaker.on('open', () => gauge.set({ subgraph: options.name }, 1));
    this.breaker.on('close', () => gauge.set({ subgraph: options.name }, 0));
    gauge.set({ subgraph: options.name }, 0);
  }

  get circuitOpen(): boolean {
    return this.breaker.opened;
  }

  async process(
    options: GraphQLDataSourceProcessOptions<RouterContext>,
  ): Promise<GatewayGraphQLResponse> {
    const { request: fetch } = options;
    const context = options.context as RouterContext | undefined;
    if (!fetch.query) throw new Error('Missing query');
    const isMutation = /^\s*mutation\b/.test(fetch.query);
    const { entityCache: cache, name, metrics } = this.options;
    const fresh = context?.freshReadsFrom === name;
    if (cache && context && !fresh && !isMutation && isEntitiesFetch(fetch)) {
      const overallPolicy =
        'incomingRequestContext' in options
          ? options.incomingRequestContext.overallCachePolicy
          : undefined;
      const entities = { cache, subgraph: name, metrics, context, request: fetch, overallPolicy };
      // Every tag, whatever the response cache: the entity cache stores under them.
      return fetchEntities(entities, (variables) => this.fetchOnce(options, variables, '1'));
    }
    const tags = this.options.tags === 'all' ? '1' : 'writes';
    return (await this.fetchOnce(options, fetch.variables, tags)).response;
  }

  /** One fetch to the subgraph (deduplicated within the request), with `variables`. */
  private async fetchOnce(
    options: GraphQLDataSourceProcessOptions<RouterContext>,
    variables: GatewayGraphQLRequest['variables'],
    tagsWanted: '1' | 'writes',
  ): Promise<Fetched> {
    const { name } = this.options;
    const { request: fetch } = options;
    const context = options.context as RouterContext | undefined;
    const isMutation = /^\s*mutation\b/.test(fetch.query!);
    const body = JSON.stringify({
      query: fetch.query,
      variables,
      operationName: fetch.operationName,
    });
    const headers = this.headersFor(context, body, tagsWanted);
    const reply = await this.dispatch(context, name, body, headers, isMutation);

    // Parsed per consumer: a deduplicated reply may feed two fetch nodes, and the gateway
    // merges results into the objects it is given.
    const response = JSON.parse(reply.text) as GatewayGraphQLResponse;
    const tags = response.extensions?.[TAGS_EXTENSION] as ReportedTags | undefined;
    if (context?.cache && (!tags || tags.scope === 'PRIVATE')) context.cache.callerScoped = true;
    if (tags) {
      if (context?.cache) {
        for (const tag of tags.reads ?? []) context.cache.reads.add(tag);
        for (const tag of tags.writes ?? []) context.cache.writes.add(tag);
        context.cache.reads.add(policyTag(name));
      }
      if (tags.policy) this.options.onPolicy?.(name, tags.policy);
      delete response.extensions![TAGS_EXTENSION];
    }
    if ('incomingRequestContext' in options)
      restrictCachePolicy(options.incomingRequestContext.overallCachePolicy, reply.cacheControl);
    return {
      response,
      cacheControl: reply.cacheControl,
      reads: tagsWanted === '1' ? (tags?.reads ?? undefined) : undefined,
    };
  }

  /** Sends a body (once per request and body), through the breaker, counting and logging. */
  private async dispatch(
    context: RouterContext | undefined,
    name: string,
    body: string,
    headers: Record<string, string>,
    isMutation: boolean,
  ): Promise<SubgraphReply> {
    const { metrics } = this.options;
    const stopTimer = metrics.subgraphFetchDuration.startTimer({ subgraph: name });
    try {
      const memo = isMutation ? undefined : context?.fetchState?.fetches;
      const memoKey = `${name}\n${body}`;
      let pending = memo?.get(memoKey);
      if (!pending) {
        const attempts = isMutation ? 1 : this.options.retries + 1;
        const timeoutMs = isMutation ? this.options.mutationTimeoutMs : this.options.timeoutMs;
        pending = this.breaker.fire(() => this.sendWithRetries(body, headers, attempts, timeoutMs));
        memo?.set(memoKey, pending);
      }
      const reply = await pending;
      metrics.subgraphFetches.inc({ subgraph: name, outcome: 'ok' });
      return reply;
    } catch (error) {
      metrics.subgraphFetches.inc({
        subgraph: name,
        outcome: this.breaker.opened ? 'circuit_open' : 'error',
      });
      // A mutation that may have committed without telling us what it wrote: everything it
      // could have touched is purged, i.e. everything (docs/caching.md, "unknown outcomes").
      if (isMutation && mayHaveExecuted(error)) context?.cache.writes.add('*');
      // The detail (addresses, the subgraph's own body) goes to the log under the request id;
      // the client learns which subgraph failed and how, in words that reveal no internals.
      this.options.logger?.warn(
        { err: error, subgraph: name, requestId: context?.requestId },
        'subgraph fetch failed',
      );
      // The gateway places this error on the fields this fetch would have resolved.
      throw new GraphQLError(`Subgraph ${name} is unavailable (${failureOf(error)})`, {
        extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, subgraph: name },
      });
    } finally {
      stopTimer();
    }
  }

  /**
   * The identity is encoded once per request; the signature is per fetch, over this subgraph's
   * name and this body (an HMAC and a SHA-256 of a few KB: microseconds).
   */
  private headersFor(
    context: RouterContext | undefined,
    body: string,
    tagsWanted: '1' | 'writes',
  ): Record<string, string> {
    const base: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      [TAGS_REQUEST_HEADER]: tagsWanted,
    };
    if (!context?.identity) return base;
    const state = context.fetchState;
    const encoded = state?.encodedIdentity ?? encodeIdentity(context.identity);
    if (state && !state.encodedIdentity) state.encodedIdentity = encoded;
    const signed = signEncodedIdentity(encoded, this.options.signingSecret, {
      subgraph: this.options.name,
      body,
      search: this.search,
    });
    return { ...base, ...signed, [REQUEST_ID_HEADER]: context.requestId };
  }

  private async sendWithRetries(
    body: string,
    headers: Record<string, string>,
    attempts: number,
    timeoutMs: number,
  ): Promise<SubgraphReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await postToSubgraph(this.target, this.options.agent, body, headers, timeoutMs);
      } catch (error) {
        // A subgraph's 4xx answer will not change on a retry.
        const status = error instanceof SubgraphHttpError ? error.status : undefined;
        if (attempt >= attempts || (status !== undefined && status < 500)) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, 25 * 2 ** (attempt - 1) + Math.random() * 25),
        );
      }
    }
  }
}
