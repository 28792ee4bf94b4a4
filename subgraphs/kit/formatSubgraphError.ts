/**
 * The subgraph's `formatError`: what of an error may reach a client.
 *
 * @remarks
 * Expected errors — a code of the registry, or one of Apollo's own request errors (parse,
 * validation), both decided by `isExposedCode` (platform/contract/errors.ts) — pass through as
 * they are. Anything else is logged with its stack and masked as INTERNAL_SERVER_ERROR, so
 * internals (CQL, hosts, stack traces) never reach a client. Every error is counted by the code
 * the client sees.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { codeOfFormattedError, ErrorCode, isExposedCode } from '../../platform/contract/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { SubgraphMetrics } from './metrics.js';

export function formatSubgraphError(
  formatted: GraphQLFormattedError,
  error: unknown,
  metrics: Pick<SubgraphMetrics, 'resolverErrors'>,
  logger: Logger,
): GraphQLFormattedError {
  const code = codeOfFormattedError(formatted, error);
  if (isExposedCode(code)) {
    metrics.resolverErrors.inc({ code });
    return { ...formatted, extensions: { ...formatted.extensions, code } };
  }
  metrics.resolverErrors.inc({ code: ErrorCode.INTERNAL_SERVER_ERROR });
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  logger.error({ err: original, path: formatted.path }, 'unexpected resolver error');
  return {
    message: 'Internal server error',
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
