/**
 * One bounded load run with autocannon at a fixed number of connections.
 *
 * @remarks
 * Every request is built by `setupRequest` from a {@link RequestSource}, which hands out the next
 * identity of a pre-minted pool (and the next variables): no two requests in a row share a
 * caller, so no router can answer many users with one execution. Latency percentiles are
 * computed here from every response time (autocannon's own summary has no p95). Every response
 * body is checked for GraphQL errors (`"errors":[` in a 2xx body), which is a substring search
 * over the body autocannon accumulates anyway.
 */
import autocannon from 'autocannon';
import { round } from './procstat.js';

/** Where a target's requests come from: the next headers and body, one request at a time. */
export interface RequestSource {
  /** Names the operation; sent as x-bench-response so the bare http server knows what to answer. */
  readonly responseKey: string;
  next(): { readonly headers: Readonly<Record<string, string>>; readonly body: string };
}

export interface LoadFigures {
  readonly connections: number;
  readonly seconds: number;
  /** Responses received within the run. */
  readonly requests: number;
  /** Requests sent, including those still in flight when the run ended. */
  readonly sent: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly mean: number;
    readonly max: number;
  };
  readonly errors: {
    readonly non2xx: number;
    readonly transport: number;
    readonly timeouts: number;
    readonly graphql: number;
    readonly total: number;
    /** The first error body seen, cut short, to say what went wrong. */
    readonly sample?: string;
  };
  readonly bytesPerResponse: number;
}

export const BENCH_RESPONSE_HEADER = 'x-bench-response';

export async function runLoad(options: {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly sources: readonly RequestSource[];
  /** Caps the requests per second of all connections together (default: as fast as answered). */
  readonly overallRate?: number;
}): Promise<LoadFigures> {
  const latencies: number[] = [];
  let bytes = 0;
  let graphqlErrors = 0;
  let sample: string | undefined;
  const requests = options.sources.map((source) => ({
    method: 'POST' as const,
    path: new URL(options.url).pathname,
    setupRequest: (request: autocannon.Request) => {
      const next = source.next();
      return {
        ...request,
        headers: {
          ...request.headers,
          ...next.headers,
          'content-type': 'application/json',
          accept: 'application/json',
          [BENCH_RESPONSE_HEADER]: source.responseKey,
        },
        body: next.body,
      };
    },
    onResponse: (status: number, body: string) => {
      if (status >= 200 && status < 300) {
        if (body.includes('"errors":[')) {
          graphqlErrors++;
          sample ??= `${status} ${body.slice(0, 300)}`;
        }
      } else {
        sample ??= `${status} ${body.slice(0, 300)}`;
      }
    },
  }));

  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        pipelining: 1,
        timeout: 10,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        requests,
      },
      (error: unknown, finished) => (error ? reject(error as Error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, responseBytes, responseTime) => {
      latencies.push(responseTime);
      bytes += responseBytes;
    });
  });
  const seconds = Math.max(0.001, (performance.now() - started) / 1000);

  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
  const mean = sorted.length ? sorted.reduce((sum, x) => sum + x, 0) / sorted.length : 0;
  const non2xx = result.non2xx;
  const transport = result.errors;
  return {
    connections: options.connections,
    seconds: round(seconds, 2),
    requests: latencies.length,
    sent: Math.max(latencies.length, result.requests.sent),
    requestsPerSecond: round(latencies.length / seconds, 1),
    latencyMs: {
      p50: round(at(0.5), 2),
      p95: round(at(0.95), 2),
      p99: round(at(0.99), 2),
      mean: round(mean, 2),
      max: round(sorted.length ? sorted[sorted.length - 1]! : 0, 2),
    },
    errors: {
      non2xx,
      transport,
      timeouts: result.timeouts,
      graphql: graphqlErrors,
      total: non2xx + transport + graphqlErrors,
      ...(sample ? { sample } : {}),
    },
    bytesPerResponse: latencies.length ? Math.round(bytes / latencies.length) : 0,
  };
}
