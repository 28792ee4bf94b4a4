/**
 * How a subgraph fetch fails, as the router's SubgraphClient judges it: which answers are
 * failures, which failures may have run anyway (a mutation's unknown outcome), and what a
 * client is told (never an address, a subgraph's body or a stack: those go to the log).
 */

/** Thrown for a non-2xx subgraph answer; only 5xx (and transport errors) are retried. */
export class SubgraphHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

/** Whether `text` is a GraphQL response made of errors, each with a message. */
export function isGraphQLErrorResponse(text: string): boolean {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    return (
      Array.isArray(body.errors) &&
      body.errors.length > 0 &&
      body.errors.every(
        (error) => typeof (error as { message?: unknown } | null)?.message === 'string',
      )
    );
  } catch {
    return false;
  }
}

/**
 * Whether a failed fetch may still have run on the subgraph: anything but a refusal before
 * sending (breaker open, connection refused) or a 4xx the subgraph answered with.
 */
export function mayHaveExecuted(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code === 'EOPENBREAKER' || code === 'ECONNREFUSED') return false;
  return !(error instanceof SubgraphHttpError && error.status < 500);
}

/** How a fetch failed, in a few words fit for a client: no address, no body, no stack. */
export function failureOf(error: unknown): string {
  if (error instanceof SubgraphHttpError) return `HTTP ${error.status}`;
  const code = (error as { code?: string }).code;
  if (code === 'EOPENBREAKER') return 'circuit open';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ABORT_ERR' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return 'timed out';
  return 'request failed';
}
