/**
 * The HTTP side of a subgraph fetch: one keep-alive pool per router process, and one POST with a
 * deadline on the whole answer (subgraphClient.ts does retries, the breaker and the rest).
 */
import { Agent, type Dispatcher } from 'undici';
import type { SubgraphReply } from './graphql/context.js';
import { isGraphQLErrorResponse, SubgraphHttpError } from './subgraphFailures.js';

/** Shared keep-alive pool for all subgraph calls of one router process. */
export function createSubgraphAgent(): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 256,
    pipelining: 1,
  });
}

/** Where a subgraph's requests go, as undici's `dispatch` takes it: parse the URL once. */
export interface SubgraphTarget {
  readonly origin: string;
  readonly path: string;
}

export function subgraphTarget(url: string): SubgraphTarget {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

/**
 * One POST, answered with the whole body as text.
 *
 * @remarks
 * Through undici's `dispatch` with a handler that collects the body's chunks, not its
 * `request`: that wraps every answer in a Readable stream, an AbortSignal listener and a
 * promise per body, which profiling the router-bound scenario showed costing more than the
 * collecting itself (16 fetches per operation; figures in docs/federation.md).
 *
 * undici's headersTimeout and bodyTimeout bound the wait for the headers and each pause between
 * body chunks, not the whole answer: a subgraph streaming its body a few bytes at a time held
 * the request for as long as it streamed (test/faults/subgraph-loss.test.ts saw ~10 s with a
 * 400 ms timeout). One timer per attempt makes SUBGRAPH_TIMEOUT_MS a deadline; it also covers
 * the wait for a pooled connection.
 */
export function postToSubgraph(
  { origin, path }: SubgraphTarget,
  agent: Agent,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SubgraphReply> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let deadlineError: Error | undefined;
    let settled = false;
    let status = 0;
    let cacheControl: string | undefined;
    const chunks: Buffer[] = [];
    const settle = (error: unknown, reply?: SubgraphReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(reply!);
    };
    const timer = setTimeout(() => {
      // ABORT_ERR: reported to the client as "timed out" (subgraphFailures.ts).
      deadlineError = Object.assign(new Error(`no complete answer within ${timeoutMs} ms`), {
        code: 'ABORT_ERR',
      });
      controller?.abort(deadlineError);
      settle(deadlineError);
    }, timeoutMs);
    try {
      agent.dispatch(
        {
          origin,
          path,
          method: 'POST',
          headers,
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        {
          onRequestStart(started) {
            controller = started;
            // Still queued for a connection when the deadline passed: not sent at all.
            if (deadlineError) started.abort(deadlineError);
          },
          onResponseStart(_controller, statusCode, responseHeaders) {
            status = statusCode;
            chunks.length = 0;
            const value = responseHeaders['cache-control'];
            cacheControl = Array.isArray(value) ? value.join(',') : value;
          },
          onResponseData(_controller, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            const text =
              chunks.length === 1
                ? chunks[0]!.toString('utf8')
                : Buffer.concat(chunks).toString('utf8');
            try {
              settle(undefined, replyOf(status, text, cacheControl));
            } catch (error) {
              settle(error);
            }
          },
          onResponseError(_controller, error) {
            settle(error);
          },
        },
      );
    } catch (error) {
      settle(error); // e.g. the agent closed (shutting down)
    }
  });
}

function replyOf(status: number, text: string, cacheControl: string | undefined): SubgraphReply {
  // A 400 carrying GraphQL errors is the subgraph refusing this request (e.g. a DateTime
  // literal the supergraph's opaque scalar let through), not the subgraph failing: it is
  // answered like any GraphQL result, so the client gets the subgraph's coded errors and the
  // breaker does not count it. Found by test/e2e/hostile-input.test.ts: as a failure, a few
  // `telemetry(from: "x")` requests opened fleet's breaker for every caller, and the message
  // carried the subgraph's raw response body.
  if (status === 400 && isGraphQLErrorResponse(text)) return { text, cacheControl: undefined };
  if (status < 200 || status >= 300) throw new SubgraphHttpError(status, text);
  return { text, cacheControl };
}
