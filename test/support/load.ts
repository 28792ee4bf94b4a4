/**
 * A bounded steady load through the router for fault tests: a fixed number of concurrent
 * callers, each sending one request after another (with a short pause) until the duration is
 * over, recording what every request got back. Nothing here retries: a request that fails is a
 * failure, and one that takes longer than `requestTimeoutMs` is aborted and recorded as hung.
 */
export interface LoadRequest {
  /** A short name for figures and assertion messages. */
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

export interface GraphQLErrorShape {
  readonly message: string;
  readonly path?: (string | number)[];
  readonly extensions?: Record<string, unknown>;
}

export interface LoadResult {
  readonly name: string;
  readonly caller: number;
  /** Epoch milliseconds when the request was sent and when its answer was read. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ms: number;
  /** 0 when no HTTP answer came back (see `failure`). */
  readonly status: number;
  readonly cache: string | null;
  readonly errors: readonly GraphQLErrorShape[];
  readonly data: Record<string, unknown> | null | undefined;
  /** Set when the request did not get an HTTP answer: a transport error or the abort timeout. */
  readonly failure?: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly callers: number;
  /** A hard bound: the load stops by itself after this long even if `stop()` is never called. */
  readonly maxDurationMs: number;
  /** Pause between one caller's requests, so the load is steady rather than saturating. */
  readonly pauseMs: number;
  /** A request taking longer than this is aborted and recorded as a failure ("hung"). */
  readonly requestTimeoutMs: number;
  /** What caller `caller` sends as its `n`-th request. */
  next(caller: number, n: number): LoadRequest;
  /** Keep the response data of successful requests (default false: only of partial ones). */
  readonly keepData?: boolean;
}

export interface Load {
  /** What has come back so far (in completion order). */
  readonly results: readonly LoadResult[];
  /** Lets every caller finish its current request, then resolves with all results by start. */
  stop(): Promise<LoadResult[]>;
}

export function startLoad(options: LoadOptions): Load {
  const results: LoadResult[] = [];
  const stopAt = Date.now() + options.maxDurationMs;
  let stopped = false;
  const running = Promise.all(
    Array.from({ length: options.callers }, async (_, caller) => {
      for (let n = 0; !stopped && Date.now() < stopAt; n++) {
        results.push(await send(options, caller, options.next(caller, n)));
        await new Promise((r) => setTimeout(r, options.pauseMs));
      }
    }),
  );
  return {
    results,
    async stop() {
      stopped = true;
      await running;
      return [...results].sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}

async function send(
  options: LoadOptions,
  caller: number,
  request: LoadRequest,
): Promise<LoadResult> {
  const startedAt = Date.now();
  const started = performance.now();
  const base = { name: request.name, caller, startedAt };
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...request.headers,
      },
      body: JSON.stringify({ query: request.query, variables: request.variables ?? {} }),
      signal: AbortSignal.timeout(options.requestTimeoutMs),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let body: { data?: Record<string, unknown> | null; errors?: GraphQLErrorShape[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return {
        ...base,
        endedAt: Date.now(),
        ms,
        status: response.status,
        cache: null,
        errors: [],
        data: undefined,
        failure: `not JSON: ${text.slice(0, 200)}`,
      };
    }
    return {
      ...base,
      endedAt: Date.now(),
      ms,
      status: response.status,
      cache: response.headers.get('x-cache'),
      errors: body.errors ?? [],
      data: options.keepData || (body.errors?.length ?? 0) > 0 ? body.data : undefined,
    };
  } catch (error) {
    const name = (error as Error).name;
    return {
      ...base,
      endedAt: Date.now(),
      ms: performance.now() - started,
      status: 0,
      cache: null,
      errors: [],
      data: undefined,
      failure:
        name === 'TimeoutError'
          ? `hung (aborted after ${options.requestTimeoutMs} ms)`
          : `${name}: ${(error as Error).message}`,
    };
  }
}

/** True when a request got a 200 with no GraphQL errors. */
export const succeeded = (r: LoadResult): boolean =>
  r.status === 200 && r.errors.length === 0 && r.failure === undefined;

/** The `p`-quantile (0..1) of a list of numbers. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
