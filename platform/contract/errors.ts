/**
 * The error-code registry: every GraphQL error this project raises on purpose has one of
 * these codes in `extensions.code`. Anything else is unexpected and masked at the edge.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const ErrorCode = {
  // Raised by resolvers (any subgraph) and by the router's own stages.
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  // Raised by the router only.
  /** Admission control: too many operations executing and queued (503, Retry-After). */
  SERVICE_OVERLOADED: 'SERVICE_OVERLOADED',
  /** A key restricted to trusted documents sent an operation that is not registered. */
  OPERATION_NOT_TRUSTED: 'OPERATION_NOT_TRUSTED',
  /** The operation's cost, with its variables' list sizes, exceeds MAX_QUERY_COST (400). */
  OPERATION_TOO_COSTLY: 'OPERATION_TOO_COSTLY',
  /** A subgraph fetch failed (down, timed out, breaker open): that subgraph's fields are null. */
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** An out-of-band cache purge could not reach Redis. */
  CACHE_UNAVAILABLE: 'CACHE_UNAVAILABLE',
  // Subscriptions (router/subscriptions/, docs/subscriptions.md): each ends a stream; the client
  // resumes with the last event id it received, except after EVENTS_EXPIRED.
  /** The subscriber did not read its events fast enough; its buffer of unsent events was full. */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** The resume point (`after`, Last-Event-ID) is older than the events retained: refetch. */
  EVENTS_EXPIRED: 'EVENTS_EXPIRED',
  /** Too many subscriptions open for this caller, or on this router process. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** The router is shutting down (SIGTERM): reconnect, to another instance, with the last id. */
  SERVER_RESTARTING: 'SERVER_RESTARTING',
  /** Anything not raised on purpose: logged with its stack, its message masked. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes whose messages are safe to show to clients as they are. */
export const EXPECTED_CODES: ReadonlySet<string> = new Set(
  Object.values(ErrorCode).filter((code) => code !== 'INTERNAL_SERVER_ERROR'),
);

/**
 * Codes Apollo Server and graphql-armor give requests refused before execution (and
 * {@link codeOfFormattedError}'s BAD_REQUEST): the client's mistake, safe to show.
 */
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** Whether an error with this code may reach a client with its message as it is. */
export function isExposedCode(code: string): boolean {
  return EXPECTED_CODES.has(code) || REQUEST_ERROR_CODES.has(code);
}

/** A bad argument: the message names the argument (`argumentName` is also in extensions). */
export function badUserInput(argumentName: string, problem: string): GraphQLError {
  return new GraphQLError(`Argument "${argumentName}" ${problem}`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName },
  });
}

export function notFound(typename: string, id: string): GraphQLError {
  return new GraphQLError(`${typename} ${id} was not found`, {
    extensions: { code: ErrorCode.NOT_FOUND, typename },
  });
}

export function conflict(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.CONFLICT } });
}

export function unauthenticated(message = 'Authentication is required'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
}

export function forbidden(message = 'Not allowed'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN } });
}

/**
 * The code of an error as formatted for a response. Apollo Server raises a few request errors
 * (an unsupported persisted-query version, a hash that does not match the query) with an HTTP
 * 4xx status but no code, and then labels them INTERNAL_SERVER_ERROR; they are the client's
 * mistake, so they are BAD_REQUEST (found by test/e2e/hostile-input.test.ts: they were logged
 * as unexpected errors and, in production, masked as "Internal server error" on a 400).
 */
export function codeOfFormattedError(formatted: GraphQLFormattedError, error: unknown): string {
  const code = String(formatted.extensions?.['code'] ?? '');
  if (code !== ErrorCode.INTERNAL_SERVER_ERROR || !(error instanceof GraphQLError)) return code;
  const status = (error.extensions['http'] as { status?: unknown } | undefined)?.status;
  const clientError = typeof status === 'number' && status >= 400 && status < 500;
  return error.extensions['code'] === undefined && clientError ? 'BAD_REQUEST' : code;
}
