/**
 * Error masking at the edge: errors raised on purpose (the registry's codes, and Apollo
 * Server's and graphql-armor's request errors) reach the client with their message and only
 * the extensions clients need; anything else is logged and, in production, masked.
 */
import type { GraphQLFormattedError } from 'graphql';
import { codeOfFormattedError, ErrorCode, isExposedCode } from '../../platform/contract/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { RouterMetrics } from '../metrics.js';

export function formatRouterError(
  formatted: GraphQLFormattedError,
  error: unknown,
  metrics: RouterMetrics,
  logger: Logger,
  isProduction: boolean,
): GraphQLFormattedError {
  const code = codeOfFormattedError(formatted, error);
  if (isExposedCode(code)) {
    metrics.errors.inc({ code });
    // Subgraph errors arrive with the subgraph's extensions; keep only what clients need.
    return {
      ...formatted,
      message: withoutSyntaxErrorPrefix(formatted.message),
      extensions: { code, ...pick(formatted.extensions, ['argumentName', 'typename', 'subgraph']) },
    };
  }
  metrics.errors.inc({ code: ErrorCode.INTERNAL_SERVER_ERROR });
  logger.error({ error: formatted }, 'unexpected error');
  return {
    message: isProduction ? 'Internal server error' : formatted.message,
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

function pick(
  source: Record<string, unknown> | undefined,
  keys: string[],
): Record<string, unknown> {
  return Object.fromEntries(
    keys.filter((k) => source?.[k] !== undefined).map((k) => [k, source![k]]),
  );
}

/**
 * graphql-armor raises its limits (depth, aliases, tokens, directives) through graphql-js's
 * `syntaxError`, so they read "Syntax Error: Query depth limit of 12 exceeded, found 16." for a
 * document whose syntax is fine. The prefix is dropped for those; a real parse error keeps it.
 */
function withoutSyntaxErrorPrefix(message: string): string {
  return /^Syntax Error: .* limit of \d+ exceeded/.test(message)
    ? message.slice('Syntax Error: '.length)
    : message;
}
