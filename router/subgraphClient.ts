/**
 * How the router calls a subgraph: a RemoteGraphQLDataSource with
 * - pooled keep-alive HTTP through undici (one Agent per router, not make-fetch-happen),
 * - a per-request timeout (SUBGRAPH_TIMEOUT_MS),
 * - retries with exponential backoff for queries only — a mutation is never sent twice,
 * - a circuit breaker per subgraph (opossum): after repeated failures the subgraph is not
 *   called for a few seconds, its fields fail fast and the rest of the response still comes
 *   back (the gateway turns a failed fetch into partial data plus errors),
 * - the caller's identity signed for the subgraph (identity.ts) and the request id.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type {
  GatewayGraphQLRequestContext,
  GatewayGraphQLResponse,
} from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import CircuitBreaker from 'opossum';
import { Agent, fetch as undiciFetch } from 'undici';
import { TAGS_EXTENSION, TAGS_REQUEST_HEADER } from '../subgraphs/shared/cache/entityTags.js';
import { REQUEST_ID_HEADER, signIdentity, type Identity } from '../subgraphs/shared/identity.js';
import type { RouterMetrics } from './metrics.js';

export interface RouterContext {
  readonly identity: Identity;
  readonly requestId: string;
  /** What the response cache needs to know about this request, filled during execution. */
  readonly cache: RequestCacheState;
}

export interface RequestCacheState {
  /** Entity tags the subgraph fetches read / wrote (subgraphs/shared/cache/entityTags.ts). */
  readonly reads: Set<string>;
  readonly writes: Set<string>;
  policy?: { maxAge: number; scope: 'PUBLIC' | 'PRIVATE' } | null;
  operation?: 'query' | 'mutation' | 'subscription';
  hadErrors?: boolean;
}

export interface SubgraphClientOptions {
  readonly name: string;
  readonly url: string;
  readonly signingSecret: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly metrics: RouterMetrics;
  readonly agent: Agent;
}

/** Shared keep-alive pool for all subgraph calls of one router process. */
export function createSubgraphAgent(): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 256,
    pipelining: 1,
  });
}

export class SubgraphClient extends RemoteGraphQLDataSource<RouterContext> {
  private readonly breaker: CircuitBreaker<
    [() => Promise<GatewayGraphQLResponse>],
    GatewayGraphQLResponse
  >;

  constructor(private readonly options: SubgraphClientOptions) {
    super({
      url: options.url,
      fetcher: ((url: string, init: Record<string, unknown>) =>
        undiciFetch(url, {
          ...init,
          dispatcher: options.agent,
          signal: AbortSignal.timeout(options.timeoutMs),
        } as never)) as never,
    });
    this.breaker = new CircuitBreaker((call: () => Promise<GatewayGraphQLResponse>) => call(), {
      timeout: false, // the fetch has its own timeout
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

  override willSendRequest({
    request,
    context,
  }: GraphQLDataSourceProcessOptions<RouterContext>): void {
    const headers = request.http?.headers;
    if (!headers || !context?.identity) return;
    for (const [name, value] of Object.entries(
      signIdentity(context.identity, this.options.signingSecret),
    )) {
      headers.set(name, value);
    }
    headers.set(REQUEST_ID_HEADER, context.requestId);
    headers.set(TAGS_REQUEST_HEADER, '1');
  }

  /** Takes the fetch's entity tags out of the response before the gateway merges it. */
  override didReceiveResponse({
    response,
    context,
  }: Required<
    Pick<GatewayGraphQLRequestContext<RouterContext>, 'request' | 'response' | 'context'>
  >): GatewayGraphQLResponse {
    const tags = response.extensions?.[TAGS_EXTENSION] as
      { reads?: string[]; writes?: string[] } | undefined;
    if (tags && context?.cache) {
      for (const tag of tags.reads ?? []) context.cache.reads.add(tag);
      for (const tag of tags.writes ?? []) context.cache.writes.add(tag);
      delete response.extensions![TAGS_EXTENSION];
    }
    return response;
  }

  override async process(
    options: GraphQLDataSourceProcessOptions<RouterContext>,
  ): Promise<GatewayGraphQLResponse> {
    const { name, metrics } = this.options;
    const isMutation = /^\s*mutation\b/.test(options.request.query ?? '');
    const attempts = isMutation ? 1 : this.options.retries + 1;
    const stopTimer = metrics.subgraphFetchDuration.startTimer({ subgraph: name });
    try {
      const response = await this.breaker.fire(() => this.withRetries(options, attempts));
      metrics.subgraphFetches.inc({ subgraph: name, outcome: 'ok' });
      return response;
    } catch (error) {
      metrics.subgraphFetches.inc({
        subgraph: name,
        outcome: this.breaker.opened ? 'circuit_open' : 'error',
      });
      // The gateway places this error on the fields this fetch would have resolved.
      throw new GraphQLError(
        this.breaker.opened && (error as { code?: string }).code === 'EOPENBREAKER'
          ? `Subgraph ${name} is unavailable (circuit open)`
          : `Subgraph ${name} failed: ${(error as Error).message}`,
        { extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: name } },
      );
    } finally {
      stopTimer();
    }
  }

  private async withRetries(
    options: GraphQLDataSourceProcessOptions<RouterContext>,
    attempts: number,
  ): Promise<GatewayGraphQLResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.process(options);
      } catch (error) {
        // Only transport failures are retried; a subgraph's 4xx answer will not change.
        const status = (error as { extensions?: { response?: { status?: number } } }).extensions
          ?.response?.status;
        if (attempt >= attempts || (status !== undefined && status < 500)) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, 25 * 2 ** (attempt - 1) + Math.random() * 25),
        );
      }
    }
  }
}
