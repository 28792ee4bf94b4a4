/**
 * The HTTP side of a subgraph fetch: one keep-alive pool per router process, and one POST with a
 * deadline on the whole answer (subgraphClient.ts does retries, the breaker and the rest).
 */
import { Agent, request, type Dispatcher } from 'undici';
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

export async function postToSubgraph(
  url: string,
  agent: Agent,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SubgraphReply> {
  // undici's headersTimeout and bodyTimeout bound the wait for the headers and each pause
  // between body chunks, not the whole answer: a subgraph streaming its body a few bytes at a
  // time held the request for as long as it streamed (test/faults/subgraph-loss.test.ts saw
  // ~10 s with a 400 ms timeout). One timer per attempt makes SUBGRAPH_TIMEOUT_MS a deadline.
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error(`no complete answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  let response: Dispatcher.ResponseData;
  let text: string;
  try {
    response = await request(url, {
      method: 'POST',
      headers,
      body,
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: deadline.signal,
    });
    text = await response.body.text();
  } finally {
    clearTimeout(timer);
  }
  // A 400 carrying GraphQL errors is the subgraph refusing this request (e.g. a DateTime
  // literal the supergraph's opaque scalar let through), not the subgraph failing: it is
  // answered like any GraphQL result, so the client gets the subgraph's coded errors and the
  // breaker does not count it. Found by test/e2e/hostile-input.test.ts: as a failure, a few
  // `telemetry(from: "x")` requests opened fleet's breaker for every caller, and the message
  // carried the subgraph's raw response body.
  if (response.statusCode === 400 && isGraphQLErrorResponse(text))
    return { text, cacheControl: undefined };
  if (response.statusCode < 200 || response.statusCode >= 300)
    throw new SubgraphHttpError(response.statusCode, text);
  const cacheControl = response.headers['cache-control'];
  return {
    text,
    cacheControl: Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl,
  };
}
